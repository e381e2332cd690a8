package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// jobMetric runs a smoke test. On kwok's fake nodes a Job's pod runs and
// then succeeds at once (kwok's pod-complete stage, which testenv loads);
// a pod that selects no node stays Pending, so activeDeadlineSeconds fails
// its Job, and without a deadline its measurement stays in flight.
func jobMetric(unschedulable bool, deadline int64) v1alpha1.Metric {
	pod := corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Containers:    []corev1.Container{{Name: "smoke", Image: "{{args.image}}", Args: []string{"http://{{args.canary-service}}/healthz"}}},
	}
	if unschedulable {
		pod.NodeSelector = map[string]string{"weir.dev/no-such-node": "true"}
	}
	spec := batchv1.JobSpec{BackoffLimit: ptr.To[int32](0), Template: corev1.PodTemplateSpec{Spec: pod}}
	if deadline > 0 {
		spec.ActiveDeadlineSeconds = ptr.To(deadline)
	}
	return v1alpha1.Metric{
		Name:     "smoke",
		Interval: &metav1.Duration{Duration: time.Second},
		Provider: v1alpha1.MetricProvider{Job: &v1alpha1.JobMetric{Spec: spec}},
	}
}

var jobArgs = map[string]string{"image": "curlimages/curl:8.10.1", "canary-service": "web-canary"}

func TestJobMetricSucceedsAndResumesAfterARestart(t *testing.T) {
	ns := testenv.Namespace(t)
	c := clusterClient(t)
	ctx := testenv.Context(t, 2*time.Minute)
	ro := createRollout(t, c, ns)
	createTemplate(t, c, ns, "smoke", nil, jobMetric(false, 0))
	spec := stepOf("smoke")

	a := NewAnalyzer(c, WithJobPollInterval(200*time.Millisecond))
	run, err := a.Start(ctx, ro, "step-1", 1, spec, jobArgs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wait, err := a.Advance(ctx, ro, &run, spec, jobArgs, time.Now())
	if err != nil || wait != 200*time.Millisecond {
		t.Fatalf("first Advance: wait %s, %v; want the job poll interval", wait, err)
	}
	if m := run.Metrics[0].Measurements; len(m) != 1 || m[0].Phase != v1alpha1.AnalysisRunning {
		t.Fatalf("measurements after the Job started: %+v", m)
	}

	// A restarted controller: a new Analyzer and the status as the API
	// server would give it back.
	run = roundTrip(t, run)
	a = NewAnalyzer(c, WithJobPollInterval(200*time.Millisecond))
	for wait > 0 {
		time.Sleep(wait)
		if wait, err = a.Advance(ctx, ro, &run, spec, jobArgs, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if run.Phase != v1alpha1.AnalysisSuccessful || !strings.Contains(run.Message, `metric "smoke" successful: Job web-step-1-smoke-0-`) {
		t.Fatalf("run = %s %q", run.Phase, run.Message)
	}

	jobs := runJobs(ctx, t, c, ro, &run)
	if len(jobs) != 1 {
		t.Fatalf("%d Jobs for one measurement, want 1", len(jobs))
	}
	job := jobs[0]
	if job.Labels[v1alpha1.RolloutLabel] != ro.Name || len(job.OwnerReferences) != 1 || job.OwnerReferences[0].UID != ro.UID {
		t.Errorf("Job labels %v, owners %+v", job.Labels, job.OwnerReferences)
	}
	if got := job.Spec.Template.Spec.Containers[0].Args[0]; got != "http://web-canary/healthz" {
		t.Errorf("Job args = %q, want the canary-service argument filled in", got)
	}
}

func TestJobMetricFails(t *testing.T) {
	ns := testenv.Namespace(t)
	c := clusterClient(t)
	ctx := testenv.Context(t, 2*time.Minute)
	ro := createRollout(t, c, ns)
	createTemplate(t, c, ns, "smoke", nil, jobMetric(true, 2))
	a := NewAnalyzer(c, WithJobPollInterval(200*time.Millisecond))
	run := runToVerdict(ctx, t, a, ro, stepOf("smoke"), jobArgs)
	if run.Phase != v1alpha1.AnalysisFailed || !strings.Contains(run.Message, "failed: DeadlineExceeded") {
		t.Fatalf("run = %s %q", run.Phase, run.Message)
	}
}

func TestStopDeletesTheJobInFlight(t *testing.T) {
	ns := testenv.Namespace(t)
	c := clusterClient(t)
	ctx := testenv.Context(t, time.Minute)
	ro := createRollout(t, c, ns)
	createTemplate(t, c, ns, "smoke", nil, jobMetric(true, 0))
	spec := stepOf("smoke")
	a := NewAnalyzer(c)
	run, err := a.Start(ctx, ro, "step-1", 1, spec, jobArgs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Advance(ctx, ro, &run, spec, jobArgs, time.Now()); err != nil {
		t.Fatal(err)
	}
	name := jobName(ro, &run, run.Metrics[0].Name, 0)
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &batchv1.Job{}); err != nil {
		t.Fatalf("the measurement's Job: %v", err)
	}
	if err := a.Stop(ctx, ro, &run); err != nil {
		t.Fatal(err)
	}
	if run.Phase != v1alpha1.AnalysisInconclusive || run.Metrics[0].Measurements[0].Phase != v1alpha1.AnalysisInconclusive {
		t.Fatalf("after Stop: %+v", run)
	}
	testenv.Eventually(t, 30*time.Second, "the Job is deleted", func(ctx context.Context) error {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &batchv1.Job{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("Job %s: %v", name, err)
	})
	if err := a.Stop(ctx, ro, &run); err != nil {
		t.Fatalf("a second Stop: %v", err)
	}
}

func roundTrip(t testing.TB, run v1alpha1.AnalysisRunStatus) v1alpha1.AnalysisRunStatus {
	t.Helper()
	data, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	var out v1alpha1.AnalysisRunStatus
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func runJobs(ctx context.Context, t testing.TB, c client.Client, ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRunStatus) []batchv1.Job {
	t.Helper()
	var jobs batchv1.JobList
	if err := c.List(ctx, &jobs, client.InNamespace(ro.Namespace), client.MatchingLabels{RunLabel: runID(ro, run)}); err != nil {
		t.Fatal(err)
	}
	return jobs.Items
}
