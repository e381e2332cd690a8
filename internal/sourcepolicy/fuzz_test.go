package sourcepolicy

import (
	"path"
	"strings"
	"testing"
)

// FuzzNormalizeURL feeds NormalizeURL arbitrary input: it never panics,
// and what it returns is in normal form (no user, no "." or ".." segment,
// no trailing slash or ".git", lower-case scheme and host) and, when it
// parses again, its own normal form.
func FuzzNormalizeURL(f *testing.F) {
	for _, seed := range []string{
		"https://github.com/acme/shop.git", "git@github.com:acme/shop", "ssh://git@host:2222/a/../b/",
		"https://u:p@HOST./x/%2e%2e/y", "file:///srv/x", "/srv/x", "oci://ghcr.io/a", "https://[::1]:1/x",
		"https://a@b@c/x", "host:", "::", "https://h/a%20b",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := NormalizeURL(raw)
		if err != nil {
			return
		}
		scheme, rest, ok := strings.Cut(got, "://")
		if !ok {
			t.Fatalf("NormalizeURL(%q) = %q: no scheme", raw, got)
		}
		host, p, _ := strings.Cut(rest, "/")
		p = "/" + p
		switch {
		case scheme != strings.ToLower(scheme) || host != strings.ToLower(host):
			t.Errorf("NormalizeURL(%q) = %q: scheme or host not lower-case", raw, got)
		case strings.Contains(host, "@"):
			t.Errorf("NormalizeURL(%q) = %q: user info kept", raw, got)
		case p != "/" && (path.Clean(p) != p || strings.HasSuffix(p, ".git")):
			t.Errorf("NormalizeURL(%q) = %q: path not clean", raw, got)
		}
		if again, err := NormalizeURL(got); err == nil && again != got {
			t.Errorf("NormalizeURL(%q) = %q, but NormalizeURL(%q) = %q", raw, got, got, again)
		}
	})
}
