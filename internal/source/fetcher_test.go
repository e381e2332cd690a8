package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// refsRepo is a repository with history, branches and both kinds of tags:
//
//	c0 ── c1 (release, v1.0.0) ── c2 (v1.1.0 annotated) ── c3 (main, v2.0.0-rc.1)
type refsRepo struct {
	*testenv.GitRepo
	c0, c1, c2, c3 string
}

func newRefsRepo(t testing.TB) *refsRepo {
	r := &refsRepo{GitRepo: testenv.NewGitRepo(t)}
	r.c0 = commitFiles(r.GitRepo, "Initial commit", map[string]string{"version": "0"})
	r.c1 = commitFiles(r.GitRepo, "Release one\n\nWith a body that is not the subject.", map[string]string{"version": "1"})
	r.Git("branch", "release")
	r.Git("tag", "v1.0.0")
	r.c2 = commitFiles(r.GitRepo, "Add feature", map[string]string{"version": "1.1"})
	r.Git("tag", "-a", "v1.1.0", "-m", "Version 1.1.0")
	r.c3 = commitFiles(r.GitRepo, "Start two", map[string]string{"version": "2-rc"})
	r.Git("tag", "-a", "v2.0.0-rc.1", "-m", "First candidate")
	r.Git("tag", "not-a-version")
	return r
}

func TestFetchRefs(t *testing.T) {
	t.Parallel()
	repo := newRefsRepo(t)
	tests := []struct {
		name     string
		ref      v1alpha1.GitRef
		revision string // ref name in the Revision; empty for a commit
		commit   string
		version  string // content of the file "version"
		subject  string
	}{
		{"default branch", v1alpha1.GitRef{}, "main", repo.c3, "2-rc", "Start two"},
		{"branch", v1alpha1.GitRef{Branch: "release"}, "release", repo.c1, "1", "Release one"},
		{"lightweight tag", v1alpha1.GitRef{Tag: "v1.0.0"}, "v1.0.0", repo.c1, "1", "Release one"},
		{"annotated tag", v1alpha1.GitRef{Tag: "v1.1.0"}, "v1.1.0", repo.c2, "1.1", "Add feature"},
		{"semver range", v1alpha1.GitRef{SemVer: ">=1.0.0 <2.0.0"}, "v1.1.0", repo.c2, "1.1", "Add feature"},
		{"semver caret excludes prereleases", v1alpha1.GitRef{SemVer: "^1"}, "v1.1.0", repo.c2, "1.1", "Add feature"},
		{"semver tilde", v1alpha1.GitRef{SemVer: "~1.0"}, "v1.0.0", repo.c1, "1", "Release one"},
		{"semver prerelease", v1alpha1.GitRef{SemVer: ">=2.0.0-0"}, "v2.0.0-rc.1", repo.c3, "2-rc", "Start two"},
		{"commit at a tip", v1alpha1.GitRef{Commit: repo.c3}, "", repo.c3, "2-rc", "Start two"},
		{"commit in history", v1alpha1.GitRef{Commit: repo.c0}, "", repo.c0, "0", "Initial commit"},
	}
	// One Fetcher for all cases checks that one cache serves any mix of
	// refs; a fresh one per case checks each ref from a cold cache.
	shared := NewFetcher(t.TempDir(), fileSources)
	for _, tt := range tests {
		for _, mode := range []string{"fresh", "shared"} {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				f := shared
				if mode == "fresh" {
					f = NewFetcher(t.TempDir(), fileSources)
				}
				a, err := f.Fetch(context.Background(), repo.URL(), tt.ref, Credentials{})
				if err != nil {
					t.Fatal(err)
				}
				checkArtifact(t, a, tt.revision, tt.commit)
				if got := readFile(t, a, "version"); got != tt.version {
					t.Errorf("version file = %q, want %q", got, tt.version)
				}
				if a.Message != tt.subject {
					t.Errorf("Message = %q, want %q", a.Message, tt.subject)
				}
			})
		}
	}
}

func TestFetchErrors(t *testing.T) {
	t.Parallel()
	repo := newRefsRepo(t)
	unknown := strings.Repeat("0123456789", 4)
	missing := "file://" + filepath.Join(t.TempDir(), "missing")
	empty := testenv.NewGitRepo(t).URL()
	tests := []struct {
		name string
		url  string
		ref  v1alpha1.GitRef
		want string
	}{
		{"missing branch", repo.URL(), v1alpha1.GitRef{Branch: "nope"},
			"branch nope not found in " + repo.URL()},
		{"missing tag", repo.URL(), v1alpha1.GitRef{Tag: "v9"},
			"tag v9 not found in " + repo.URL()},
		{"no tag in range", repo.URL(), v1alpha1.GitRef{SemVer: ">=5.0.0"},
			"a tag matching semver >=5.0.0 not found in " + repo.URL()},
		{"invalid range", repo.URL(), v1alpha1.GitRef{SemVer: "one point oh"},
			"fetch semver one point oh from " + repo.URL() + ": invalid semver range"},
		{"unknown commit", repo.URL(), v1alpha1.GitRef{Commit: unknown},
			"commit " + unknown + " not found in " + repo.URL() + ": it is not reachable from any branch or tag"},
		{"short commit", repo.URL(), v1alpha1.GitRef{Commit: repo.c1[:7]},
			"a commit must be a full SHA-1"},
		{"two refs", repo.URL(), v1alpha1.GitRef{Branch: "main", Tag: "v1.0.0"},
			"set at most one of branch, tag, semver and commit"},
		{"missing repository", missing, v1alpha1.GitRef{},
			"fetch branch main from " + missing + ": repository not found"},
		{"empty repository", empty, v1alpha1.GitRef{},
			"fetch branch main from " + empty + ": repository is empty"},
		{"no URL", "", v1alpha1.GitRef{}, "no repository URL"},
		{"unsupported protocol", "ftp://example.com/repo.git", v1alpha1.GitRef{},
			`unsupported protocol "ftp"`},
	}
	f := NewFetcher(t.TempDir(), fileSources)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), tt.url, tt.ref, Credentials{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestFetchPicksUpNewCommit(t *testing.T) {
	t.Parallel()
	repo := testenv.NewGitRepo(t)
	first := commitFiles(repo, "one", map[string]string{"app.yaml": "replicas: 1"})
	f := NewFetcher(t.TempDir(), fileSources)
	ctx := context.Background()

	a1, err := f.Fetch(ctx, repo.URL(), v1alpha1.GitRef{}, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	second := commitFiles(repo, "two", map[string]string{"app.yaml": "replicas: 2"})
	a2, err := f.Fetch(ctx, repo.URL(), v1alpha1.GitRef{}, Credentials{})
	if err != nil {
		t.Fatal(err)
	}

	checkArtifact(t, a1, "main", first)
	checkArtifact(t, a2, "main", second)
	if got := readFile(t, a2, "app.yaml"); got != "replicas: 2" {
		t.Errorf("new tree has app.yaml %q", got)
	}
	if got := readFile(t, a1, "app.yaml"); got != "replicas: 1" {
		t.Errorf("old tree changed: app.yaml is %q", got)
	}
	if n := fetchCount(f, repo.URL()); n != 2 {
		t.Errorf("fetched %d times, want 2", n)
	}
}

func TestFetchUnchangedRefDoesNotFetch(t *testing.T) {
	t.Parallel()
	repo := newRefsRepo(t)
	cacheDir := t.TempDir()
	ctx := context.Background()
	refs := []v1alpha1.GitRef{{}, {Tag: "v1.1.0"}, {SemVer: "^1"}, {Commit: repo.c0}}

	f := NewFetcher(cacheDir, fileSources)
	for _, ref := range refs {
		first, err := f.Fetch(ctx, repo.URL(), ref, Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		before := fetchCount(f, repo.URL())
		again, err := f.Fetch(ctx, repo.URL(), ref, Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		if again != first {
			t.Errorf("%s: second Fetch = %+v, want %+v", ref, again, first)
		}
		if after := fetchCount(f, repo.URL()); after != before {
			t.Errorf("%s: second Fetch fetched again", ref)
		}
	}

	// A new Fetcher on the same cache, as after a restart, finds the
	// commits in the object store and the exported trees on disk.
	restarted := NewFetcher(cacheDir, fileSources)
	for _, ref := range refs {
		if _, err := restarted.Fetch(ctx, repo.URL(), ref, Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := fetchCount(restarted, repo.URL()); n != 0 {
		t.Errorf("after a restart, fetched %d times, want 0", n)
	}
}

func TestFetchConcurrent(t *testing.T) {
	t.Parallel()
	repos := []*testenv.GitRepo{testenv.NewGitRepo(t), testenv.NewGitRepo(t)}
	commits := make([]string, len(repos))
	for i, r := range repos {
		commits[i] = commitFiles(r, "only", map[string]string{"i": string(rune('0' + i))})
	}
	f := NewFetcher(t.TempDir(), fileSources)

	const perRepo = 6
	var wg sync.WaitGroup
	results := make([]Artifact, len(repos)*perRepo)
	errs := make([]error, len(results))
	for i := range results {
		wg.Go(func() {
			results[i], errs[i] = f.Fetch(context.Background(), repos[i%len(repos)].URL(), v1alpha1.GitRef{}, Credentials{})
		})
	}
	wg.Wait()

	for i, a := range results {
		if errs[i] != nil {
			t.Fatalf("Fetch %d: %v", i, errs[i])
		}
		checkArtifact(t, a, "main", commits[i%len(repos)])
	}
	for _, r := range repos {
		if n := fetchCount(f, r.URL()); n != 1 {
			t.Errorf("%s fetched %d times, want 1", r.URL(), n)
		}
	}
}

func TestFetchPrunesOldCommits(t *testing.T) {
	t.Parallel()
	repo := testenv.NewGitRepo(t)
	f := NewFetcher(t.TempDir(), fileSources)
	f.grace = 0
	var last Artifact
	for i := range 5 {
		commitFiles(repo, "commit", map[string]string{"n": string(rune('0' + i))})
		var err error
		last, err = f.Fetch(context.Background(), repo.URL(), v1alpha1.GitRef{}, Credentials{})
		if err != nil {
			t.Fatal(err)
		}
	}
	dirs := commitDirs(t, f, repo.URL())
	if len(dirs) != defaultKeep {
		t.Errorf("cache holds %d commits, want %d", len(dirs), defaultKeep)
	}
	if !isDir(last.Dir) {
		t.Errorf("the commit just returned was pruned")
	}
}

func TestFetchKeepsRecentlyReturnedCommits(t *testing.T) {
	t.Parallel()
	repo := testenv.NewGitRepo(t)
	f := NewFetcher(t.TempDir(), fileSources)
	var all []Artifact
	for i := range 5 {
		commitFiles(repo, "commit", map[string]string{"n": string(rune('0' + i))})
		a, err := f.Fetch(context.Background(), repo.URL(), v1alpha1.GitRef{}, Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, a)
	}
	for _, a := range all {
		if !isDir(a.Dir) {
			t.Errorf("%s was pruned although returned within the grace period", a.Commit)
		}
	}
}

func TestFetchRecoversFromBrokenStore(t *testing.T) {
	t.Parallel()
	repo := testenv.NewGitRepo(t)
	commit := commitFiles(repo, "one", map[string]string{"app.yaml": "replicas: 1"})
	cacheDir := t.TempDir()
	ctx := context.Background()
	a, err := NewFetcher(cacheDir, fileSources).Fetch(ctx, repo.URL(), v1alpha1.GitRef{}, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	// Leave the store with the commit and its tree but not the blob, as a
	// failed shallow update can, and drop the export.
	keepOnly(t, filepath.Join(filepath.Dir(a.Dir), storeDirName), commit)
	if err := os.RemoveAll(a.Dir); err != nil {
		t.Fatal(err)
	}

	f := NewFetcher(cacheDir, fileSources)
	a, err = f.Fetch(ctx, repo.URL(), v1alpha1.GitRef{}, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	checkArtifact(t, a, "main", commit)
	if got := readFile(t, a, "app.yaml"); got != "replicas: 1" {
		t.Errorf("app.yaml = %q", got)
	}
	if n := fetchCount(f, repo.URL()); n != 1 {
		t.Errorf("fetched %d times, want 1 (after cloning afresh)", n)
	}
}

// keepOnly rewrites the object store in dir to hold only the commit and its
// root tree, as loose objects.
func keepOnly(t *testing.T, dir, commit string) {
	t.Helper()
	s := openStore(dir)
	c, err := s.commit(plumbing.NewHash(commit))
	if err != nil {
		t.Fatal(err)
	}
	var objs []plumbing.EncodedObject
	for _, h := range []plumbing.Hash{c.Hash, c.TreeHash} {
		obj, err := s.storage.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, obj)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "objects")); err != nil {
		t.Fatal(err)
	}
	s = openStore(dir)
	defer s.close()
	for _, obj := range objs {
		if _, err := s.storage.SetEncodedObject(obj); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFetchCanceled(t *testing.T) {
	t.Parallel()
	repo := testenv.NewGitRepo(t)
	commitFiles(repo, "one", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewFetcher(t.TempDir(), fileSources).Fetch(ctx, repo.URL(), v1alpha1.GitRef{}, Credentials{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

// TestFetchKeepsTheSignedObjects: an Artifact holds its commit object and,
// when its ref names an annotated tag, the tag object, whichever ref
// brought the commit into the cache first, and the tag anew when it is
// made again on the same commit.
func TestFetchKeepsTheSignedObjects(t *testing.T) {
	t.Parallel()
	repo := newRefsRepo(t)
	f := NewFetcher(t.TempDir(), fileSources)
	steps := []struct {
		name   string
		ref    v1alpha1.GitRef
		commit string
		tag    string // the tag object's name; empty for none
	}{
		{"commit by its hash", v1alpha1.GitRef{Commit: repo.c2}, repo.c2, ""},
		{"annotated tag of a commit cached already", v1alpha1.GitRef{Tag: "v1.1.0"}, repo.c2, "v1.1.0"},
		{"branch", v1alpha1.GitRef{}, repo.c3, ""},
		{"semver picking an annotated tag", v1alpha1.GitRef{SemVer: ">=2.0.0-0"}, repo.c3, "v2.0.0-rc.1"},
		{"lightweight tag", v1alpha1.GitRef{Tag: "v1.0.0"}, repo.c1, ""},
	}
	check := func(t *testing.T, a Artifact, commit, tag string) {
		t.Helper()
		if got := plumbing.ComputeHash(plumbing.CommitObject, []byte(a.Objects.Commit)).String(); got != commit {
			t.Errorf("commit object hashes to %s, want %s", got, commit)
		}
		want := ""
		if tag != "" {
			want = repo.Git("rev-parse", tag)
		}
		if got := a.Objects.Tag; (got == "") != (want == "") || want != "" && plumbing.ComputeHash(plumbing.TagObject, []byte(got)).String() != want {
			t.Errorf("tag object %q, want the object %q of tag %q", got, want, tag)
		}
	}
	for _, step := range steps {
		a, err := f.Fetch(context.Background(), repo.URL(), step.ref, Credentials{})
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		t.Run(step.name, func(t *testing.T) { check(t, a, step.commit, step.tag) })
	}

	repo.Git("tag", "-f", "-a", "v1.1.0", "-m", "Version 1.1.0, tagged again", repo.c2)
	a, err := f.Fetch(context.Background(), repo.URL(), v1alpha1.GitRef{Tag: "v1.1.0"}, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, a, repo.c2, "v1.1.0")
}
