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

// TestProbeAnswersWithoutWaitingOnAHungCluster: once a cluster has
// answered, a stale answer is refreshed in the background and the last one
// returned meanwhile, so that a cluster that stops answering holds up no
// caller.
func TestProbeAnswersWithoutWaitingOnAHungCluster(t *testing.T) {
	var hang atomic.Bool
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() {
			<-release
			return
		}
		_, _ = w.Write([]byte(`{"gitVersion":"v1.34.1"}`))
	}))
	defer srv.Close()
	defer close(release)
	p, err := NewProbe(&rest.Config{Host: srv.URL, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := p.ServerVersion(t.Context()); err != nil || v != "v1.34.1" {
		t.Fatalf("first answer: %q, %v", v, err)
	}

	hang.Store(true)
	p.mu.Lock()
	p.checked = time.Now().Add(-probeTTL) // stale
	p.mu.Unlock()
	// Were it to wait, it would wait a minute for the hung server.
	if v, err := p.ServerVersion(t.Context()); err != nil || v != "v1.34.1" {
		t.Fatalf("while asking anew: %q, %v; want the last answer at once", v, err)
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
