package evict

import (
	"slices"
	"testing"
	"time"
)

func TestEvict(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name     string
		maxBytes int64
		ages     []time.Duration // of entries named 0, 1, 2, ..., each 10 bytes
		stuck    []int           // entries whose Remove fails
		want     []int           // entries removed, in order
	}{
		{name: "under the limit", maxBytes: 30, ages: []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour}},
		{name: "oldest first", maxBytes: 10, ages: []time.Duration{time.Hour, 3 * time.Hour, 2 * time.Hour}, want: []int{1, 2}},
		{name: "spares the recently used", maxBytes: 0, ages: []time.Duration{time.Minute, 3 * time.Hour}, want: []int{1}},
		{name: "a failed removal still counts", maxBytes: 10, ages: []time.Duration{3 * time.Hour, 2 * time.Hour, time.Hour}, stuck: []int{0}, want: []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var removed []int
			list := func() []Entry {
				var entries []Entry
				for i, age := range tt.ages {
					entries = append(entries, Entry{Size: 10, LastUse: now.Add(-age), Remove: func() bool {
						if slices.Contains(tt.stuck, i) {
							return false
						}
						removed = append(removed, i)
						return true
					}})
				}
				return entries
			}
			var e Evictor
			e.Evict(tt.maxBytes, 10*time.Minute, list)
			if !slices.Equal(removed, tt.want) {
				t.Errorf("removed %v, want %v", removed, tt.want)
			}
		})
	}
}

func TestEvictOnePassAtATime(t *testing.T) {
	var e Evictor
	e.running.Lock()
	listed := false
	e.Evict(0, 0, func() []Entry { listed = true; return nil })
	e.running.Unlock()
	if listed {
		t.Error("a second pass listed the cache while one was running")
	}
}
