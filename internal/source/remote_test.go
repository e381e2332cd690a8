package source

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

func TestRemote(t *testing.T) {
	const url = "https://alice:url-secret@git.example.com/shop/deploy.git"
	r, err := NewRemote(url, Credentials{Username: "alice", Password: "cred-secret"}, t.TempDir(), RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Display(), "https://redacted@git.example.com/shop/deploy.git"; got != want {
		t.Errorf("Display = %q, want %q", got, want)
	}
	if auth, ok := r.Auth().(*githttp.BasicAuth); !ok || auth.Password != "cred-secret" {
		t.Errorf("Auth = %v, want basic auth with the credentials", r.Auth())
	}
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("push: %w", transport.ErrAuthenticationRequired), "authentication failed: the credentials were rejected"},
		{errors.New("POST " + url + ": cred-secret and url-secret"), "POST https://redacted@git.example.com/shop/deploy.git: [redacted] and [redacted]"},
	}
	for _, tt := range tests {
		if got := r.Describe(tt.err); got != tt.want {
			t.Errorf("Describe(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if got := r.GoGit(nil).Config().URLs; len(got) != 1 || got[0] != url {
		t.Errorf("GoGit's URLs = %v, want the URL as given", got)
	}
}

func TestNewRemoteErrorsHideCredentials(t *testing.T) {
	tests := []struct {
		url   string
		creds Credentials
		want  string
	}{
		{"", Credentials{}, "no repository URL"},
		{"ssh://git@host/repo", Credentials{Identity: []byte("secret-not-a-key"), KnownHosts: []byte("host ssh-ed25519 AAAA\n")}, "parse SSH private key"},
		{"ssh://git@host/repo", Credentials{Identity: []byte("secret-key")}, "SSH needs known_hosts"},
		{"file:///srv/repo", Credentials{}, "are not allowed unless it runs with --allow-file-sources"},
		{"/srv/repo", Credentials{}, "are not allowed unless it runs with --allow-file-sources"},
	}
	for _, tt := range tests {
		r, err := NewRemote(tt.url, tt.creds, t.TempDir(), RemoteOptions{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewRemote(%q) error = %v, want one containing %q", tt.url, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("NewRemote(%q) error %q shows a credential", tt.url, err)
		}
		if r == nil || r.Display() != tt.url {
			t.Errorf("NewRemote(%q) returned no Remote to display with its error", tt.url)
		}
	}
}

func TestFileSourcesAreAllowedOnlyWhenAsked(t *testing.T) {
	for _, url := range []string{"file:///srv/repo", "/srv/repo", "../repo"} {
		if _, err := NewRemote(url, Credentials{}, t.TempDir(), RemoteOptions{}); !errors.Is(err, ErrFileSourceNotAllowed) {
			t.Errorf("NewRemote(%q) error = %v, want ErrFileSourceNotAllowed", url, err)
		}
		if _, err := NewRemote(url, Credentials{}, t.TempDir(), RemoteOptions{AllowFileSources: true}); err != nil {
			t.Errorf("NewRemote(%q) allowing file sources: %v", url, err)
		}
	}
}
