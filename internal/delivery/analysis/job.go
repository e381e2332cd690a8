package analysis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// Labels and annotations of the Jobs that job metrics run.
const (
	// RunLabel on a Job identifies the analysis run that started it: a
	// hash of the Rollout's UID, the run's name and the time it started.
	RunLabel = "weir.dev/analysis-run"
	// MetricAnnotation on a Job names its metric, "template/metric".
	MetricAnnotation = "weir.dev/analysis-metric"
)

// defaultJobTTL is how long a finished Job is kept when its template does
// not say: long enough to read its logs, short enough not to pile up.
const defaultJobTTL = 3600

// jobProvider runs a Job per measurement; the measurement stays in flight
// until the Job is complete (Successful) or failed (Failed).
type jobProvider struct {
	client client.Client
}

func newJobProvider(c client.Client) *jobProvider {
	return &jobProvider{client: c}
}

// measure creates the measurement's Job. Its name is derived from the run,
// so a Job created before a restart is found, not created twice.
func (p *jobProvider) measure(ctx context.Context, req request) (observation, error) {
	job := newJob(req)
	err := p.client.Create(ctx, job)
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return observation{}, fmt.Errorf("create Job %s/%s: %w", job.Namespace, job.Name, err)
	}
	return observation{phase: v1alpha1.AnalysisRunning, message: "Job " + job.Name + " running"}, nil
}

// resume reads the Job of the measurement in flight. A Job that is gone
// (deleted by hand, or not yet in a cache) is created again.
func (p *jobProvider) resume(ctx context.Context, req request) (observation, error) {
	name := jobName(req.ro, req.run, req.spec.name, req.index)
	var job batchv1.Job
	err := p.client.Get(ctx, client.ObjectKey{Namespace: req.ro.Namespace, Name: name}, &job)
	if apierrors.IsNotFound(err) {
		return p.measure(ctx, req)
	}
	if err != nil {
		return observation{}, fmt.Errorf("read Job %s/%s: %w", req.ro.Namespace, name, err)
	}
	return observeJob(&job), nil
}

// observeJob reads a Job's verdict from its Complete and Failed conditions.
func observeJob(job *batchv1.Job) observation {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return observation{phase: v1alpha1.AnalysisSuccessful, message: "Job " + job.Name + " complete"}
		case batchv1.JobFailed:
			msg := "Job " + job.Name + " failed: " + c.Reason
			if c.Message != "" {
				msg += ": " + c.Message
			}
			return observation{phase: v1alpha1.AnalysisFailed, message: msg}
		}
	}
	return observation{phase: v1alpha1.AnalysisRunning, message: "Job " + job.Name + " running"}
}

// stop deletes the run's Jobs that have not finished: those in flight by
// name, so that a cache that has not seen them yet cannot hide them, and
// any other by label (one created just before a crash, say). Finished Jobs
// are kept for their logs, which explain a failure, until their TTL.
func (p *jobProvider) stop(ctx context.Context, ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRunStatus) error {
	names := map[string]bool{}
	for i := range run.Metrics {
		r := &run.Metrics[i]
		if inFlight(r) != nil {
			names[jobName(ro, run, r.Name, index(r))] = true
		}
	}
	var jobs batchv1.JobList
	err := p.client.List(ctx, &jobs, client.InNamespace(ro.Namespace),
		client.MatchingLabels{v1alpha1.RolloutLabel: ro.Name, RunLabel: runID(ro, run)})
	if err != nil {
		return fmt.Errorf("list the Jobs of analysis %q: %w", run.Name, err)
	}
	for _, j := range jobs.Items {
		if observeJob(&j).phase == v1alpha1.AnalysisRunning {
			names[j.Name] = true
		}
	}
	var errs []error
	for name := range names {
		job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ro.Namespace, Name: name}}
		err := p.client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground))
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete Job %s/%s: %w", ro.Namespace, name, err))
		}
	}
	return errors.Join(errs...)
}

// newJob builds the Job of a measurement: labelled with the Rollout and
// the run, owned by the Rollout.
func newJob(req request) *batchv1.Job {
	spec := *req.spec.metric.Provider.Job.Spec.DeepCopy()
	if spec.TTLSecondsAfterFinished == nil {
		spec.TTLSecondsAfterFinished = ptr.To[int32](defaultJobTTL)
	}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:      jobName(req.ro, req.run, req.spec.name, req.index),
			Namespace: req.ro.Namespace,
			Labels:    map[string]string{v1alpha1.RolloutLabel: req.ro.Name, RunLabel: runID(req.ro, req.run)},
			Annotations: map[string]string{
				MetricAnnotation:                req.spec.name,
				"weir.dev/analysis-run-name":    req.run.Name,
				"weir.dev/analysis-measurement": strconv.Itoa(int(req.index)),
			},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1alpha1.GroupVersion.String(),
				Kind:       "Rollout",
				Name:       req.ro.Name,
				UID:        req.ro.UID,
				Controller: ptr.To(true),
			}},
		},
		Spec: spec,
	}
}

// runID identifies a run across restarts: a rerun of a step (a new
// revision, a retry) starts at another time and gets another ID.
func runID(ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRunStatus) string {
	return shortHash(string(ro.UID), run.Name, strconv.FormatInt(run.StartedAt.Unix(), 10))
}

// jobName is "<rollout>-<run>-<metric>-<index>-<hash>", shortened to fit
// the 63 characters of a label value (the Job's pods carry it).
func jobName(ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRunStatus, metric string, idx int32) string {
	suffix := fmt.Sprintf("-%d-%s", idx, shortHash(runID(ro, run), metric)[:6])
	base := dnsLabel(ro.Name + "-" + run.Name + "-" + metricPart(metric))
	if n := 63 - len(suffix); len(base) > n {
		base = strings.TrimRight(base[:n], "-")
	}
	return base + suffix
}

// dnsLabel lowercases s and turns what a DNS label cannot hold into '-'.
func dnsLabel(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '-'
		}
	}
	return strings.Trim(string(b), "-")
}

func shortHash(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])[:10]
}
