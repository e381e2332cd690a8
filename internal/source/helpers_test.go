package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// testAuthor is who testenv.GitRepo commits as.
const testAuthor = "Ada Author <ada@example.com>"

// commitFiles writes files (path to content) into repo's work tree,
// commits everything and returns the commit's hash.
func commitFiles(repo *testenv.GitRepo, message string, files map[string]string) string {
	for path, content := range files {
		repo.Write(path, content)
	}
	return repo.Commit(message)
}

// checkFetch fetches the branch main of url with creds into a fresh cache.
// With want empty, the fetch must succeed with commit; otherwise it must fail
// with an error containing want, which checkFetch returns for more checks.
func checkFetch(t *testing.T, url string, creds Credentials, commit, want string) error {
	t.Helper()
	a, err := NewFetcher(t.TempDir(), fileSources).Fetch(context.Background(), url, v1alpha1.GitRef{}, creds)
	if want == "" {
		if err != nil {
			t.Fatal(err)
		}
		checkArtifact(t, a, "main", commit)
		return nil
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
	return err
}

// fetchCount is how many times f fetched objects from url.
func fetchCount(f *Fetcher, url string) int {
	rc := f.repo(url)
	rc.sem <- struct{}{}
	defer func() { <-rc.sem }()
	return rc.fetches
}

// commitDirs lists the exported commits in url's cache.
func commitDirs(t testing.TB, f *Fetcher, url string) []string {
	t.Helper()
	entries, err := os.ReadDir(f.repo(url).dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if fullSHA1.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

// readFile returns the content of name in an artifact's directory.
func readFile(t testing.TB, a Artifact, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(a.Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkArtifact checks the fields of a that follow from commit and ref name.
func checkArtifact(t testing.TB, a Artifact, refName, commit string) {
	t.Helper()
	wantRev := "sha1:" + commit
	if refName != "" {
		wantRev = refName + "@" + wantRev
	}
	if a.Revision != wantRev {
		t.Errorf("Revision = %q, want %q", a.Revision, wantRev)
	}
	if a.Commit != commit {
		t.Errorf("Commit = %s, want %s", a.Commit, commit)
	}
	if a.Author != testAuthor {
		t.Errorf("Author = %q, want %q", a.Author, testAuthor)
	}
	if time.Since(a.Time) > time.Hour || a.Time.After(time.Now().Add(time.Minute)) {
		t.Errorf("Time = %v, want about now", a.Time)
	}
	if filepath.Base(a.Dir) != commit || !isDir(a.Dir) {
		t.Errorf("Dir = %s, want an existing directory named for the commit", a.Dir)
	}
	if !plumbing.IsHash(a.Commit) {
		t.Errorf("Commit %q is not a full hash", a.Commit)
	}
}

// fileSources are the options of a Fetcher that reads the test
// repositories, which are on the local disk.
var fileSources = Options{AllowFileSources: true}
