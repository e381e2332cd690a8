package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/delivery/traffic"
)

// advanceCanary runs one step of a canary, or waits for the one running.
func (d *Driver) advanceCanary(ctx context.Context, w *world) (Result, error) {
	if err := d.ensureRouting(ctx, w); err != nil {
		return Result{}, err
	}
	router, err := d.router(w)
	if err != nil {
		return Result{}, err
	}
	s := &w.ro.Status
	if s.Phase == v1alpha1.RolloutPromoting {
		return d.promoteCanary(ctx, w, router)
	}
	wait, aborted, err := d.background(ctx, w)
	if aborted || err != nil {
		return Result{RequeueAfter: d.poll()}, err
	}
	res, err := d.canaryProgress(ctx, w, router)
	return soonest(res, wait), err
}

// canaryProgress is advanceCanary past the background analysis.
func (d *Driver) canaryProgress(ctx context.Context, w *world, router traffic.Router) (Result, error) {
	s := &w.ro.Status
	if err := d.holdWeight(ctx, w, router); err != nil {
		return Result{}, err
	}
	if s.PausedByHand {
		s.Phase = v1alpha1.RolloutPaused
		d.progressing(w.ro, fmt.Sprintf("Paused by hand at step %d; `weir rollout resume` goes on", s.CurrentStep))
		return Result{}, nil
	}
	steps := w.ro.Spec.Strategy.Canary.Steps
	if int(s.CurrentStep) >= len(steps) {
		return d.startPromotion(w)
	}
	res, done, err := d.canaryStep(ctx, w, router, steps[s.CurrentStep])
	if err != nil || !done {
		return res, err
	}
	d.nextStep(w)
	return Result{RequeueAfter: time.Millisecond}, nil
}

// holdWeight sets the weight reached so far again, unless the current step
// moves it: a sync racing the last step may have put an older one back.
// Nothing is written when it holds. During a setWeight step the recorded
// weight may be older than the one set (the controller stopped before it
// recorded it), and the step sets its own.
func (d *Driver) holdWeight(ctx context.Context, w *world, router traffic.Router) error {
	steps, i := w.ro.Spec.Strategy.Canary.Steps, int(w.ro.Status.CurrentStep)
	if i < len(steps) && steps[i].SetWeight != nil {
		return nil
	}
	return router.SetWeight(ctx, w.ro.Status.CanaryWeight)
}

// nextStep records that the current step is done.
func (d *Driver) nextStep(w *world) {
	s := &w.ro.Status
	now := metav1.NewTime(d.now())
	s.CurrentStep++
	s.StepStartedAt, s.PauseStartedAt = &now, nil
	s.Phase = v1alpha1.RolloutProgressing
	msg := fmt.Sprintf("Releasing revision %s: step %d of %d, %d%% of traffic on the canary",
		s.Revision, s.CurrentStep, len(w.ro.Spec.Strategy.Canary.Steps), s.CanaryWeight)
	d.progressing(w.ro, msg)
	d.event(w.ro, corev1.EventTypeNormal, ReasonStepReached, msg)
}

// canaryStep runs one step; done says it is complete.
func (d *Driver) canaryStep(ctx context.Context, w *world, router traffic.Router, step v1alpha1.CanaryStep) (Result, bool, error) {
	if d.takeRequest(w.ro, v1alpha1.PromoteAnnotation) {
		d.skipStep(ctx, w)
		return Result{}, true, nil
	}
	switch {
	case step.SetWeight != nil:
		return d.setWeight(ctx, w, router, *step.SetWeight)
	case step.Pause != nil:
		return d.pause(w, step.Pause)
	case step.Analysis != nil:
		return d.stepAnalysis(ctx, w, *step.Analysis)
	case step.SetHeaderRoute != nil:
		return d.routerStep(ctx, w, "route by header", router.SetHeaderRoute(ctx, step.SetHeaderRoute))
	case step.SetMirror != nil:
		return d.routerStep(ctx, w, "mirror", router.SetMirror(ctx, step.SetMirror.Percent))
	}
	return Result{}, true, nil
}

// skipStep ends the current step at a promotion by hand: a pause ends, an
// analysis run stops without a verdict.
func (d *Driver) skipStep(ctx context.Context, w *world) {
	if run := findRun(&w.ro.Status, stepRunName(w.ro.Status.CurrentStep)); run != nil && run.Phase == v1alpha1.AnalysisRunning {
		if err := d.Analyzer.Stop(ctx, w.ro, run); err != nil {
			d.event(w.ro, corev1.EventTypeWarning, ReasonAnalysisNotReady, err.Error())
		}
	}
}

// routerStep turns a router's refusal into an abort: the step asks for
// what the router cannot do.
func (d *Driver) routerStep(ctx context.Context, w *world, what string, err error) (Result, bool, error) {
	if errors.Is(err, traffic.ErrUnsupported) {
		res, err := d.abort(ctx, w, ReasonRouterNotReady, fmt.Sprintf("step %d asks to %s: %v", w.ro.Status.CurrentStep, what, err))
		return res, false, err
	}
	return Result{}, err == nil, err
}

// setWeight moves weight percent of traffic to the canary once it has the
// pods for it: with a router the canary is scaled first and the weight set
// when it is available; by replica ratio the ratio is the weight.
func (d *Driver) setWeight(ctx context.Context, w *world, router traffic.Router, weight int32) (Result, bool, error) {
	if routed(w.ro) {
		if err := d.scale(ctx, w.copy, canaryReplicas(w.replicas(), weight)); err != nil {
			return Result{}, false, err
		}
	} else {
		if err := router.SetWeight(ctx, weight); err != nil {
			return Result{}, false, err
		}
		w.ro.Status.CanaryWeight = weight
	}
	if res, ok, err := d.awaitAvailable(ctx, w, w.copy.Name, "the canary"); !ok || err != nil {
		return res, false, err
	}
	if routed(w.ro) {
		if err := router.SetWeight(ctx, weight); err != nil {
			return Result{}, false, err
		}
		w.ro.Status.CanaryWeight = weight
	}
	return Result{}, true, nil
}

// canaryReplicas is how many pods a routed canary needs for weight
// percent of the traffic: the same share of the replicas, rounded up, and
// at least one.
func canaryReplicas(replicas, weight int32) int32 {
	return max(1, int32((int64(replicas)*int64(weight)+99)/100))
}

// awaitAvailable reports whether dep is available; until it is, the
// rollout waits, and aborts when the progress deadline passes.
func (d *Driver) awaitAvailable(ctx context.Context, w *world, name, what string) (Result, bool, error) {
	current, err := d.deployment(ctx, w.ro.Namespace, name)
	if err != nil || current == nil {
		return Result{RequeueAfter: d.poll()}, false, err
	}
	if available(current) {
		return Result{}, true, nil
	}
	deadline := w.ro.Spec.ProgressDeadlineOrDefault()
	if started := w.ro.Status.StepStartedAt; started != nil && d.now().Sub(started.Time) > deadline {
		res, err := d.abort(ctx, w, ReasonProgressDeadlineExceeded,
			fmt.Sprintf("%s, Deployment %s/%s, was not available within %s (%d of %d replicas available)",
				what, current.Namespace, current.Name, deadline, current.Status.AvailableReplicas, replicasOf(current)))
		return res, false, err
	}
	return Result{RequeueAfter: d.poll()}, false, nil
}

// pause waits for its duration, or, without one, for a promotion by hand
// (which canaryStep takes before it comes here).
func (d *Driver) pause(w *world, p *v1alpha1.RolloutPause) (Result, bool, error) {
	s := &w.ro.Status
	now := d.now()
	if s.PauseStartedAt == nil {
		t := metav1.NewTime(now)
		s.PauseStartedAt = &t
	}
	s.Phase = v1alpha1.RolloutPaused
	wait, timed := p.Timed()
	if !timed {
		d.progressing(w.ro, fmt.Sprintf("Paused at step %d with %d%% of traffic on the canary until `weir rollout promote`", s.CurrentStep, s.CanaryWeight))
		return Result{}, false, nil
	}
	left := wait - now.Sub(s.PauseStartedAt.Time)
	if left <= 0 {
		return Result{}, true, nil
	}
	d.progressing(w.ro, fmt.Sprintf("Paused at step %d with %d%% of traffic on the canary for %s", s.CurrentStep, s.CanaryWeight, wait))
	return Result{RequeueAfter: left}, false, nil
}

// startPromotion ends the steps; the promotion is recorded before it acts.
func (d *Driver) startPromotion(w *world) (Result, error) {
	s := &w.ro.Status
	s.Phase = v1alpha1.RolloutPromoting
	d.progressing(w.ro, fmt.Sprintf("Promoting revision %s", s.Revision))
	return Result{RequeueAfter: time.Millisecond}, nil
}

// promoteCanary hands the traffic over to the promoted stable Deployment
// (see handOver), then, with a router, waits for the canary's
// scaleDownDelay, so that the router has applied the change before the
// canary's pods go, and removes the canary.
func (d *Driver) promoteCanary(ctx context.Context, w *world, router traffic.Router) (Result, error) {
	s := &w.ro.Status
	if s.ScaleDownAt == nil {
		if res, done, err := d.handOver(ctx, w, router); !done || err != nil {
			return res, err
		}
	}
	if left := s.ScaleDownAt.Sub(d.now()); left > 0 {
		d.progressing(w.ro, fmt.Sprintf("Promoted revision %s: all traffic is on Deployment %s/%s; the canary is removed in %s", s.Revision, w.stable.Namespace, w.stable.Name, left.Round(time.Second)))
		return Result{RequeueAfter: left}, nil
	}
	return d.finish(ctx, w, fmt.Sprintf("Promoted revision %s: Deployment %s/%s runs it", s.Revision, w.stable.Namespace, w.stable.Name))
}

// handOver sends, with a router, all traffic to the canary first, so that
// the stable Deployment's rolling update serves nobody (the sync that
// gives it the new template waits for that, see promotes); then it waits
// for that sync and for the Deployment to run the template on all its
// replicas, behind the stable Service; then all traffic goes to stable
// and the time the canary goes is recorded. done says it has.
func (d *Driver) handOver(ctx context.Context, w *world, router traffic.Router) (Result, bool, error) {
	s := &w.ro.Status
	if routed(w.ro) && s.CanaryWeight != 100 {
		if res, done, err := d.setWeight(ctx, w, router, 100); !done || err != nil {
			return res, false, err
		}
	}
	done, res, err := d.awaitStable(ctx, w)
	if !done || err != nil {
		return res, false, err
	}
	if err := d.ensureRouting(ctx, w); err != nil {
		return Result{}, false, err
	}
	if err := router.Reset(ctx); err != nil {
		return Result{}, false, err
	}
	var delay time.Duration
	if routed(w.ro) {
		delay = w.ro.Spec.Strategy.Canary.ScaleDownDelayOrDefault()
	}
	at := metav1.NewTime(d.now().Add(delay))
	s.ScaleDownAt, s.CanaryWeight = &at, 0
	return Result{}, true, nil
}

// awaitStable reports whether the stable Deployment runs the released
// template on all its replicas; until then it keeps asking for the sync
// that promotes.
func (d *Driver) awaitStable(ctx context.Context, w *world) (bool, Result, error) {
	s := &w.ro.Status
	if w.stableHash() != s.CanaryHash {
		d.progressing(w.ro, fmt.Sprintf("Promoting revision %s: waiting for the sync that gives Deployment %s/%s the new template", s.Revision, w.stable.Namespace, w.stable.Name))
		return false, Result{RequeueAfter: d.poll(), SyncApplication: true}, nil
	}
	hash, err := d.podTemplateHash(ctx, w.stable)
	if err != nil || hash == "" || !available(w.stable) {
		d.progressing(w.ro, fmt.Sprintf("Promoting revision %s: Deployment %s/%s is rolling out the new template", s.Revision, w.stable.Namespace, w.stable.Name))
		return false, Result{RequeueAfter: d.poll()}, err
	}
	return true, Result{}, nil
}

// finish ends a promoted release: the analysis stops, the copy goes, and
// the Rollout rests on the new stable template.
func (d *Driver) finish(ctx context.Context, w *world, msg string) (Result, error) {
	d.stopRuns(ctx, w.ro)
	if err := d.deleteCopy(ctx, w); err != nil {
		return Result{}, err
	}
	s := &w.ro.Status
	s.Phase, s.StableHash, s.CanaryWeight = v1alpha1.RolloutIdle, s.CanaryHash, 0
	s.StepStartedAt, s.PauseStartedAt, s.ScaleDownAt = nil, nil, nil
	d.settled(w.ro, true, ReasonPromoted, msg)
	d.event(w.ro, corev1.EventTypeNormal, ReasonPromoted, msg)
	d.eventOnApplication(ctx, w.ro, corev1.EventTypeNormal, ReasonPromoted, fmt.Sprintf("Rollout %s: %s", w.ro.Name, msg))
	return Result{}, nil
}

// deleteCopy deletes the Rollout's canary or preview copy, if any.
func (d *Driver) deleteCopy(ctx context.Context, w *world) error {
	if w.copy == nil {
		return nil
	}
	if err := d.Client.Delete(ctx, w.copy); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete Deployment %s/%s: %w", w.copy.Namespace, w.copy.Name, err)
	}
	return nil
}

// soonest is res, coming back no later than after wait (when wait > 0).
func soonest(res Result, wait time.Duration) Result {
	if wait > 0 && (res.RequeueAfter == 0 || wait < res.RequeueAfter) {
		res.RequeueAfter = wait
	}
	return res
}
