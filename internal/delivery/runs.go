package delivery

import (
	"context"
	"fmt"
	"time"

	"weir.dev/weir/api/v1alpha1"
)

// Names of analysis runs in a Rollout's status.
const (
	backgroundRun   = "background"
	prePromotionRun = "pre-promotion"
)

// stepRunName names the run of the analysis step at index step.
func stepRunName(step int32) string { return fmt.Sprintf("step-%d", step) }

// findRun returns the run called name, or nil.
func findRun(s *v1alpha1.RolloutStatus, name string) *v1alpha1.AnalysisRunStatus {
	for i := range s.Analyses {
		if s.Analyses[i].Name == name {
			return &s.Analyses[i]
		}
	}
	return nil
}

// analysisArgs are the arguments weir passes every template.
func analysisArgs(w *world) map[string]string {
	ro := w.ro
	args := map[string]string{
		"namespace": ro.Namespace, "rollout": ro.Name,
		"canary-hash": ro.Status.CanaryHash, "stable-hash": ro.Status.StableHash,
	}
	if c := ro.Spec.Strategy.Canary; c != nil {
		args["service"] = c.Service
		args["stable-service"] = c.Service + "-" + RoleStable
		args["canary-service"] = c.Service + "-" + RoleCanary
	}
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		args["service"] = bg.ActiveService
		args["stable-service"] = bg.ActiveService
		args["canary-service"] = bg.PreviewService
	}
	return args
}

// runAnalysis starts the run called name when it has not started and takes
// the measurements that are due. It returns the run, and how long until
// the next measurement is due while it is running.
func (d *Driver) runAnalysis(ctx context.Context, w *world, name string, step int32, spec v1alpha1.AnalysisStep) (*v1alpha1.AnalysisRunStatus, time.Duration, error) {
	s := &w.ro.Status
	now := d.now()
	args := analysisArgs(w)
	if findRun(s, name) == nil {
		run, err := d.Analyzer.Start(ctx, w.ro, name, step, spec, args, now)
		if err != nil {
			return nil, 0, stall(ReasonAnalysisNotReady, err)
		}
		s.Analyses = append(s.Analyses, run)
	}
	run := findRun(s, name)
	wait, err := d.Analyzer.Advance(ctx, w.ro, run, spec, args, now)
	return run, wait, err
}

// background advances the analysis that runs for the whole rollout; a
// failure aborts the rollout, and aborted says so. An inconclusive
// background run does not stop the rollout: only failures do.
func (d *Driver) background(ctx context.Context, w *world) (wait time.Duration, aborted bool, err error) {
	spec := w.ro.Spec.Analysis
	if spec == nil {
		return 0, false, nil
	}
	run, wait, err := d.runAnalysis(ctx, w, backgroundRun, w.ro.Status.CurrentStep, *spec)
	if err != nil {
		return 0, false, err
	}
	if failedRun(run) {
		_, err := d.abort(ctx, w, ReasonAnalysisFailed, "background analysis: "+run.Message)
		return 0, true, err
	}
	return wait, false, nil
}

// stepAnalysis runs an analysis step: done when it succeeds, an abort when
// it fails, a pause until promoted or aborted by hand when inconclusive.
func (d *Driver) stepAnalysis(ctx context.Context, w *world, spec v1alpha1.AnalysisStep) (Result, bool, error) {
	s := &w.ro.Status
	name := stepRunName(s.CurrentStep)
	run, wait, err := d.runAnalysis(ctx, w, name, s.CurrentStep, spec)
	if err != nil {
		return Result{}, false, err
	}
	return d.judge(ctx, w, run, wait, fmt.Sprintf("analysis at step %d", s.CurrentStep))
}

// judge turns a run's phase into the rollout's next move.
func (d *Driver) judge(ctx context.Context, w *world, run *v1alpha1.AnalysisRunStatus, wait time.Duration, what string) (Result, bool, error) {
	s := &w.ro.Status
	switch {
	case failedRun(run):
		res, err := d.abort(ctx, w, ReasonAnalysisFailed, what+": "+run.Message)
		return res, false, err
	case run.Phase == v1alpha1.AnalysisSuccessful:
		return Result{}, true, nil
	case run.Phase == v1alpha1.AnalysisInconclusive:
		s.Phase = v1alpha1.RolloutPaused
		d.progressing(w.ro, fmt.Sprintf("Paused: %s is inconclusive (%s); `weir rollout promote` goes on, `weir rollout abort` rolls back", what, run.Message))
		return Result{}, false, nil
	}
	s.Phase = v1alpha1.RolloutProgressing
	d.progressing(w.ro, fmt.Sprintf("Releasing revision %s: %s running", s.Revision, what))
	return Result{RequeueAfter: wait}, false, nil
}

// failedRun reports whether a run's verdict fails the release.
func failedRun(run *v1alpha1.AnalysisRunStatus) bool {
	return run.Phase == v1alpha1.AnalysisFailed || run.Phase == v1alpha1.AnalysisError
}
