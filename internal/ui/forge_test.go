package ui

import "testing"

func TestCommitURL(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct{ repo, commit, want string }{
		{"https://github.com/acme/shop.git", sha, "https://github.com/acme/shop/commit/" + sha},
		{"https://github.com/acme/shop", "main@sha1:" + sha, "https://github.com/acme/shop/commit/" + sha},
		{"git@github.com:acme/shop.git", sha, "https://github.com/acme/shop/commit/" + sha},
		{"ssh://git@gitlab.com/group/sub/shop.git", sha, "https://gitlab.com/group/sub/shop/-/commit/" + sha},
		{"https://bitbucket.org/acme/shop", sha, "https://bitbucket.org/acme/shop/commits/" + sha},
		{"https://codeberg.org/acme/shop/", sha, "https://codeberg.org/acme/shop/commit/" + sha},
		{"https://git.example.com/acme/shop.git", sha, ""},
		{"file:///tmp/repo", sha, ""},
		{"https://github.com/acme", sha, ""},
		{"https://github.com/acme/shop", "not-a-sha", ""},
		{"https://github.com/acme/shop", "\"><script>", ""},
	} {
		if got := commitURL(tc.repo, tc.commit); got != tc.want {
			t.Errorf("commitURL(%q, %q) = %q, want %q", tc.repo, tc.commit, got, tc.want)
		}
	}
}
