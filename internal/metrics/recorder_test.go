package metrics

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

func newRecorder(t *testing.T) (*Recorder, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	r, err := NewRecorder(reg)
	if err != nil {
		t.Fatal(err)
	}
	return r, reg
}

func TestSyncsAreCountedAndTimedByResult(t *testing.T) {
	r, reg := newRecorder(t)
	r.ObserveSync(weirv1.SyncSucceeded, 2*time.Second)
	r.ObserveSync(weirv1.SyncSucceeded, 200*time.Millisecond)
	r.ObserveSync(weirv1.SyncFailed, time.Second)

	wantSyncs(t, reg, 1, 2)
	if n := testutil.CollectAndCount(r.syncDuration); n != 2 {
		t.Errorf("sync duration has %d series, want one per result", n)
	}
	if got := histogramSum(t, r.syncDuration.WithLabelValues("succeeded")); got != 2.2 {
		t.Errorf("succeeded syncs took %v s in all, want 2.2", got)
	}
}

func TestResultSeriesExistBeforeTheFirstSync(t *testing.T) {
	_, reg := newRecorder(t)
	wantSyncs(t, reg, 0, 0)
}

// wantSyncs checks weir_syncs_total in reg.
func wantSyncs(t *testing.T, reg prometheus.Gatherer, failed, succeeded int) {
	t.Helper()
	want := fmt.Sprintf(`
# HELP weir_syncs_total Application syncs, by result.
# TYPE weir_syncs_total counter
weir_syncs_total{result="failed"} %d
weir_syncs_total{result="succeeded"} %d
`, failed, succeeded)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "weir_syncs_total"); err != nil {
		t.Error(err)
	}
}

func TestFetchesAndFailures(t *testing.T) {
	r, _ := newRecorder(t)
	r.ObserveFetch(100*time.Millisecond, nil)
	r.ObserveFetch(300*time.Millisecond, errors.New("remote hung up"))
	if got := testutil.ToFloat64(r.fetchFailures); got != 1 {
		t.Errorf("fetch failures = %v, want 1", got)
	}
	if got := histogramCount(t, r.fetchDuration); got != 2 {
		t.Errorf("fetch duration has %d observations, want 2", got)
	}
}

func TestDriftCounters(t *testing.T) {
	r, _ := newRecorder(t)
	r.DriftDetected()
	r.DriftDetected()
	r.DriftCorrected()
	if got := testutil.ToFloat64(r.driftDetected); got != 2 {
		t.Errorf("drift detected = %v, want 2", got)
	}
	if got := testutil.ToFloat64(r.driftCorrected); got != 1 {
		t.Errorf("drift corrected = %v, want 1", got)
	}
}

func TestWebhookRequestsByProviderAndOutcome(t *testing.T) {
	r, reg := newRecorder(t)
	r.WebhookRequest("github", OutcomeAccepted)
	r.WebhookRequest("github", OutcomeAccepted)
	r.WebhookRequest("gitlab", OutcomeUnauthorized)
	want := `
# HELP weir_webhook_requests_total Push webhook requests, by provider and outcome.
# TYPE weir_webhook_requests_total counter
weir_webhook_requests_total{outcome="accepted",provider="github"} 2
weir_webhook_requests_total{outcome="unauthorized",provider="gitlab"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "weir_webhook_requests_total"); err != nil {
		t.Error(err)
	}
}

func TestRecordersOfOneRegistryShareTheirSeries(t *testing.T) {
	first, reg := newRecorder(t)
	second, err := NewRecorder(reg)
	if err != nil {
		t.Fatalf("a second Recorder on the same registry: %v", err)
	}
	first.WebhookRequest("gitea", OutcomeIgnored)
	second.WebhookRequest("gitea", OutcomeIgnored)
	if got := testutil.ToFloat64(first.webhookRequests.WithLabelValues("gitea", OutcomeIgnored)); got != 2 {
		t.Errorf("requests counted through both Recorders = %v, want 2", got)
	}
}

func TestMetricNamesFollowPrometheusConventions(t *testing.T) {
	_, reg := newRecorder(t)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func TestANilRecorderRecordsNothing(t *testing.T) {
	var r *Recorder
	r.ObserveSync(weirv1.SyncSucceeded, time.Second)
	r.ObserveFetch(time.Second, nil)
	r.DriftDetected()
	r.DriftCorrected()
	r.WebhookRequest("github", OutcomeAccepted)
	r.ObservePhase(PhaseApply, time.Second)
}

func TestPhasesAreTimedByName(t *testing.T) {
	r, _ := newRecorder(t)
	r.ObservePhase(PhaseApply, time.Second)
	r.ObservePhase(PhaseApply, 500*time.Millisecond)
	r.ObservePhase(PhaseWait, 2*time.Second)
	if got := histogramSum(t, r.syncPhase.WithLabelValues(PhaseApply)); got != 1.5 {
		t.Errorf("apply took %v s in all, want 1.5", got)
	}
	if got := histogramCount(t, r.syncPhase.WithLabelValues(PhaseWait)); got != 1 {
		t.Errorf("%d waits timed, want 1", got)
	}
}

func histogramSum(t *testing.T, o prometheus.Observer) float64 {
	t.Helper()
	return histogramOf(t, o).GetSampleSum()
}

func histogramCount(t *testing.T, o prometheus.Observer) uint64 {
	t.Helper()
	return histogramOf(t, o).GetSampleCount()
}

func histogramOf(t *testing.T, o prometheus.Observer) *dto.Histogram {
	t.Helper()
	var m dto.Metric
	if err := o.(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram()
}

func TestApplicationAndRolloutGauges(t *testing.T) {
	r, reg := newRecorder(t)
	app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
	app.Status.Conditions = []metav1.Condition{
		{Type: weirv1.SyncedCondition, Status: metav1.ConditionTrue},
		{Type: weirv1.HealthyCondition, Status: metav1.ConditionFalse},
	}
	r.ObserveApplication(app)
	ro := &weirv1.Rollout{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
	ro.Status.Phase, ro.Status.CurrentStep, ro.Status.CanaryWeight = weirv1.RolloutPaused, 2, 40
	r.ObserveRollout(ro)
	want := `
# HELP weir_application_healthy 1 when every object the Application applied is Current (condition Healthy), else 0.
# TYPE weir_application_healthy gauge
weir_application_healthy{name="web",namespace="shop"} 0
# HELP weir_application_synced 1 when the Application's cluster matches its last revision (condition Synced), else 0.
# TYPE weir_application_synced gauge
weir_application_synced{name="web",namespace="shop"} 1
# HELP weir_rollout_phase 1 for the Rollout's phase, 0 for the others.
# TYPE weir_rollout_phase gauge
weir_rollout_phase{name="web",namespace="shop",phase="Aborted"} 0
weir_rollout_phase{name="web",namespace="shop",phase="Idle"} 0
weir_rollout_phase{name="web",namespace="shop",phase="Paused"} 1
weir_rollout_phase{name="web",namespace="shop",phase="Progressing"} 0
weir_rollout_phase{name="web",namespace="shop",phase="Promoting"} 0
# HELP weir_rollout_step The index of the Rollout's current canary step.
# TYPE weir_rollout_step gauge
weir_rollout_step{name="web",namespace="shop"} 2
# HELP weir_rollout_weight The share of traffic, in percent, on the Rollout's canary.
# TYPE weir_rollout_weight gauge
weir_rollout_weight{name="web",namespace="shop"} 40
`
	names := []string{"weir_application_healthy", "weir_application_synced", "weir_rollout_phase", "weir_rollout_step", "weir_rollout_weight"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	r.ForgetApplication("shop", "web")
	r.ForgetRollout("shop", "web")
	if n, err := testutil.GatherAndCount(reg, names...); err != nil || n != 0 {
		t.Errorf("after Forget, %d series remain (%v), want none", n, err)
	}
}
