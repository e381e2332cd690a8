package v1alpha1

import (
	"regexp"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDurationsAreHeldWithinTheirBounds(t *testing.T) {
	d := func(s string) *metav1.Duration {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return &metav1.Duration{Duration: v}
	}
	pause := func(p *metav1.Duration) time.Duration {
		v, _ := RolloutPause{Duration: p}.Timed()
		return v
	}
	tests := []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{"interval unset", SyncPolicy{}.IntervalOrDefault(), time.Minute},
		{"interval 0s", SyncPolicy{Interval: d("0s")}.IntervalOrDefault(), time.Minute},
		{"interval 1ns", SyncPolicy{Interval: d("1ns")}.IntervalOrDefault(), time.Second},
		{"interval 1s, as tests use", SyncPolicy{Interval: d("1s")}.IntervalOrDefault(), time.Second},
		{"interval 10m", SyncPolicy{Interval: d("10m")}.IntervalOrDefault(), 10 * time.Minute},
		{"interval 87600h", SyncPolicy{Interval: d("87600h")}.IntervalOrDefault(), 24 * time.Hour},
		{"sync timeout unset", SyncPolicy{}.TimeoutOrDefault(), 5 * time.Minute},
		{"sync timeout 1ns", SyncPolicy{Timeout: d("1ns")}.TimeoutOrDefault(), time.Second},
		{"sync timeout 87600h", SyncPolicy{Timeout: d("87600h")}.TimeoutOrDefault(), time.Hour},
		{"progress deadline unset", RolloutSpec{}.ProgressDeadlineOrDefault(), 10 * time.Minute},
		{"progress deadline 87600h", RolloutSpec{ProgressDeadline: d("87600h")}.ProgressDeadlineOrDefault(), time.Hour},
		{"scale-down delay unset", BlueGreenStrategy{}.ScaleDownDelayOrDefault(), 30 * time.Second},
		{"scale-down delay 0s", BlueGreenStrategy{ScaleDownDelay: d("0s")}.ScaleDownDelayOrDefault(), 0},
		{"scale-down delay 87600h", BlueGreenStrategy{ScaleDownDelay: d("87600h")}.ScaleDownDelayOrDefault(), 24 * time.Hour},
		{"canary scale-down delay unset", CanaryStrategy{}.ScaleDownDelayOrDefault(), 10 * time.Second},
		{"canary scale-down delay 0s", CanaryStrategy{ScaleDownDelay: d("0s")}.ScaleDownDelayOrDefault(), 0},
		{"pause 90s", pause(d("90s")), 90 * time.Second},
		{"pause 87600h", pause(d("87600h")), 24 * time.Hour},
		{"metric interval unset", Metric{}.IntervalOrDefault(), 30 * time.Second},
		{"metric interval 1ns", Metric{Interval: d("1ns")}.IntervalOrDefault(), time.Second},
		{"metric interval 87600h", Metric{Interval: d("87600h")}.IntervalOrDefault(), time.Hour},
		{"initial delay unset", Metric{}.InitialDelayOrDefault(), 0},
		{"initial delay 87600h", Metric{InitialDelay: d("87600h")}.InitialDelayOrDefault(), time.Hour},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, tt.got, tt.want)
		}
	}
	if _, timed := (RolloutPause{}).Timed(); timed {
		t.Error("a pause without duration is timed, want until promoted")
	}
}

func TestDurationPattern(t *testing.T) {
	pattern := regexp.MustCompile(DurationPattern)
	for _, ok := range []string{"1s", "1ns", "500ms", "1h30m", "1.5h", "90s", "2µs", "2μs", "2us", "87600h", "0s"} {
		if !pattern.MatchString(ok) {
			t.Errorf("%q is refused", ok)
		}
	}
	for _, bad := range []string{"1 hour", "1d", "1", "-1s", "+1s", "", "1h ", "999999h", "1h1h1h1h1h1h1h", "1.s"} {
		if pattern.MatchString(bad) {
			t.Errorf("%q is accepted", bad)
		}
	}
}

// FuzzDurationPattern checks that whatever the CRDs admit as a duration,
// every reader of the object can parse.
func FuzzDurationPattern(f *testing.F) {
	for _, s := range []string{"1s", "1h30m", "99999h99999h99999h99999h99999h99999h", "1.123456789ms", "1 hour"} {
		f.Add(s)
	}
	pattern := regexp.MustCompile(DurationPattern)
	f.Fuzz(func(t *testing.T, s string) {
		if !pattern.MatchString(s) {
			return
		}
		if _, err := time.ParseDuration(s); err != nil {
			t.Errorf("%q matches the pattern but does not parse: %v", s, err)
		}
	})
}
