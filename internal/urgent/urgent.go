// Package urgent lets the work that must not wait, a drift heal, go ahead
// of weir's routine requests to the API server.
//
// weir sends its requests without a client-side limit where the API server
// has Priority and Fairness, and the server serves a client's requests in
// flight together: while every Application syncs, a heal's few requests
// share the server with dozens of a sync's. A Gate holds weir's routine
// requests back while urgent work is under way, each for at most its hold,
// so that the server serves the urgent ones with what it has.
package urgent

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Gate holds routine requests back while urgent work is under way. The
// zero Gate is not usable; make one with New.
type Gate struct {
	hold time.Duration

	mu      sync.Mutex
	working int
	clear   chan struct{} // closed when the last urgent work ends
}

// New returns a Gate that holds a routine request back for at most hold.
func New(hold time.Duration) *Gate {
	clear := make(chan struct{})
	close(clear)
	return &Gate{hold: hold, clear: clear}
}

type urgentKey struct{}

// Begin starts urgent work: until end is called, the requests sent with
// the returned context go at once, and routine ones wait (each for the
// Gate's hold at most). A nil Gate makes nothing urgent.
func (g *Gate) Begin(ctx context.Context) (_ context.Context, end func()) {
	if g == nil {
		return ctx, func() {}
	}
	g.mu.Lock()
	if g.working == 0 {
		g.clear = make(chan struct{})
	}
	g.working++
	g.mu.Unlock()
	var once sync.Once
	return context.WithValue(ctx, urgentKey{}, true), func() { once.Do(g.end) }
}

func (g *Gate) end() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.working--
	if g.working == 0 {
		close(g.clear)
	}
}

// wait returns when no urgent work is under way, after the Gate's hold,
// or when ctx ends, whichever comes first.
func (g *Gate) wait(ctx context.Context) {
	g.mu.Lock()
	clear := g.clear
	g.mu.Unlock()
	select {
	case <-clear:
		return
	default:
	}
	timer := time.NewTimer(g.hold)
	defer timer.Stop()
	select {
	case <-clear:
	case <-timer.C:
	case <-ctx.Done():
	}
}

// Wrap returns rt with the Gate in front: a request of urgent work, or a
// watch (which holds no server time while it waits for events), goes at
// once; another waits for the Gate. Give it to rest.Config.Wrap.
func (g *Gate) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper{gate: g, next: rt}
}

type roundTripper struct {
	gate *Gate
	next http.RoundTripper
}

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Context().Value(urgentKey{}) == nil && req.URL.Query().Get("watch") != "true" {
		t.gate.wait(req.Context())
	}
	return t.next.RoundTrip(req)
}
