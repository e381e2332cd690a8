package source

import (
	"path/filepath"
	"testing"
	"time"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// TestFetchesShareOneListing counts the ref listings the Git server answers
// (fetching a new commit lists the refs too, so each checkout adds one):
// Fetches of one repository with the same credentials within ListingReuse
// share one listing, unless they ask for a listing since a later time,
// bring other credentials, or a push invalidated the repository.
func TestFetchesShareOneListing(t *testing.T) {
	t.Parallel()
	repo := testenv.NewGitRepo(t)
	first := commitFiles(repo, "first", map[string]string{"app.yaml": "kind: ConfigMap"})
	root, name := filepath.Split(repo.Dir)
	srv := testenv.NewGitHTTPServer(t, root, "", "", false)
	f := NewFetcher(t.TempDir(), Options{ListingReuse: time.Minute})
	url := srv.URL(name)
	start := time.Now()
	fetch := func(since time.Time, creds Credentials, want string) {
		t.Helper()
		a, err := f.FetchSince(t.Context(), url, v1alpha1.GitRef{}, creds, since)
		if err != nil {
			t.Fatal(err)
		}
		if a.Commit != want {
			t.Fatalf("fetched %s, want %s", a.Commit, want)
		}
	}
	expectListings := func(want int64, after string) {
		t.Helper()
		if got := srv.RefListings(); got != want {
			t.Errorf("after %s: %d ref listings, want %d", after, got, want)
		}
	}
	for range 10 {
		fetch(start, Credentials{}, first)
	}
	expectListings(2, "10 fetches") // a listing and the checkout
	fetch(start, Credentials{Password: "another-token"}, first)
	expectListings(3, "a fetch with other credentials")
	fetch(time.Now(), Credentials{}, first)
	expectListings(4, "a fetch since now")
	second := commitFiles(repo, "second", map[string]string{"app.yaml": "kind: Secret"})
	fetch(start, Credentials{}, first)
	expectListings(4, "a fetch within the reuse")
	f.Invalidate(url)
	fetch(start, Credentials{}, second)
	expectListings(6, "Invalidate") // a listing and the checkout
}
