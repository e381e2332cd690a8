package source

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// hungFetchTimeout is the Timeout of the Fetchers that reach a silent
// server; what the tests wait for is bounded by a far larger margin.
const hungFetchTimeout = time.Second

// silentURLs are an HTTP and an SSH URL of a server that accepts
// connections and never answers, with the credentials each needs.
func silentURLs(t *testing.T) map[string]Credentials {
	srv := testenv.NewSilentServer(t)
	_, identity := testenv.NewEd25519Key(t)
	host, _ := testenv.NewEd25519Key(t)
	knownHosts := []byte(knownhosts.Line([]string{srv.Addr()}, host.PublicKey()) + "\n")
	return map[string]Credentials{
		"http://" + srv.Addr() + "/shop.git":    {},
		"ssh://git@" + srv.Addr() + "/shop.git": {Identity: identity, KnownHosts: knownHosts},
	}
}

func TestFetchFromSilentServerTimesOut(t *testing.T) {
	t.Parallel()
	for url, creds := range silentURLs(t) {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			t.Parallel()
			f := NewFetcher(t.TempDir(), Options{Timeout: hungFetchTimeout})
			err := fetchWithin(t, f, url, creds, time.Minute)
			want := "fetch branch main from " + url + ": timed out after 1s"
			if err == nil || err.Error() != want {
				t.Fatalf("error = %v, want %q", err, want)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v is not context.DeadlineExceeded", err)
			}
		})
	}
}

// TestSilentServerHoldsNoOtherRepository checks that while a fetch hangs on
// a silent server, a fetch of the same repository gives up waiting for it
// and a fetch of another repository is not held up at all.
func TestSilentServerHoldsNoOtherRepository(t *testing.T) {
	t.Parallel()
	healthy := testenv.NewGitRepo(t)
	commit := commitFiles(healthy, "one", map[string]string{"app.yaml": "kind: ConfigMap"})
	hung := "http://" + testenv.NewSilentServer(t).Addr() + "/shop.git"
	f := NewFetcher(t.TempDir(), Options{Timeout: 3 * hungFetchTimeout, AllowFileSources: true})

	first := make(chan error, 1)
	go func() {
		_, err := f.Fetch(context.Background(), hung, v1alpha1.GitRef{}, Credentials{})
		first <- err
	}()
	for !f.busy(hung) {
		time.Sleep(10 * time.Millisecond)
	}
	a, err := f.Fetch(context.Background(), healthy.URL(), v1alpha1.GitRef{}, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	checkArtifact(t, a, "main", commit)
	select {
	case err := <-first:
		t.Fatalf("the hung fetch ended before the other repository was fetched: %v", err)
	default:
	}

	if err := <-first; err == nil || !strings.Contains(err.Error(), "timed out after 3s") {
		t.Errorf("hung fetch: error = %v, want a timeout", err)
	}
}

func TestFetchGivesUpWaitingForTheRepository(t *testing.T) {
	t.Parallel()
	url := "http://" + testenv.NewSilentServer(t).Addr() + "/shop.git"
	f := NewFetcher(t.TempDir(), Options{Timeout: hungFetchTimeout})
	rc := f.repo(url)
	rc.sem <- struct{}{} // as a Fetch that never ends would
	defer rc.unlock()
	err := fetchWithin(t, f, url, Credentials{}, time.Minute)
	want := "fetch branch main from " + url + ": timed out after 1s waiting for another fetch of the repository"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// fetchWithin fetches url's branch main with f, failing the test if that
// takes longer than bound.
func fetchWithin(t *testing.T, f *Fetcher, url string, creds Credentials, bound time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := f.Fetch(context.Background(), url, v1alpha1.GitRef{}, creds)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(bound):
		t.Fatalf("the fetch of %s still runs after %s", url, bound)
		return nil
	}
}

// busy reports whether a Fetch holds url's repository.
func (f *Fetcher) busy(url string) bool {
	rc := f.repo(url)
	if rc.tryLock() {
		rc.unlock()
		return false
	}
	return true
}
