package server

import (
	"testing"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

func TestTracksMatchesTheRefAnApplicationDeploys(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name    string
		ref     weirv1.GitRef
		suspend bool
		pushed  string
		want    bool
	}{
		{"default branch pushed", weirv1.GitRef{}, false, "refs/heads/main", true},
		{"other branch pushed", weirv1.GitRef{}, false, "refs/heads/other", false},
		{"tracked branch pushed", weirv1.GitRef{Branch: "release"}, false, "refs/heads/release", true},
		{"main pushed, release tracked", weirv1.GitRef{Branch: "release"}, false, "refs/heads/main", false},
		{"branch named like a tag", weirv1.GitRef{Branch: "v1"}, false, "refs/tags/v1", false},
		{"tag pushed", weirv1.GitRef{Tag: "v1.2.0"}, false, "refs/tags/v1.2.0", true},
		{"other tag pushed", weirv1.GitRef{Tag: "v1.2.0"}, false, "refs/tags/v1.3.0", false},
		{"branch pushed, tag deployed", weirv1.GitRef{Tag: "main"}, false, "refs/heads/main", false},
		{"any tag, semver", weirv1.GitRef{SemVer: ">=1.0.0"}, false, "refs/tags/v2.0.0", true},
		{"branch pushed, semver", weirv1.GitRef{SemVer: ">=1.0.0"}, false, "refs/heads/main", false},
		{"commit pinned, branch", weirv1.GitRef{Commit: sha}, false, "refs/heads/main", false},
		{"commit pinned, tag", weirv1.GitRef{Commit: sha}, false, "refs/tags/v1", false},
		{"suspended", weirv1.GitRef{}, true, "refs/heads/main", false},
		{"a note ref", weirv1.GitRef{}, false, "refs/notes/commits", false},
		{"no prefix", weirv1.GitRef{}, false, "main", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &weirv1.Application{Spec: weirv1.ApplicationSpec{Source: weirv1.GitSource{Ref: tt.ref}, Suspend: tt.suspend}}
			if got := tracks(app, tt.pushed); got != tt.want {
				t.Errorf("tracks(%s, %s) = %v, want %v", tt.ref, tt.pushed, got, tt.want)
			}
		})
	}
}
