package metrics

import (
	"errors"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// namespace prefixes every metric name.
const namespace = "weir"

// Outcomes of a webhook request, the values of the "outcome" label.
const (
	OutcomeAccepted     = "accepted"
	OutcomeIgnored      = "ignored"
	OutcomeUnauthorized = "unauthorized"
	OutcomeBadRequest   = "bad_request"
	OutcomeThrottled    = "throttled"
	OutcomeError        = "error"
)

// Recorder records weir's metrics. Its methods are safe for concurrent use,
// and do nothing on a nil Recorder, so that recording stays optional.
type Recorder struct {
	syncDuration    *prometheus.HistogramVec
	syncs           *prometheus.CounterVec
	driftDetected   prometheus.Counter
	driftCorrected  prometheus.Counter
	fetchDuration   prometheus.Histogram
	fetchFailures   prometheus.Counter
	webhookRequests *prometheus.CounterVec
}

// NewRecorder returns a Recorder whose collectors are registered with reg.
// When reg already holds weir's collectors (another part of the process
// registered them), the Recorder records into those, so that every part
// adds to the same series.
func NewRecorder(reg prometheus.Registerer) (*Recorder, error) {
	var err error
	r := &Recorder{
		syncDuration: register(reg, prometheus.NewHistogramVec(histogramOpts("sync_duration_seconds",
			"Duration of Application syncs, from plan to prune, by result.",
			0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300), []string{"result"}), &err),
		syncs: register(reg, prometheus.NewCounterVec(counterOpts("syncs_total",
			"Application syncs, by result."), []string{"result"}), &err),
		driftDetected: register(reg, prometheus.NewCounter(counterOpts("drift_detected_total",
			"Managed objects found changed outside weir.")), &err),
		driftCorrected: register(reg, prometheus.NewCounter(counterOpts("drift_corrected_total",
			"Drifted objects weir set back to Git's state.")), &err),
		fetchDuration: register(reg, prometheus.NewHistogram(histogramOpts("git_fetch_duration_seconds",
			"Duration of resolving an Application's ref and checking out its commit.",
			0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)), &err),
		fetchFailures: register(reg, prometheus.NewCounter(counterOpts("git_fetch_failures_total",
			"Git fetches that failed.")), &err),
		webhookRequests: register(reg, prometheus.NewCounterVec(counterOpts("webhook_requests_total",
			"Push webhook requests, by provider and outcome."), []string{"provider", "outcome"}), &err),
	}
	if err != nil {
		return nil, err
	}
	for _, result := range []weirv1.SyncResult{weirv1.SyncSucceeded, weirv1.SyncFailed} {
		r.syncs.WithLabelValues(resultLabel(result))
		r.syncDuration.WithLabelValues(resultLabel(result))
	}
	return r, nil
}

func counterOpts(name, help string) prometheus.CounterOpts {
	return prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}
}

func histogramOpts(name, help string, buckets ...float64) prometheus.HistogramOpts {
	return prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}
}

// register registers c with reg, or returns the equal collector reg already
// holds. The first error is kept in errp.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
	err := reg.Register(c)
	if are := (prometheus.AlreadyRegisteredError{}); errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	if err != nil && *errp == nil {
		*errp = err
	}
	return c
}

// ObserveSync records a finished sync: its result and how long it took.
func (r *Recorder) ObserveSync(result weirv1.SyncResult, took time.Duration) {
	if r == nil {
		return
	}
	label := resultLabel(result)
	r.syncs.WithLabelValues(label).Inc()
	r.syncDuration.WithLabelValues(label).Observe(took.Seconds())
}

// DriftDetected counts one managed object found changed outside weir.
func (r *Recorder) DriftDetected() {
	if r == nil {
		return
	}
	r.driftDetected.Inc()
}

// DriftCorrected counts one drifted object set back to Git's state.
func (r *Recorder) DriftCorrected() {
	if r == nil {
		return
	}
	r.driftCorrected.Inc()
}

// ObserveFetch records a Git fetch: how long it took and, when err is not
// nil, that it failed.
func (r *Recorder) ObserveFetch(took time.Duration, err error) {
	if r == nil {
		return
	}
	r.fetchDuration.Observe(took.Seconds())
	if err != nil {
		r.fetchFailures.Inc()
	}
}

// WebhookRequest counts one webhook request from provider with its outcome
// (one of the Outcome constants).
func (r *Recorder) WebhookRequest(provider, outcome string) {
	if r == nil {
		return
	}
	r.webhookRequests.WithLabelValues(provider, outcome).Inc()
}

// resultLabel is a sync result as a label value: "succeeded", "failed".
func resultLabel(result weirv1.SyncResult) string { return strings.ToLower(string(result)) }
