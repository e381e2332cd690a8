package traffic

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// replicaRouter approximates a weight by the ratio of canary to stable
// replicas behind the user's Service, which selects both sides. It follows
// Argo Rollouts' basic canary (see replicaCounts); header routes and
// mirroring are beyond it.
type replicaRouter struct {
	c     client.Client
	sides Sides
}

func newReplicaRouter(c client.Client, sides Sides) *replicaRouter {
	return &replicaRouter{c: c, sides: sides}
}

// replicaCounts splits replicas for a canary weight the way Argo Rollouts'
// basic canary does: the canary gets ceil(replicas*weight/100) and the
// stable side ceil(replicas*(100-weight)/100). Both round up, so while the
// weight is strictly between 0 and 100 each side keeps at least one pod and
// the total may exceed replicas by one (the surge Argo allows for it); at
// 0 the canary has none, at 100 the stable side has none.
func replicaCounts(replicas, weight int32) (canary, stable int32) {
	return ceilPercent(replicas, weight), ceilPercent(replicas, 100-weight)
}

// ceilPercent is ceil(n*percent/100) in whole numbers.
func ceilPercent(n, percent int32) int32 {
	return int32((int64(n)*int64(percent) + 99) / 100)
}

// Check reports a missing stable Deployment. The canary Deployment is the
// delivery package's to create before the first SetWeight.
func (r *replicaRouter) Check(ctx context.Context) error {
	_, err := r.replicas(ctx, r.sides.StableDeployment)
	return err
}

// SetWeight scales the canary and stable Deployments to replicaCounts,
// the side that grows first, so that the Service never has fewer pods than
// it needs while the ratio moves.
func (r *replicaRouter) SetWeight(ctx context.Context, weight int32) error {
	if err := checkWeight(weight); err != nil {
		return err
	}
	canary, stable := replicaCounts(r.sides.Replicas, weight)
	current, err := r.replicas(ctx, r.sides.CanaryDeployment)
	if err != nil {
		return err
	}
	if canary < current {
		if err := r.scale(ctx, r.sides.StableDeployment, stable); err != nil {
			return err
		}
		return r.scale(ctx, r.sides.CanaryDeployment, canary)
	}
	if err := r.scale(ctx, r.sides.CanaryDeployment, canary); err != nil {
		return err
	}
	return r.scale(ctx, r.sides.StableDeployment, stable)
}

// replicas reads a Deployment's spec.replicas.
func (r *replicaRouter) replicas(ctx context.Context, name string) (int32, error) {
	d := &appsv1.Deployment{}
	if err := r.c.Get(ctx, r.key(name), d); err != nil {
		if apierrors.IsNotFound(err) {
			return 0, fmt.Errorf("Deployment %s/%s not found", r.sides.Namespace, name)
		}
		return 0, fmt.Errorf("read Deployment %s/%s: %w", r.sides.Namespace, name, err)
	}
	if d.Spec.Replicas == nil {
		return 1, nil
	}
	return *d.Spec.Replicas, nil
}

// SetHeaderRoute removes nothing (there is none) and refuses any route
// with ErrUnsupported.
func (r *replicaRouter) SetHeaderRoute(_ context.Context, route *v1alpha1.HeaderRoute) error {
	if emptyRoute(route) {
		return nil
	}
	return fmt.Errorf("Deployment %s/%s: routing by header without a traffic router: %w", r.sides.Namespace, r.sides.CanaryDeployment, ErrUnsupported)
}

// SetMirror accepts 0 and refuses any other percentage with
// ErrUnsupported.
func (r *replicaRouter) SetMirror(_ context.Context, percent int32) error {
	if percent == 0 {
		return nil
	}
	return fmt.Errorf("Deployment %s/%s: mirroring without a traffic router: %w", r.sides.Namespace, r.sides.CanaryDeployment, ErrUnsupported)
}

// Reset scales the stable Deployment to Replicas, then the canary to 0;
// a canary that is gone already is fine.
func (r *replicaRouter) Reset(ctx context.Context) error {
	if err := r.scale(ctx, r.sides.StableDeployment, r.sides.Replicas); err != nil {
		return err
	}
	err := r.scale(ctx, r.sides.CanaryDeployment, 0)
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// scale sets a Deployment's spec.replicas with a merge patch, which is
// idempotent.
func (r *replicaRouter) scale(ctx context.Context, name string, replicas int32) error {
	d := &appsv1.Deployment{}
	d.Namespace, d.Name = r.sides.Namespace, name
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas))
	if err := r.c.Patch(ctx, d, patch, client.FieldOwner(FieldManager)); err != nil {
		return fmt.Errorf("scale Deployment %s/%s to %d: %w", r.sides.Namespace, name, replicas, err)
	}
	return nil
}

func (r *replicaRouter) key(name string) client.ObjectKey {
	return client.ObjectKey{Namespace: r.sides.Namespace, Name: name}
}
