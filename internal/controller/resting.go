package controller

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"weir.dev/weir/internal/health"
)

// restingHealth remembers, for each Application at rest, when its health
// was last read to a final report, so that the next poll reads it again
// only if one of its objects changed since (the drift watches see every
// change, status included). A nil restingHealth remembers nothing: every
// poll reads.
type restingHealth struct {
	mu    sync.Mutex
	reads map[types.NamespacedName]healthRead
}

// healthRead is a health read that needs no other until something changes.
type healthRead struct {
	// mark is DriftWatcher.LastChange's mark before the read.
	mark uint64
	// generation is the Application's, whose spec says what is read.
	generation int64
}

func newRestingHealth() *restingHealth {
	return &restingHealth{reads: map[types.NamespacedName]healthRead{}}
}

// fresh reports whether the health of app, read last at read, still holds.
func (h *restingHealth) fresh(app types.NamespacedName, read healthRead) bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	last, ok := h.reads[app]
	return ok && last == read
}

// record remembers read as app's last, when report is final: every
// object Current or Failed, none still on its way. Other reports are
// forgotten, to be read again at the next poll.
func (h *restingHealth) record(app types.NamespacedName, read healthRead, report health.Report) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !final(report) {
		delete(h.reads, app)
		return
	}
	h.reads[app] = read
}

// forget drops what is remembered of app: it syncs, or is gone.
func (h *restingHealth) forget(app types.NamespacedName) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.reads, app)
}

// final reports whether no object of report is on its way to another
// status by itself.
func final(report health.Report) bool {
	for _, s := range report.Objects {
		if s.Status != health.Current && s.Status != health.Failed {
			return false
		}
	}
	return true
}
