package server

import (
	"strings"
	"testing"
)

func TestRepoKeyNamesTheRepositoryWhateverTheProtocol(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"https://github.com/shop/deploy", "github.com/shop/deploy"},
		{"https://github.com/shop/deploy.git", "github.com/shop/deploy"},
		{"https://github.com/shop/deploy/", "github.com/shop/deploy"},
		{"https://github.com/shop/deploy.git/", "github.com/shop/deploy"},
		{"https://GitHub.COM/shop/deploy", "github.com/shop/deploy"},
		{"https://x-access-token:s3cret@github.com/shop/deploy.git", "github.com/shop/deploy"},
		{"http://github.com:8080/shop/deploy", "github.com/shop/deploy"},
		{"ssh://git@github.com/shop/deploy.git", "github.com/shop/deploy"},
		{"ssh://git@github.com:2222/shop/deploy.git", "github.com/shop/deploy"},
		{"git@github.com:shop/deploy.git", "github.com/shop/deploy"},
		{"git@github.com:shop/deploy", "github.com/shop/deploy"},
		{"github.com:shop/deploy", "github.com/shop/deploy"},
		{"git@GITHUB.com:/shop/deploy.git", "github.com/shop/deploy"},
		{"git://github.com/shop/deploy.git", "github.com/shop/deploy"},
		{"  https://github.com/shop/deploy  ", "github.com/shop/deploy"},
		{"https://gitlab.example.com/group/sub/deploy.git", "gitlab.example.com/group/sub/deploy"},
		{"https://github.com/Shop/Deploy", "github.com/Shop/Deploy"},
		{"file:///srv/git/deploy", "/srv/git/deploy"},
		{"file:///srv/git/deploy.git/", "/srv/git/deploy"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, ok := repoKey(tt.url)
			if !ok || got != tt.want {
				t.Errorf("repoKey(%q) = %q, %v; want %q", tt.url, got, ok, tt.want)
			}
		})
	}
}

func TestRepoKeyRefusesWhatIsNoRepository(t *testing.T) {
	for _, url := range []string{"", "   ", "deploy", "/srv/git/deploy", "https://github.com", "https://github.com/", "git@github.com:", "https://[::1/x", "https://github.com/.git"} {
		if got, ok := repoKey(url); ok {
			t.Errorf("repoKey(%q) = %q, want no key", url, got)
		}
	}
}

func FuzzRepoKey(f *testing.F) {
	for _, seed := range []string{"https://github.com/shop/deploy.git", "git@github.com:shop/deploy", "ssh://git@host:22/a/b/", "file:///srv/x", "a@b:c"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, url string) {
		key, ok := repoKey(url)
		if !ok {
			return
		}
		if strings.HasSuffix(key, "/") {
			t.Errorf("repoKey(%q) = %q keeps a trailing slash", url, key)
		}
		if strings.Contains(key, "@") && !strings.Contains(url, "@") {
			t.Errorf("repoKey(%q) = %q invents user info", url, key)
		}
	})
}
