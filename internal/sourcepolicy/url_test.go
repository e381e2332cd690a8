package sourcepolicy

import (
	"strings"
	"testing"
)

func TestNormalizeURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// One repository, every spelling.
		{"https://github.com/acme/shop", "https://github.com/acme/shop"},
		{"https://github.com/acme/shop.git", "https://github.com/acme/shop"},
		{"https://github.com/acme/shop/", "https://github.com/acme/shop"},
		{"https://github.com/acme/shop.git/", "https://github.com/acme/shop"},
		{"HTTPS://GitHub.COM/acme/shop", "https://github.com/acme/shop"},
		{"https://github.com./acme/shop", "https://github.com/acme/shop"},
		{"https://github.com:443/acme/shop", "https://github.com/acme/shop"},
		{"https://user:s3cret@github.com/acme/shop", "https://github.com/acme/shop"},
		{"git@github.com:acme/shop.git", "ssh://github.com/acme/shop"},
		{"github.com:acme/shop", "ssh://github.com/acme/shop"},
		{"ssh://git@github.com/acme/shop.git", "ssh://github.com/acme/shop"},
		{"ssh://git@GITHUB.com:22/acme/shop/", "ssh://github.com/acme/shop"},
		// Paths that lead elsewhere are named by where they lead.
		{"https://github.com/acme/../evil/shop", "https://github.com/evil/shop"},
		{"https://github.com/acme/%2e%2e/evil/shop", "https://github.com/evil/shop"},
		{"https://github.com/acme/./shop", "https://github.com/acme/shop"},
		{"https://github.com//acme/shop", "https://github.com/acme/shop"},
		{"https://github.com/../../acme/shop", "https://github.com/acme/shop"},
		{"git@github.com:acme/../evil/shop", "ssh://github.com/evil/shop"},
		// The host is where the URL leads, not what its user name says.
		{"https://github.com@evil.example/acme/shop", "https://evil.example/acme/shop"},
		{"https://github.com%2Facme%2Fshop@evil.example/x", "https://evil.example/x"},
		// Other ports and schemes are other repositories.
		{"https://github.com:8443/acme/shop", "https://github.com:8443/acme/shop"},
		{"http://github.com/acme/shop", "http://github.com/acme/shop"},
		{"ssh://git@github.com:2222/acme/shop", "ssh://github.com:2222/acme/shop"},
		{"oci://ghcr.io/acme/charts", "oci://ghcr.io/acme/charts"},
		{"https://[::1]:8443/shop", "https://[::1]:8443/shop"},
		// Paths on the controller's disk.
		{"/srv/git/shop", "file:///srv/git/shop"},
		{"file:///srv/git/../shop.git", "file:///srv/shop"},
		// Case is kept where servers may tell it apart.
		{"https://github.com/Acme/Shop", "https://github.com/Acme/Shop"},
	} {
		got, err := NormalizeURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNormalizeURLRefusesWhatNamesNoRepository(t *testing.T) {
	for _, in := range []string{
		"https://github.com/acme/shop?ref=x",
		"https://github.com/acme/shop#main",
		"https:///acme/shop",
		"https://github.com:notaport/acme",
		"https://git%zzhub.com/acme",
	} {
		if got, err := NormalizeURL(in); err == nil {
			t.Errorf("NormalizeURL(%q) = %q, want an error", in, got)
		} else if strings.Contains(err.Error(), "acme") {
			t.Errorf("NormalizeURL(%q): the error %q quotes the URL, which may hold credentials", in, err)
		}
	}
}
