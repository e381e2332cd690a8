// Package evict keeps a cache under a size limit by removing its least
// recently used entries, whole.
package evict

import (
	"sort"
	"sync"
	"time"
)

// Entry is a piece of a cache that eviction removes whole.
type Entry struct {
	// Size is what the entry holds on disk, in bytes.
	Size int64
	// LastUse is when the cache last returned the entry.
	LastUse time.Time
	// Remove removes the entry and reports whether it is gone; an entry
	// it could not remove still counts towards the limit.
	Remove func() bool
}

// Evictor runs one eviction pass over a cache at a time. Its zero value is
// ready for use.
type Evictor struct {
	running sync.Mutex
}

// Evict lists the cache's entries and removes the least recently used
// ones until their total size is at most maxBytes. It spares entries used
// within grace, whose caller may still be reading them, and entries
// Remove fails on, so the cache can stay over its limit. If another pass
// is running, Evict returns at once without listing: that pass is on it.
func (e *Evictor) Evict(maxBytes int64, grace time.Duration, list func() []Entry) {
	if !e.running.TryLock() {
		return
	}
	defer e.running.Unlock()
	entries := list()
	var total int64
	for _, en := range entries {
		total += en.Size
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].LastUse.Before(entries[j].LastUse) })
	for _, en := range entries {
		if total <= maxBytes {
			return
		}
		if time.Since(en.LastUse) < grace {
			continue
		}
		if en.Remove() {
			total -= en.Size
		}
	}
}
