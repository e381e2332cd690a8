package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// newSizedRepo is a repository whose checkout holds about size bytes.
func newSizedRepo(t *testing.T, size int) *testenv.GitRepo {
	repo := testenv.NewGitRepo(t)
	// Incompressible enough that the object store is about as large.
	commitFiles(repo, "data", map[string]string{"data.txt": randomText(size)})
	return repo
}

// randomText is n bytes that compress poorly.
func randomText(n int) string {
	var b strings.Builder
	x := uint32(2463534242)
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte("abcdefghijklmnopqrstuvwxyz0123456789"[x%36])
	}
	return b.String()
}

// ageCache makes url's cache look last used ago.
func ageCache(f *Fetcher, url string, ago time.Duration) {
	f.repo(url).lastUse.Store(time.Now().Add(-ago).UnixNano())
}

func TestFetchEvictsLeastRecentlyUsedRepositories(t *testing.T) {
	t.Parallel()
	repos := []*testenv.GitRepo{newSizedRepo(t, 100<<10), newSizedRepo(t, 100<<10), newSizedRepo(t, 100<<10)}
	// Room for two repositories (checkout and object store), not three.
	f := NewFetcher(t.TempDir(), Options{AllowFileSources: true, MaxCacheBytes: 450 << 10})
	ctx := context.Background()
	fetch := func(repo *testenv.GitRepo) Artifact {
		t.Helper()
		a, err := f.Fetch(ctx, repo.URL(), v1alpha1.GitRef{}, Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	oldest, recent := fetch(repos[0]), fetch(repos[1])
	ageCache(f, repos[0].URL(), time.Hour)
	ageCache(f, repos[1].URL(), 30*time.Minute)

	fetch(repos[2])
	if isDir(f.repo(repos[0].URL()).dir) || isDir(oldest.Dir) {
		t.Errorf("the least recently used repository is still cached")
	}
	if !isDir(recent.Dir) {
		t.Errorf("a repository was evicted although the cache had room for it")
	}

	// An evicted repository is fetched again as if new.
	if a := fetch(repos[0]); !isDir(a.Dir) {
		t.Errorf("the evicted repository was not fetched again")
	}
}

func TestFetchNeverEvictsRepositoriesInUse(t *testing.T) {
	t.Parallel()
	repos := []*testenv.GitRepo{newSizedRepo(t, 100<<10), newSizedRepo(t, 100<<10), newSizedRepo(t, 100<<10)}
	f := NewFetcher(t.TempDir(), Options{AllowFileSources: true, MaxCacheBytes: 1})
	ctx := context.Background()
	var artifacts []Artifact
	for _, repo := range repos[:2] {
		a, err := f.Fetch(ctx, repo.URL(), v1alpha1.GitRef{}, Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		artifacts = append(artifacts, a)
	}
	// The first was handed out long ago but is being fetched again; the
	// second was handed out a moment ago.
	ageCache(f, repos[0].URL(), time.Hour)
	busy := f.repo(repos[0].URL())
	busy.sem <- struct{}{}
	_, err := f.Fetch(ctx, repos[2].URL(), v1alpha1.GitRef{}, Credentials{})
	busy.unlock()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range artifacts {
		if !isDir(a.Dir) {
			t.Errorf("%s was evicted while in use", a.Dir)
		}
	}
}

func TestFetchEvictsCachesOfAnEarlierProcess(t *testing.T) {
	t.Parallel()
	cacheDir := t.TempDir()
	old, fresh := newSizedRepo(t, 100<<10), newSizedRepo(t, 100<<10)
	a, err := NewFetcher(cacheDir, fileSources).Fetch(context.Background(), old.URL(), v1alpha1.GitRef{}, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-time.Hour)
	repoDir := filepath.Dir(a.Dir)
	for _, p := range []string{repoDir, a.Dir, filepath.Join(repoDir, storeDirName)} {
		if err := os.Chtimes(p, long, long); err != nil {
			t.Fatal(err)
		}
	}
	// A restarted controller with a smaller cache.
	f := NewFetcher(cacheDir, Options{AllowFileSources: true, MaxCacheBytes: 300 << 10})
	if _, err := f.Fetch(context.Background(), fresh.URL(), v1alpha1.GitRef{}, Credentials{}); err != nil {
		t.Fatal(err)
	}
	if isDir(repoDir) {
		t.Errorf("the cache left by the earlier process was kept")
	}
}
