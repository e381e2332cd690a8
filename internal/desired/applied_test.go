package desired

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/render"
	"weir.dev/weir/internal/source"
)

// refFetcher resolves every ref to commit, naming it as the source stage
// does, and records the ref it was asked for.
type refFetcher struct {
	commit string
	asked  weirv1.GitRef
}

func (f *refFetcher) FetchSince(_ context.Context, _ string, ref weirv1.GitRef, _ source.Credentials, _ time.Time) (source.Artifact, error) {
	f.asked = ref
	a := source.Artifact{Commit: f.commit, Revision: "sha1:" + f.commit}
	if name := ref.Tag + ref.Branch; name != "" {
		a.Revision = name + "@" + a.Revision
	}
	return a, nil
}

// noObjects renders nothing.
type noObjects struct{}

func (noObjects) Render(context.Context, string, string, render.Options, *decrypt.Decryptor) ([]*unstructured.Unstructured, error) {
	return nil, nil
}

// TestLoadApplied: the revision applied last is loaded again by its commit
// for a branch, by its tag for a tag or a semver range, and refused when
// it no longer loads as itself.
func TestLoadApplied(t *testing.T) {
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	tests := []struct {
		name    string
		ref     weirv1.GitRef
		applied string
		now     string // the commit the fetch finds
		asked   weirv1.GitRef
		wantErr string
	}{
		{name: "branch", applied: "main@sha1:" + a, now: a, asked: weirv1.GitRef{Commit: a}},
		{name: "commit", ref: weirv1.GitRef{Commit: a}, applied: "sha1:" + a, now: a, asked: weirv1.GitRef{Commit: a}},
		{name: "semver range", ref: weirv1.GitRef{SemVer: "^1"}, applied: "v1.2.0@sha1:" + a, now: a, asked: weirv1.GitRef{Tag: "v1.2.0"}},
		{name: "tag moved", ref: weirv1.GitRef{Tag: "v1.2.0"}, applied: "v1.2.0@sha1:" + a, now: b, asked: weirv1.GitRef{Tag: "v1.2.0"},
			wantErr: "loads as v1.2.0@sha1:" + b},
		{name: "no commit", applied: "main", wantErr: "names no commit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fetcher := &refFetcher{commit: tt.now}
			l := &Loader{Reader: fake.NewClientBuilder().Build(), Fetcher: fetcher, Renderer: noObjects{}}
			app := &weirv1.Application{}
			app.Spec.Source.Ref = tt.ref
			app.Spec.Render.Type = render.TypePlain
			app.Spec.Sync.AllowEmpty = true
			app.Status.LastAppliedRevision = tt.applied
			state, err := l.LoadApplied(context.Background(), app)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadApplied: %v, want an error with %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case state.Artifact.Revision != tt.applied:
				t.Errorf("revision %s, want %s", state.Artifact.Revision, tt.applied)
			}
			if fetcher.asked != tt.asked {
				t.Errorf("fetched %+v, want %+v", fetcher.asked, tt.asked)
			}
		})
	}
}
