package helmrepo

import (
	"os"
	"strings"
	"testing"
	"time"

	"weir.dev/weir/internal/testenv"
)

func TestPullEvictsLeastRecentlyUsedCharts(t *testing.T) {
	r := testenv.NewChartRepo(t, "", "", false)
	for _, v := range []string{"0.1.0", "0.2.0", "0.3.0"} {
		r.Add(t, chartDir, v)
	}
	p := NewPuller(t.TempDir(), Options{})
	pull := func(version string) Chart {
		t.Helper()
		c, err := p.Pull(t.Context(), Ref{Repository: r.URL(), Name: "hello", Version: version}, Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	oldest, recent := pull("0.1.0"), pull("0.2.0")
	fi, err := os.Stat(oldest.Path)
	if err != nil {
		t.Fatal(err)
	}
	// Room for two archives, not three.
	p.maxCacheBytes = 2*fi.Size() + fi.Size()/2
	age(t, oldest.Path, 2*time.Hour)
	age(t, recent.Path, time.Hour)

	pull("0.3.0")
	if _, err := os.Stat(oldest.Path); !os.IsNotExist(err) {
		t.Errorf("the least recently used chart is still cached (%v)", err)
	}
	if _, err := os.Stat(recent.Path); err != nil {
		t.Errorf("a chart was evicted although the cache had room for it: %v", err)
	}
}

func TestPullNeverEvictsChartsInUse(t *testing.T) {
	r := testenv.NewChartRepo(t, "", "", false)
	for _, v := range []string{"0.1.0", "0.2.0"} {
		r.Add(t, chartDir, v)
	}
	p := NewPuller(t.TempDir(), Options{MaxCacheBytes: 1})
	first, err := p.Pull(t.Context(), Ref{Repository: r.URL(), Name: "hello", Version: "0.1.0"}, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	age(t, first.Path, time.Hour)
	// Returned again: in use, however old it was.
	if _, err := p.Pull(t.Context(), Ref{Repository: r.URL(), Name: "hello", Version: "0.1.0"}, Credentials{}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Pull(t.Context(), Ref{Repository: r.URL(), Name: "hello", Version: "0.2.0"}, Credentials{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(first.Path); err != nil {
		t.Errorf("a chart returned a moment ago was evicted: %v", err)
	}
}

// age makes a cached archive look last used ago.
func age(t *testing.T, path string, ago time.Duration) {
	t.Helper()
	then := time.Now().Add(-ago)
	if err := os.Chtimes(path, then, then); err != nil {
		t.Fatal(err)
	}
}

func TestPullFromSilentServerTimesOut(t *testing.T) {
	addr := testenv.NewSilentServer(t).Addr()
	for _, ref := range []Ref{
		{Repository: "http://" + addr + "/charts", Name: "hello", Version: "0.1.0"},
		{Repository: "oci://" + addr + "/charts", Name: "hello", Version: "0.1.0", PlainHTTP: true},
	} {
		scheme, _, _ := strings.Cut(ref.Repository, ":")
		t.Run(scheme, func(t *testing.T) {
			p := NewPuller(t.TempDir(), Options{Timeout: 500 * time.Millisecond})
			done := make(chan error, 1)
			go func() {
				_, err := p.Pull(t.Context(), ref, Credentials{})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.HasPrefix(err.Error(), ref.String()+": ") || !strings.Contains(err.Error(), "Timeout") {
					t.Errorf("error = %v, want a timeout naming %s", err, ref)
				}
			case <-time.After(time.Minute):
				t.Fatal("the pull still runs after a minute")
			}
		})
	}
}
