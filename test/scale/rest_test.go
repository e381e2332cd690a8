package scale

import (
	"testing"
	"time"
)

// TestAtRestCountsWholeIntervals: a measure at rest shorter than the
// Applications' interval saw none of their polls (all synced the last
// commit together), so it lasts whole intervals and reports per interval.
func TestAtRestCountsWholeIntervals(t *testing.T) {
	for _, tc := range []struct {
		rest, interval time.Duration
		want           int
	}{
		{30 * time.Second, time.Minute, 1},
		{time.Minute, time.Minute, 1},
		{61 * time.Second, time.Minute, 2},
		{2 * time.Minute, time.Minute, 2},
		{2 * time.Second, 5 * time.Second, 1},
		{time.Nanosecond, time.Minute, 1},
	} {
		if got := restIntervals(tc.rest, tc.interval); got != tc.want {
			t.Errorf("restIntervals(%s, %s) = %d, want %d", tc.rest, tc.interval, got, tc.want)
		}
	}
	if got := perInterval(4282, 2); got != 2141 {
		t.Errorf("perInterval(4282, 2) = %v, want 2141", got)
	}
}
