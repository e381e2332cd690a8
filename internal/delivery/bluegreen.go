package delivery

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/weir/api/v1alpha1"
)

// advanceBlueGreen brings the full-size preview up, judges it, and
// switches the active Service to it.
func (d *Driver) advanceBlueGreen(ctx context.Context, w *world) (Result, error) {
	if err := d.ensureRouting(ctx, w); err != nil {
		return Result{}, err
	}
	s := &w.ro.Status
	if s.Phase == v1alpha1.RolloutPromoting {
		return d.promoteBlueGreen(ctx, w)
	}
	wait, aborted, err := d.background(ctx, w)
	if aborted || err != nil {
		return Result{RequeueAfter: d.poll()}, err
	}
	res, err := d.previewProgress(ctx, w)
	return soonest(res, wait), err
}

// previewProgress is advanceBlueGreen past the background analysis.
func (d *Driver) previewProgress(ctx context.Context, w *world) (Result, error) {
	s := &w.ro.Status
	if err := d.scale(ctx, w.copy, w.replicas()); err != nil {
		return Result{}, err
	}
	if res, ok, err := d.awaitAvailable(ctx, w, w.copy.Name, "the preview"); !ok || err != nil {
		return res, err
	}
	bg := w.ro.Spec.Strategy.BlueGreen
	promoted := d.takeRequest(w.ro, v1alpha1.PromoteAnnotation)
	if bg.PrePromotionAnalysis != nil && !promoted {
		run, wait, err := d.runAnalysis(ctx, w, prePromotionRun, 0, *bg.PrePromotionAnalysis)
		if err != nil {
			return Result{}, err
		}
		if res, done, err := d.judge(ctx, w, run, wait, "the pre-promotion analysis"); !done || err != nil {
			return res, err
		}
	}
	switch {
	case s.PausedByHand:
		s.Phase = v1alpha1.RolloutPaused
		d.progressing(w.ro, "Paused by hand with the preview ready; `weir rollout resume` goes on")
		return Result{}, nil
	case !promoted && bg.AutoPromotion != nil && !*bg.AutoPromotion:
		s.Phase = v1alpha1.RolloutPaused
		d.progressing(w.ro, fmt.Sprintf("The preview of revision %s is ready behind Service %s; `weir rollout promote` switches to it", s.Revision, bg.PreviewService))
		return Result{}, nil
	}
	if err := d.pointActive(ctx, w, w.copy); err != nil {
		return Result{}, err
	}
	s.Phase, s.CanaryWeight = v1alpha1.RolloutPromoting, 100
	return d.promoteBlueGreen(ctx, w)
}

// promoteBlueGreen waits for the stable Deployment to take the new
// template, switches the active Service back to it, and removes the
// preview after the scale-down delay.
func (d *Driver) promoteBlueGreen(ctx context.Context, w *world) (Result, error) {
	s := &w.ro.Status
	if s.ScaleDownAt == nil {
		done, res, err := d.awaitStable(ctx, w)
		if !done || err != nil {
			return res, err
		}
		at := metav1.NewTime(d.now().Add(w.ro.Spec.Strategy.BlueGreen.ScaleDownDelayOrDefault()))
		s.ScaleDownAt = &at
		if err := d.pointActive(ctx, w, w.stable); err != nil {
			return Result{}, err
		}
	}
	if left := s.ScaleDownAt.Sub(d.now()); left > 0 {
		d.progressing(w.ro, fmt.Sprintf("Promoted revision %s; the preview is removed in %s", s.Revision, left.Round(time.Second)))
		return Result{RequeueAfter: left}, nil
	}
	return d.finish(ctx, w, fmt.Sprintf("Promoted revision %s: Deployment %s/%s runs it behind Service %s", s.Revision, w.stable.Namespace, w.stable.Name, w.ro.Spec.Strategy.BlueGreen.ActiveService))
}

// ensureBlueGreenServices narrows the preview Service to the preview's
// pods and the active Service to the pods that serve: the preview's once
// switched, until the stable Deployment runs the new template; the stable
// Deployment's otherwise.
func (d *Driver) ensureBlueGreenServices(ctx context.Context, w *world) error {
	bg := w.ro.Spec.Strategy.BlueGreen
	preview, err := d.userService(ctx, w.ro, bg.PreviewService, "spec.strategy.blueGreen.previewService")
	if err != nil {
		return err
	}
	if _, err := d.userService(ctx, w.ro, bg.ActiveService, "spec.strategy.blueGreen.activeService"); err != nil {
		return err
	}
	if err := d.narrow(ctx, preview, v1alpha1.RoleLabel, RolePreview); err != nil {
		return err
	}
	s := &w.ro.Status
	if s.Phase == v1alpha1.RolloutPromoting && s.ScaleDownAt == nil && w.copy != nil {
		return d.pointActive(ctx, w, w.copy)
	}
	return d.pointActive(ctx, w, w.stable)
}

// pointActive narrows the active Service to the pods of dep's current
// ReplicaSet, once the Deployment controller has made it.
func (d *Driver) pointActive(ctx context.Context, w *world, dep *appsv1.Deployment) error {
	hash, err := d.podTemplateHash(ctx, dep)
	if err != nil {
		return err
	}
	if hash == "" {
		return fmt.Errorf("Deployment %s/%s has no ReplicaSet for its template yet: %w", dep.Namespace, dep.Name, errNotYet)
	}
	bg := w.ro.Spec.Strategy.BlueGreen
	active, err := d.userService(ctx, w.ro, bg.ActiveService, "spec.strategy.blueGreen.activeService")
	if err != nil {
		return err
	}
	return d.narrow(ctx, active, appsv1.DefaultDeploymentUniqueLabelKey, hash)
}
