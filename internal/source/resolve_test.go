package source

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"weir.dev/weir/api/v1alpha1"
)

func TestResolve(t *testing.T) {
	h := func(c byte) plumbing.Hash { return plumbing.NewHash(fullSHA1String(c)) }
	adv := advertised{
		refs: map[string]plumbing.Hash{
			"HEAD":                  h('1'),
			"refs/heads/main":       h('1'),
			"refs/heads/release":    h('2'),
			"refs/tags/v1.0.0":      h('2'),
			"refs/tags/1.2.0":       h('3'),
			"refs/tags/v1.2.0":      h('3'),
			"refs/tags/v2.0.0-rc.1": h('4'), // annotated tag object
			"refs/tags/latest":      h('5'),
			"refs/pull/7/head":      h('6'),
		},
		peeled: map[string]plumbing.Hash{"refs/tags/v2.0.0-rc.1": h('7')},
	}
	tests := []struct {
		name string
		ref  v1alpha1.GitRef
		want target
	}{
		{"default branch", v1alpha1.GitRef{}, target{name: "main", commit: h('1'), ref: "refs/heads/main"}},
		{"branch", v1alpha1.GitRef{Branch: "release"}, target{name: "release", commit: h('2'), ref: "refs/heads/release"}},
		{"tag", v1alpha1.GitRef{Tag: "v1.0.0"}, target{name: "v1.0.0", commit: h('2'), ref: "refs/tags/v1.0.0"}},
		{"annotated tag peels, and keeps the tag", v1alpha1.GitRef{Tag: "v2.0.0-rc.1"},
			target{name: "v2.0.0-rc.1", commit: h('7'), ref: "refs/tags/v2.0.0-rc.1", tag: h('4')}},
		{"semver highest", v1alpha1.GitRef{SemVer: ">=1.0.0"}, target{name: "1.2.0", commit: h('3'), ref: "refs/tags/1.2.0"}},
		{"semver bounded", v1alpha1.GitRef{SemVer: "<1.1"}, target{name: "v1.0.0", commit: h('2'), ref: "refs/tags/v1.0.0"}},
		{"semver prerelease", v1alpha1.GitRef{SemVer: ">=2.0.0-0"},
			target{name: "v2.0.0-rc.1", commit: h('7'), ref: "refs/tags/v2.0.0-rc.1", tag: h('4')}},
		{"commit at a branch tip", v1alpha1.GitRef{Commit: fullSHA1String('1')},
			target{commit: h('1'), ref: "refs/heads/main", pinned: true}},
		{"commit at a peeled tag", v1alpha1.GitRef{Commit: fullSHA1String('7')},
			target{commit: h('7'), ref: "refs/tags/v2.0.0-rc.1", pinned: true}},
		{"commit only under another namespace", v1alpha1.GitRef{Commit: fullSHA1String('6')},
			target{commit: h('6'), pinned: true}},
		{"commit in history", v1alpha1.GitRef{Commit: fullSHA1String('9')}, target{commit: h('9'), pinned: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolve(tt.ref, adv)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("resolve = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestValidateRef(t *testing.T) {
	sha := fullSHA1String('a')
	tests := []struct {
		ref  v1alpha1.GitRef
		want string // error substring; empty for valid
	}{
		{v1alpha1.GitRef{}, ""},
		{v1alpha1.GitRef{Branch: "main"}, ""},
		{v1alpha1.GitRef{Commit: sha}, ""},
		{v1alpha1.GitRef{Branch: "main", SemVer: "^1"}, "at most one"},
		{v1alpha1.GitRef{Tag: "v1", Commit: sha}, "at most one"},
		{v1alpha1.GitRef{Commit: "abc123"}, "full SHA-1"},
		{v1alpha1.GitRef{Commit: strings.ToUpper(sha)}, "full SHA-1"},
	}
	for _, tt := range tests {
		err := validateRef(tt.ref)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("validateRef(%+v) = %v, want %q", tt.ref, err, tt.want)
		}
	}
}
