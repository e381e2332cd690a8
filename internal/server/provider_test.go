package server

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// providerNamed returns the provider served at /hooks/name.
func providerNamed(t testing.TB, name string) provider {
	t.Helper()
	for _, p := range providers() {
		if p.name == name {
			return p
		}
	}
	t.Fatalf("no provider %q", name)
	return provider{}
}

func readPayload(t testing.TB, name string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func TestProvidersReadPushes(t *testing.T) {
	tests := []struct {
		provider, payload string
		header            http.Header
		wantRef           string
		wantKeys          []string
	}{
		{"github", "github-push.json", http.Header{"X-Github-Event": {"push"}}, "refs/heads/main", []string{"github.com/shop/deploy"}},
		{"gitlab", "gitlab-push.json", http.Header{"X-Gitlab-Event": {"Push Hook"}}, "refs/heads/main", []string{"gitlab.example.com/shop/deploy"}},
		{"gitlab", "gitlab-tag-push.json", http.Header{"X-Gitlab-Event": {"Tag Push Hook"}}, "refs/tags/v1.2.0", []string{"gitlab.example.com/shop/deploy"}},
		{"gitea", "gitea-push.json", http.Header{"X-Gitea-Event": {"push"}}, "refs/heads/release", []string{"codeberg.org/shop/deploy"}},
		{"gitea", "gitea-push.json", http.Header{"X-Forgejo-Event": {"push"}}, "refs/heads/release", []string{"codeberg.org/shop/deploy"}},
		{"generic", "generic-push.json", http.Header{}, "refs/heads/main", []string{"git.example.com/shop/deploy"}},
	}
	for _, tt := range tests {
		t.Run(tt.payload, func(t *testing.T) {
			push, err := providerNamed(t, tt.provider).parse(tt.header, readPayload(t, tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if push.Ref != tt.wantRef || !slices.Equal(push.keys(), tt.wantKeys) {
				t.Errorf("push = %s of %v, want %s of %v", push.Ref, push.keys(), tt.wantRef, tt.wantKeys)
			}
		})
	}
}

func TestProvidersIgnoreEventsThatAreNoPush(t *testing.T) {
	tests := []struct {
		provider string
		header   http.Header
	}{
		{"github", http.Header{"X-Github-Event": {"ping"}}},
		{"github", http.Header{}},
		{"gitlab", http.Header{"X-Gitlab-Event": {"Merge Request Hook"}}},
		{"gitea", http.Header{"X-Gitea-Event": {"create"}}},
		{"gitea", http.Header{"X-Forgejo-Event": {"issues"}}},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			_, err := providerNamed(t, tt.provider).parse(tt.header, readPayload(t, "github-ping.json"))
			if !errors.Is(err, errNotPush) {
				t.Errorf("parse = %v, want an event ignored as no push", err)
			}
		})
	}
}

func TestProvidersRefuseMalformedPayloads(t *testing.T) {
	tests := []struct {
		name, body string
	}{
		{"not JSON", "ref=refs/heads/main"},
		{"truncated", `{"repository": "https://git.example.com/shop/deploy"`},
		{"wrong types", `{"repository": ["x"], "ref": 1}`},
		{"no ref", `{"repository": "https://git.example.com/shop/deploy"}`},
		{"a ref that is no branch or tag", `{"repository": "https://git.example.com/shop/deploy", "ref": "main"}`},
		{"no repository", `{"ref": "refs/heads/main"}`},
		{"a repository that is no URL", `{"repository": "deploy", "ref": "refs/heads/main"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := providerNamed(t, "generic").parse(http.Header{}, []byte(tt.body))
			if err == nil || errors.Is(err, errNotPush) {
				t.Errorf("parse = %v, want a malformed payload", err)
			}
		})
	}
}

// FuzzParsers feeds every provider arbitrary bodies: none may panic, and a
// push each accepts has a branch or tag ref and a repository.
func FuzzParsers(f *testing.F) {
	for _, name := range []string{"github-push.json", "github-ping.json", "gitlab-push.json", "gitlab-tag-push.json", "gitea-push.json", "generic-push.json"} {
		f.Add(readPayload(f, name))
	}
	header := http.Header{"X-Github-Event": {"push"}, "X-Gitlab-Event": {"Push Hook"}, "X-Gitea-Event": {"push"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, p := range providers() {
			push, err := p.parse(header, body)
			if err != nil {
				continue
			}
			if !strings.HasPrefix(push.Ref, "refs/") || len(push.Ref) <= len(tagPrefix) || len(push.keys()) == 0 {
				t.Errorf("%s accepted %q as a push of %q to %v", p.name, body, push.Ref, push.keys())
			}
		}
	})
}
