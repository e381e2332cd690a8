package source

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

func TestSSHAddress(t *testing.T) {
	tests := []struct{ url, want string }{
		{"git@github.com:org/repo.git", "github.com:22"},
		{"ssh://git@git.example.com/org/repo.git", "git.example.com:22"},
		{"ssh://git@127.0.0.1:2222/repo.git", "127.0.0.1:2222"},
		{"ssh://git@[::1]:2222/repo.git", "[::1]:2222"},
	}
	for _, tt := range tests {
		ep, err := transport.NewEndpoint(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if ep.Protocol != "ssh" {
			t.Errorf("%s: protocol %q, want ssh", tt.url, ep.Protocol)
		}
		if got := sshAddress(ep); got != tt.want {
			t.Errorf("sshAddress(%s) = %s, want %s", tt.url, got, tt.want)
		}
	}
}

func TestHTTPAuth(t *testing.T) {
	tests := []struct {
		name  string
		creds Credentials
		want  *githttp.BasicAuth
	}{
		{"anonymous", Credentials{}, nil},
		{"user and password", Credentials{Username: "alice", Password: "pw"}, &githttp.BasicAuth{Username: "alice", Password: "pw"}},
		{"token alone", Credentials{Password: "tok"}, &githttp.BasicAuth{Username: defaultHTTPUser, Password: "tok"}},
	}
	for _, tt := range tests {
		got, _ := httpAuth(tt.creds).(*githttp.BasicAuth)
		if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
			t.Errorf("%s: httpAuth = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
