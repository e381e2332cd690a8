package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DurationPattern is the syntax the CRDs accept for every duration field
// (the +kubebuilder:validation:Pattern of each): Go's time.ParseDuration
// syntax without sign, with at most six parts of at most five digits each,
// so that whatever the API server admits also parses without overflow
// ("1h30m", "90s", "500ms"). A field in any other syntax ("1 hour", "1d")
// is refused when the object is written, rather than making every list of
// the kind fail to decode in every reader.
const DurationPattern = `^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`

// DurationBounds is the range a duration field is held to: a value
// outside it is used as the nearest bound, so that a tiny interval cannot
// make a hot loop and a huge timeout cannot hold a worker for years.
// +kubebuilder:object:generate=false
type DurationBounds struct {
	Min, Max time.Duration
}

// Clamp returns d held within the bounds.
func (b DurationBounds) Clamp(d time.Duration) time.Duration {
	return min(max(d, b.Min), b.Max)
}

// The bounds of each duration field, stated in the README.
var (
	// IntervalBounds hold spec.sync.interval of an Application.
	IntervalBounds = DurationBounds{Min: time.Second, Max: 24 * time.Hour}
	// TimeoutBounds hold spec.sync.timeout of an Application (a worker
	// waits that long for a wave's health) and a Rollout's
	// progressDeadline.
	TimeoutBounds = DurationBounds{Min: time.Second, Max: time.Hour}
	// DelayBounds hold a canary pause and a blue/green scaleDownDelay:
	// nothing waits on them, a requeue is scheduled, but a day is the most
	// a release step may mean to take; longer is a pause until promoted.
	DelayBounds = DurationBounds{Min: 0, Max: 24 * time.Hour}
	// MetricIntervalBounds hold an analysis metric's interval and
	// initialDelay. (The timeout of one measurement is bounded where it
	// is taken, in package analysis.)
	MetricIntervalBounds = DurationBounds{Min: time.Second, Max: time.Hour}
)

// Defaults of the duration fields that are not set.
const (
	DefaultInterval         = time.Minute
	DefaultTimeout          = 5 * time.Minute
	DefaultProgressDeadline = 10 * time.Minute
	DefaultScaleDownDelay   = 30 * time.Second
	// DefaultCanaryScaleDownDelay covers a router's lag: Traefik, for
	// one, applies a change at most every 2 seconds by default.
	DefaultCanaryScaleDownDelay = 10 * time.Second
	DefaultMetricInterval       = 30 * time.Second
)

// durationOr returns d held within b, or def when d is unset, or zero
// where the bounds do not admit zero.
func durationOr(d *metav1.Duration, def time.Duration, b DurationBounds) time.Duration {
	if d == nil || (d.Duration <= 0 && b.Min > 0) {
		return def
	}
	return b.Clamp(d.Duration)
}

// IntervalOrDefault is how often Git is checked.
func (s SyncPolicy) IntervalOrDefault() time.Duration {
	return durationOr(s.Interval, DefaultInterval, IntervalBounds)
}

// TimeoutOrDefault bounds the wait for health, per wave.
func (s SyncPolicy) TimeoutOrDefault() time.Duration {
	return durationOr(s.Timeout, DefaultTimeout, TimeoutBounds)
}

// ProgressDeadlineOrDefault bounds how long a copy may take to become
// available at a step.
func (s RolloutSpec) ProgressDeadlineOrDefault() time.Duration {
	return durationOr(s.ProgressDeadline, DefaultProgressDeadline, TimeoutBounds)
}

// ScaleDownDelayOrDefault is how long the old pods stay after a switch.
func (s BlueGreenStrategy) ScaleDownDelayOrDefault() time.Duration {
	return durationOr(s.ScaleDownDelay, DefaultScaleDownDelay, DelayBounds)
}

// ScaleDownDelayOrDefault is how long a routed canary's pods stay after
// all traffic went back to stable.
func (s CanaryStrategy) ScaleDownDelayOrDefault() time.Duration {
	return durationOr(s.ScaleDownDelay, DefaultCanaryScaleDownDelay, DelayBounds)
}

// Timed returns how long the pause waits, and false for a pause until
// promoted.
func (p RolloutPause) Timed() (time.Duration, bool) {
	if p.Duration == nil {
		return 0, false
	}
	return DelayBounds.Clamp(p.Duration.Duration), true
}

// IntervalOrDefault is the time between two measurements.
func (m Metric) IntervalOrDefault() time.Duration {
	return durationOr(m.Interval, DefaultMetricInterval, MetricIntervalBounds)
}

// InitialDelayOrDefault is the wait before the first measurement; none by
// default.
func (m Metric) InitialDelayOrDefault() time.Duration {
	return durationOr(m.InitialDelay, 0, DurationBounds{Max: MetricIntervalBounds.Max})
}
