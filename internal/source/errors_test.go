package source

import (
	"context"
	"strings"
	"testing"

	"weir.dev/weir/api/v1alpha1"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://host/org/repo.git", "https://host/org/repo.git"},
		{"https://user:pass@host/repo.git", "https://redacted@host/repo.git"},
		{"https://ghp_token@host:8443/repo.git", "https://redacted@host:8443/repo.git"},
		{"HTTP://u:p@host/r", "HTTP://redacted@host/r"},
		{"https://u:p@ss@host/r", "https://redacted@host/r"},
		{"https://host/path@with-at", "https://host/path@with-at"},
		{"ssh://git@host:2222/repo.git", "ssh://git@host:2222/repo.git"},
		{"ssh://git:secret@host/repo.git", "ssh://git:redacted@host/repo.git"},
		{"git@github.com:org/repo.git", "git@github.com:org/repo.git"},
		{"git:secret@github.com:org/repo.git", "git:redacted@github.com:org/repo.git"},
		{"file:///srv/git/repo", "file:///srv/git/repo"},
		{"/srv/git/repo", "/srv/git/repo"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestErrorsHideCredentials fails to reach a closed loopback port with
// credentials in every place they can be given, and looks for them in the
// error.
func TestErrorsHideCredentials(t *testing.T) {
	t.Parallel()
	const (
		urlToken    = "ghp_urltoken0123456789"
		urlPassword = "url-password-0123"
		password    = "creds-password-0123"
	)
	tests := []struct {
		name  string
		url   string
		creds Credentials
	}{
		{"token as URL user", "https://" + urlToken + "@127.0.0.1:1/repo.git", Credentials{}},
		{"URL password", "https://alice:" + urlPassword + "@127.0.0.1:1/repo.git", Credentials{}},
		{"credentials", "https://127.0.0.1:1/repo.git", Credentials{Username: "alice", Password: password}},
		{"token", "http://127.0.0.1:1/repo.git", Credentials{Password: password}},
	}
	f := NewFetcher(t.TempDir(), Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), tt.url, v1alpha1.GitRef{Tag: "v1"}, tt.creds)
			if err == nil {
				t.Fatal("Fetch from a closed port succeeded")
			}
			msg := err.Error()
			for _, secret := range []string{urlToken, urlPassword, password} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q shows a credential", msg)
				}
			}
			if want := "fetch tag v1 from " + redactURL(tt.url) + ": "; !strings.HasPrefix(msg, want) {
				t.Errorf("error %q does not start with %q", msg, want)
			}
		})
	}
}
