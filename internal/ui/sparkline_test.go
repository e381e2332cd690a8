package ui

import (
	"testing"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

func TestSparkline(t *testing.T) {
	ms := func(values ...string) []weirv1.Measurement {
		out := make([]weirv1.Measurement, len(values))
		for i, v := range values {
			out[i] = weirv1.Measurement{Value: v, Phase: weirv1.AnalysisSuccessful}
		}
		return out
	}
	failing := ms("0.99", "0.5")
	failing[1].Phase = weirv1.AnalysisFailed
	for _, tc := range []struct {
		name       string
		in         []weirv1.Measurement
		points     string
		label      string
		lastFailed bool
	}{
		{"rising", ms("1", "2", "3"), "3.0,29.0 80.0,16.0 157.0,3.0", "3 measurements, oldest first: 1, 2, 3", false},
		{"flat", ms("0.99", "0.99"), "3.0,16.0 157.0,16.0", "2 measurements, oldest first: 0.99, 0.99", false},
		{"not numbers left out", ms("n/a", "1", "x", "0"), "3.0,3.0 157.0,29.0", "2 measurements, oldest first: 1, 0", false},
		{"failed marked", failing, "3.0,3.0 157.0,29.0", "2 measurements, oldest first: 0.99, 0.5", true},
		{"one value draws nothing", ms("1"), "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSparkline(tc.in)
			if s.Points != tc.points || s.Label != tc.label {
				t.Errorf("points %q, label %q; want %q, %q", s.Points, s.Label, tc.points, tc.label)
			}
			if n := len(s.Marks); n > 0 && s.Marks[n-1].Failed != tc.lastFailed {
				t.Errorf("last mark failed = %v, want %v", s.Marks[n-1].Failed, tc.lastFailed)
			}
		})
	}
}
