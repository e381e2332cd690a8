package cluster

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// TestProbeWaitsOnAHungClusterOnce: once a cluster has been found
// unreachable, a stale answer is refreshed in the background and the last
// one returned meanwhile; a cluster found reachable is asked anew, and
// found out when it stops answering.
func TestProbeWaitsOnAHungClusterOnce(t *testing.T) {
	var answer atomic.Int32 // http status; 0 hangs
	answer.Store(http.StatusOK)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := int(answer.Load())
		if status == 0 {
			<-release
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"gitVersion":"v1.34.1"}`))
	}))
	defer srv.Close()
	defer close(release)
	p, err := NewProbe(&rest.Config{Host: srv.URL, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	stale := func() {
		p.mu.Lock()
		p.checked = time.Now().Add(-probeTTL)
		p.mu.Unlock()
	}
	if v, err := p.ServerVersion(t.Context()); err != nil || v != "v1.34.1" {
		t.Fatalf("first answer: %q, %v", v, err)
	}

	answer.Store(0)
	stale()
	if _, err := p.ServerVersion(t.Context()); err == nil || !strings.Contains(err.Error(), "unreachable: ") {
		t.Fatalf("a reachable cluster that hangs: %v, want it found unreachable", err)
	}
	hung := p.err.Error()

	answer.Store(http.StatusServiceUnavailable)
	stale()
	// Were it to wait, it would have the new answer, a 503.
	if _, err := p.ServerVersion(t.Context()); err == nil || err.Error() != hung {
		t.Fatalf("while asking anew: %v; want the last answer at once, %s", err, hung)
	}
}

func TestProbeSaysWhyAClusterIsUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Close()
	p, err := NewProbe(&rest.Config{Host: srv.URL, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ServerVersion(t.Context()); err == nil || !strings.Contains(err.Error(), "unreachable: ") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v", err)
	}
}
