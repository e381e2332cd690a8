package traffic

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// loadClient opens a new connection for every request, so that kube-proxy
// picks a backend for each one as it does for each new client.
var loadClient = &http.Client{
	Timeout:   5 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// tally counts answers by version and failures (a transport error or a
// status other than 200).
type tally struct {
	mu       sync.Mutex
	versions map[string]int
	failures int
	total    int
	lastErr  string
}

func newTally() *tally { return &tally{versions: map[string]int{}} }

func (t *tally) add(version string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total++
	if err != nil {
		t.failures++
		t.lastErr = err.Error()
		return
	}
	t.versions[version]++
}

// share is the percentage of answers served by version.
func (t *tally) share(version string) float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.total == 0 {
		return 0
	}
	return 100 * float64(t.versions[version]) / float64(t.total)
}

// failed, requests and last read the failures, the total and the last error
// while requests may still be tallied.
func (t *tally) failed() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failures
}

func (t *tally) requests() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}

func (t *tally) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastErr
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return fmt.Sprintf("%d requests: %v, %d failed (last: %s)", t.total, t.versions, t.failures, t.lastErr)
}

// get sends one request to url (the Service's address on the pod network)
// and returns the version that answered.
func get(ctx context.Context, url string, header http.Header) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := loadClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	version := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return version, fmt.Errorf("%s answered %s", version, resp.Status)
	}
	return version, nil
}

// count sends n requests to url, workers at a time, and tallies them.
func count(ctx context.Context, url string, n, workers int) *tally {
	t := newTally()
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				t.add(get(ctx, url, nil))
			}
		}()
	}
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	return t
}

// constantLoad sends requests to url from workers goroutines, one after
// another with a pause between them, until stop is called, and tallies
// them. It is bounded by its pause: at most workers/pause requests a
// second.
func constantLoad(url string, workers int, pause time.Duration) (t *tally, stop func()) {
	t = newTally()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				version, err := get(ctx, url, nil)
				if ctx.Err() != nil {
					return // cut short by stop, not by the server
				}
				t.add(version, err)
				time.Sleep(pause)
			}
		}()
	}
	return t, func() {
		cancel()
		wg.Wait()
	}
}
