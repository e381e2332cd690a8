package promotion

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/source"
)

// checkouts are the trees of commits, by commit.
type checkouts map[string]string

func (c checkouts) FetchSince(_ context.Context, url string, ref weirv1.GitRef, _ source.Credentials, _ time.Time) (source.Artifact, error) {
	dir, ok := c[ref.Commit]
	if !ok {
		return source.Artifact{}, fmt.Errorf("%s: no commit %s", url, ref.Commit)
	}
	return source.Artifact{Commit: ref.Commit, Dir: dir}, nil
}

// checkout writes files into a tree of commit rev1 and returns it.
func checkout(t *testing.T, files map[string]string) checkouts {
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return checkouts{strings.Repeat("1", 40): dir}
}

// valuesPipeline promotes values.yaml's image.tag and resources alone.
func valuesPipeline() *weirv1.Pipeline {
	p := pipeline(0)
	p.Spec.Images = nil
	p.Spec.Values = []weirv1.PipelineValues{{File: "values.yaml", Paths: []string{"image.tag", "resources"}}}
	return p
}

const devValues = "image: {tag: 1.5.0}\nresources: {cpu: 500m}\nreplicaCount: 1\n"

// The values dev's file holds at the revision dev runs released are
// committed to staging's file, which keeps its comments and the fields
// not promoted; prod, which holds what staging runs, gets nothing.
func TestValuesReleasedInAStageAreCommittedToTheNext(t *testing.T) {
	staging := "image:\n  tag: 1.4.0 # weir promotes it\nresources: {cpu: 250m}\nreplicaCount: 2\n"
	files := map[string]string{"dev/values.yaml": devValues, "staging/values.yaml": staging, "prod/values.yaml": staging}
	pr, c, rec := promoter(t, objects(stageObjects("dev", "1.0.0"), stageObjects("staging", "1.0.0"), stageObjects("prod", "1.0.0"))...)
	pr.Source = checkout(t, files)
	c.files = map[string][]byte{"staging/values.yaml": []byte(staging), "prod/values.yaml": []byte(staging)}
	p := valuesPipeline()
	if err := pr.Check(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Status.Stages[0].Values, ", "); got != "values.yaml image.tag=1.5.0, values.yaml resources=sha256:11b9c42ddbb6" {
		t.Errorf("dev's values = %s", got)
	}
	if len(c.reqs) != 1 || c.reqs[0].Path != "staging" ||
		!strings.HasPrefix(c.reqs[0].Message, "Promote values.yaml image.tag=1.5.0, values.yaml resources=sha256:11b9c42ddbb6 to staging") {
		t.Fatalf("commits = %+v, want one to staging", c.reqs)
	}
	want := "image:\n  tag: 1.5.0 # weir promotes it\nresources: {cpu: 500m}\nreplicaCount: 2\n"
	if got := string(c.files["staging/values.yaml"]); got != want {
		t.Errorf("staging/values.yaml:\n%s\nwant:\n%s", got, want)
	}
	if got := p.Status.Changes; len(got) != 1 || len(got[0].Values) != 2 || got[0].Stage != "staging" {
		t.Errorf("changes = %+v", got)
	}
	if e := <-rec.Events; !strings.Contains(e, "Committed values.yaml image.tag=1.5.0") {
		t.Errorf("event = %q", e)
	}
}

// Images and values move together, in one commit.
func TestImagesAndValuesMoveInOneCommit(t *testing.T) {
	staging := "image: {tag: 1.4.0}\nresources: {cpu: 250m}\n"
	web := "image: " + repo + ":1.0.0 # {\"$imagepolicy\": \"shop:web\"}\n"
	pr, c, _ := promoter(t, objects(stageObjects("dev", "1.1.0"), stageObjects("staging", "1.0.0"), stageObjects("prod", "1.0.0"))...)
	pr.Source = checkout(t, map[string]string{"dev/values.yaml": devValues, "staging/values.yaml": staging, "prod/values.yaml": staging})
	c.files = map[string][]byte{"staging/values.yaml": []byte(staging), "staging/web.yaml": []byte(web)}
	p := valuesPipeline()
	p.Spec.Images = pipeline(0).Spec.Images
	if err := pr.Check(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if len(c.reqs) != 1 || !strings.HasPrefix(c.reqs[0].Message, "Promote "+repo+":1.1.0, values.yaml image.tag=1.5.0") {
		t.Fatalf("commits = %+v", c.reqs)
	}
	if got := string(c.files["staging/web.yaml"]); !strings.Contains(got, repo+":1.1.0") {
		t.Errorf("staging/web.yaml:\n%s", got)
	}
	if got := string(c.files["staging/values.yaml"]); !strings.Contains(got, "tag: 1.5.0") {
		t.Errorf("staging/values.yaml:\n%s", got)
	}
}

func TestValuesErrorsNameTheFileAndThePath(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"a field missing where the change comes from",
			map[string]string{"dev/values.yaml": "image: {tag: 1.5.0}\n", "staging/values.yaml": "image: {tag: 1.4.0}\n", "prod/values.yaml": "image: {tag: 1.4.0}\n"},
			"stage dev: dev/values.yaml: resources: no such field to promote"},
		{"a file missing in a stage",
			map[string]string{"dev/values.yaml": devValues, "prod/values.yaml": devValues},
			"stage staging: staging/values.yaml at " + rev1 + ": no such file or directory"},
		{"a path through a scalar in the next stage's file",
			map[string]string{"dev/values.yaml": devValues, "staging/values.yaml": "image: web:1.4.0\nresources: {}\n", "prod/values.yaml": devValues},
			"stage staging: staging/values.yaml at " + rev1 + ": image.tag: image is a scalar, not a mapping"},
	} {
		pr, c, _ := promoter(t, objects(stageObjects("dev", "1.0.0"), stageObjects("staging", "1.0.0"), stageObjects("prod", "1.0.0"))...)
		pr.Source = checkout(t, tc.files)
		c.files = map[string][]byte{"staging/values.yaml": []byte(tc.files["staging/values.yaml"])}
		err := pr.Check(context.Background(), valuesPipeline())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestStageFile(t *testing.T) {
	app := &weirv1.Application{}
	for _, tc := range []struct{ path, file, want string }{
		{"staging", "values.yaml", "staging/values.yaml"},
		{"./deploy/staging/", "base/../values.yaml", "deploy/staging/values.yaml"},
		{"", "values.yaml", "values.yaml"},
		{"staging", "../prod/values.yaml", ""},
		{"staging", "/values.yaml", ""},
	} {
		app.Spec.Source.Path = tc.path
		got, err := stageFile(app, tc.file)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("stageFile(%q, %q) = %q, %v; want %q", tc.path, tc.file, got, err, tc.want)
		}
	}
}

func TestCommitOf(t *testing.T) {
	hex := strings.Repeat("a", 40)
	for rev, want := range map[string]string{
		"main@sha1:" + hex:                       hex,
		"sha1:" + hex:                            hex,
		"main@sha1:" + hex + ", chart web@1.2.0": hex,
		"web@1.2.0":                              "",
	} {
		if got := commitOf(rev); got != want {
			t.Errorf("commitOf(%q) = %q, want %q", rev, got, want)
		}
	}
}
