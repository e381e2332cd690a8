package analysis

import (
	"context"
	"time"

	"weir.dev/weir/api/v1alpha1"
)

// maxMeasureTimeout bounds the timeout a metric may set on one request to
// Prometheus or a web endpoint: a longer wait would hold the Rollout's
// reconcile, and a worker, on a server that never answers.
const maxMeasureTimeout = 2 * time.Minute

// measureTimeout is the timeout a metric sets, def when it sets none, and
// maxMeasureTimeout at most.
func measureTimeout(set, def time.Duration) time.Duration {
	switch {
	case set <= 0:
		return def
	case set > maxMeasureTimeout:
		return maxMeasureTimeout
	}
	return set
}

// provider takes measurements of one kind of metric. Each lives in its own
// file: prometheus.go, web.go, job.go.
type provider interface {
	// measure takes a measurement at req.now, or starts one that finishes
	// later and returns an observation in phase Running.
	measure(ctx context.Context, req request) (observation, error)
}

// resumer is a provider whose measurements can stay in flight across calls
// to Advance (and across restarts of the controller).
type resumer interface {
	provider
	// resume checks on the measurement in flight: still Running, or done.
	resume(ctx context.Context, req request) (observation, error)
	// stop cancels whatever the run still has in flight.
	stop(ctx context.Context, ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRunStatus) error
}

// request is one measurement of one metric of a run.
type request struct {
	ro    *v1alpha1.Rollout
	run   *v1alpha1.AnalysisRunStatus
	spec  *metricSpec
	index int32
	now   time.Time
}

// observation is what a provider saw.
type observation struct {
	// result is judged by the metric's conditions when phase is empty: a
	// float64 from Prometheus, a decoded JSON value from the web.
	result any
	// value is the result as text for the status.
	value string
	// phase is set by providers that judge for themselves (a Job), for a
	// measurement in flight (Running), and for no data (Inconclusive).
	phase v1alpha1.AnalysisPhase
	// message explains the phase the provider set.
	message string
	// secrets are values read from Secrets for the measurement; they are
	// kept out of the status, should a condition's error quote them.
	secrets []string
}
