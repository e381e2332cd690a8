package delivery

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// Finalize readies a deleted Rollout's workloads to run without it: its
// analyses stop, all traffic goes to the stable Deployment, the copy goes,
// and the side Services "<service>-stable" and "<service>-canary", which a
// router object in Git may still name, stay, no longer owned by the
// Rollout and selecting what the Service selects. What is gone already is
// skipped.
func (d *Driver) Finalize(ctx context.Context, ro *v1alpha1.Rollout) error {
	d.stopRuns(ctx, ro)
	w, err := d.observe(ctx, ro)
	var stalled *stallError
	switch {
	case errors.As(err, &stalled):
		// No target: no traffic to move.
	case err != nil:
		return err
	default:
		if err := d.resetTraffic(ctx, w); err != nil && !apierrors.IsNotFound(err) && !errors.As(err, &stalled) {
			return fmt.Errorf("put traffic back on stable: %w", err)
		}
		if err := d.deleteCopy(ctx, w); err != nil {
			return err
		}
	}
	if !routed(ro) {
		return nil
	}
	return d.keepSideServices(ctx, ro)
}

// keepSideServices takes the Rollout's owner reference off its side
// Services, so that they outlive it, and widens them to select what the
// Service they copy selects.
func (d *Driver) keepSideServices(ctx context.Context, ro *v1alpha1.Rollout) error {
	name := ro.Spec.Strategy.Canary.Service
	user := &corev1.Service{}
	if err := d.Client.Get(ctx, types.NamespacedName{Namespace: ro.Namespace, Name: name}, user); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("read Service %s/%s: %w", ro.Namespace, name, err)
	}
	stable, canary := sideServiceNames(ro)
	if err := d.detach(ctx, ro, stable, user.Spec.Selector); err != nil {
		return err
	}
	return d.detach(ctx, ro, canary, user.Spec.Selector)
}

// detach lets the side Service name of ro go: selecting selector (when
// known) and owned by nothing.
func (d *Driver) detach(ctx context.Context, ro *v1alpha1.Rollout, name string, selector map[string]string) error {
	svc := &corev1.Service{}
	if err := d.Client.Get(ctx, types.NamespacedName{Namespace: ro.Namespace, Name: name}, svc); err != nil {
		return client.IgnoreNotFound(err)
	}
	if svc.Labels[v1alpha1.RolloutLabel] != ro.Name {
		return nil
	}
	before := svc.DeepCopy()
	if selector != nil {
		svc.Spec.Selector = selector
	}
	svc.OwnerReferences = nil
	if err := d.Client.Patch(ctx, svc, client.MergeFrom(before), client.FieldOwner(FieldManager)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("keep Service %s/%s after Rollout %s: %w", svc.Namespace, svc.Name, ro.Name, err)
	}
	return nil
}
