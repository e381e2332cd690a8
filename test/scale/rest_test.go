package scale

import (
	"slices"
	"strings"
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

// TestParseApps reads -apps, one number or a list, and refuses anything
// else by name.
func TestParseApps(t *testing.T) {
	for in, want := range map[string][]int{"100": {100}, "100,500": {100, 500}, " 10, 100 ": {10, 100}} {
		if got, err := parseApps(in); err != nil || !slices.Equal(got, want) {
			t.Errorf("parseApps(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "100,", "0", "-5", "ten"} {
		if _, err := parseApps(in); err == nil || !strings.Contains(err.Error(), "-apps=") {
			t.Errorf("parseApps(%q) = %v, want an error naming -apps", in, err)
		}
	}
}
