package metrics

import (
	"errors"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
	syncPhase       *prometheus.HistogramVec
	appSynced       *prometheus.GaugeVec
	appHealthy      *prometheus.GaugeVec
	rolloutPhase    *prometheus.GaugeVec
	rolloutStep     *prometheus.GaugeVec
	rolloutWeight   *prometheus.GaugeVec
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
		syncPhase: register(reg, prometheus.NewHistogramVec(histogramOpts("sync_phase_duration_seconds",
			"Duration of each phase of a reconcile of an Application, by phase: resolve, render, dry-run, apply, wait, prune, status.",
			0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60), []string{"phase"}), &err),
		appSynced: register(reg, prometheus.NewGaugeVec(gaugeOpts("application_synced",
			"1 when the Application's cluster matches its last revision (condition Synced), else 0."), objectLabels), &err),
		appHealthy: register(reg, prometheus.NewGaugeVec(gaugeOpts("application_healthy",
			"1 when every object the Application applied is Current (condition Healthy), else 0."), objectLabels), &err),
		rolloutPhase: register(reg, prometheus.NewGaugeVec(gaugeOpts("rollout_phase",
			"1 for the Rollout's phase, 0 for the others."), []string{"namespace", "name", "phase"}), &err),
		rolloutStep: register(reg, prometheus.NewGaugeVec(gaugeOpts("rollout_step",
			"The index of the Rollout's current canary step."), objectLabels), &err),
		rolloutWeight: register(reg, prometheus.NewGaugeVec(gaugeOpts("rollout_weight",
			"The share of traffic, in percent, on the Rollout's canary."), objectLabels), &err),
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

// objectLabels name the Application or Rollout of a per-object series.
var objectLabels = []string{"namespace", "name"}

// rolloutPhases are the values of weir_rollout_phase's phase label.
var rolloutPhases = []weirv1.RolloutPhase{weirv1.RolloutIdle, weirv1.RolloutProgressing,
	weirv1.RolloutPaused, weirv1.RolloutPromoting, weirv1.RolloutAborted}

func gaugeOpts(name, help string) prometheus.GaugeOpts {
	return prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}
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

// The phases of a reconcile, the values of weir_sync_phase_duration_seconds'
// phase label.
const (
	PhaseResolve = "resolve" // the ref resolved and its commit checked out
	PhaseRender  = "render"
	PhaseDryRun  = "dry-run" // the plan: the whole set dry-run on the server
	PhaseApply   = "apply"   // one stage applied
	PhaseWait    = "wait"    // one stage's objects awaited healthy
	PhasePrune   = "prune"
	PhaseStatus  = "status" // the Application's status patched
	// PhaseDriftCheck is the objects changed outside weir compared, by a
	// dry run, with what weir applied last.
	PhaseDriftCheck = "drift-check"
	// PhaseHeal is the drifted objects re-applied.
	PhaseHeal = "heal"
)

// ObservePhase records how long one phase of a reconcile took.
func (r *Recorder) ObservePhase(phase string, took time.Duration) {
	if r == nil {
		return
	}
	r.syncPhase.WithLabelValues(phase).Observe(took.Seconds())
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

// ObserveApplication sets app's sync and health gauges from its
// conditions.
func (r *Recorder) ObserveApplication(app *weirv1.Application) {
	if r == nil {
		return
	}
	r.appSynced.WithLabelValues(app.Namespace, app.Name).Set(conditionValue(app.Status.Conditions, weirv1.SyncedCondition))
	r.appHealthy.WithLabelValues(app.Namespace, app.Name).Set(conditionValue(app.Status.Conditions, weirv1.HealthyCondition))
}

// ForgetApplication drops the gauges of a deleted Application.
func (r *Recorder) ForgetApplication(namespace, name string) {
	if r == nil {
		return
	}
	r.appSynced.DeleteLabelValues(namespace, name)
	r.appHealthy.DeleteLabelValues(namespace, name)
}

// ObserveRollout sets ro's phase, step and weight gauges from its status.
func (r *Recorder) ObserveRollout(ro *weirv1.Rollout) {
	if r == nil {
		return
	}
	phase := ro.Status.Phase
	if phase == "" {
		phase = weirv1.RolloutIdle
	}
	for _, p := range rolloutPhases {
		v := 0.0
		if p == phase {
			v = 1
		}
		r.rolloutPhase.WithLabelValues(ro.Namespace, ro.Name, string(p)).Set(v)
	}
	r.rolloutStep.WithLabelValues(ro.Namespace, ro.Name).Set(float64(ro.Status.CurrentStep))
	r.rolloutWeight.WithLabelValues(ro.Namespace, ro.Name).Set(float64(ro.Status.CanaryWeight))
}

// ForgetRollout drops the gauges of a deleted Rollout.
func (r *Recorder) ForgetRollout(namespace, name string) {
	if r == nil {
		return
	}
	r.rolloutPhase.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "name": name})
	r.rolloutStep.DeleteLabelValues(namespace, name)
	r.rolloutWeight.DeleteLabelValues(namespace, name)
}

// conditionValue is 1 when the condition of type typ is True, else 0.
func conditionValue(conds []metav1.Condition, typ string) float64 {
	if apimeta.IsStatusConditionTrue(conds, typ) {
		return 1
	}
	return 0
}
