package traffic

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// smiRouter writes a TrafficSplit (split.smi-spec.io) that weir owns: named
// by trafficRouting.smi.trafficSplit or after the Rollout, labelled with
// it and owned by it. Its root service is the canary strategy's Service and
// its backends the stable and canary Services with the weights. It is
// written in the version the cluster prefers (v1alpha1 to v1alpha4 share
// these fields; weights are whole numbers out of 100).
//
// Header routes would need an HTTPRouteGroup and a TrafficSplit per match,
// which SMI implementations support unevenly; SMI cannot mirror. Both are
// refused with ErrUnsupported. Reset leaves the stable backend alone at
// weight 100.
type smiRouter struct {
	c       client.Client
	split   kindRef
	rollout *v1alpha1.Rollout
	root    string
	sides   Sides
}

func newSMIRouter(c client.Client, ro *v1alpha1.Rollout, sides Sides) *smiRouter {
	name := ro.Spec.Strategy.Canary.TrafficRouting.SMI.TrafficSplit
	if name == "" {
		name = ro.Name
	}
	return &smiRouter{c: c, rollout: ro, root: ro.Spec.Strategy.Canary.Service, sides: sides, split: kindRef{
		gk:  schema.GroupKind{Group: "split.smi-spec.io", Kind: "TrafficSplit"},
		crd: "SMI TrafficSplit", namespace: sides.Namespace, name: name,
	}}
}

// Check reports that the cluster does not serve TrafficSplits, that the
// root Service is missing, or that a TrafficSplit of that name exists and
// is not weir's for this Rollout.
func (r *smiRouter) Check(ctx context.Context) error {
	if err := r.checkSplit(ctx); err != nil {
		return err
	}
	svc := &corev1.Service{}
	if err := r.c.Get(ctx, client.ObjectKey{Namespace: r.sides.Namespace, Name: r.root}, svc); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("Service %s/%s, the root service of %s, not found", r.sides.Namespace, r.root, r.split)
		}
		return fmt.Errorf("read Service %s/%s: %w", r.sides.Namespace, r.root, err)
	}
	return nil
}

// checkSplit reports that the TrafficSplit cannot be written: the kind is
// not served, or an object of that name is someone else's.
func (r *smiRouter) checkSplit(ctx context.Context) error {
	u, err := r.split.object(r.c)
	if err != nil {
		return err
	}
	err = r.c.Get(ctx, client.ObjectKeyFromObject(u), u)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("read %s: %w", r.split, err)
	}
	return CheckOwned(u, r.split.String(), r.rollout.Name)
}

// SetWeight writes the TrafficSplit with the stable and canary backends.
func (r *smiRouter) SetWeight(ctx context.Context, weight int32) error {
	if err := checkWeight(weight); err != nil {
		return err
	}
	return r.apply(ctx, []any{
		backend(r.sides.StableService, 100-weight),
		backend(r.sides.CanaryService, weight),
	})
}

// SetHeaderRoute removes nothing (weir never adds a header route here) and
// refuses any route with ErrUnsupported.
func (r *smiRouter) SetHeaderRoute(_ context.Context, route *v1alpha1.HeaderRoute) error {
	if emptyRoute(route) {
		return nil
	}
	return fmt.Errorf("%s: SMI routing by header: %w", r.split, ErrUnsupported)
}

// SetMirror accepts 0 (nothing to remove) and refuses any other percentage
// with ErrUnsupported.
func (r *smiRouter) SetMirror(_ context.Context, percent int32) error {
	if percent == 0 {
		return nil
	}
	return fmt.Errorf("%s: SMI mirroring: %w", r.split, ErrUnsupported)
}

// Reset writes the TrafficSplit with the stable backend alone.
func (r *smiRouter) Reset(ctx context.Context) error {
	return r.apply(ctx, []any{backend(r.sides.StableService, 100)})
}

// apply server-side applies the whole TrafficSplit with backends, after
// making sure a TrafficSplit of that name is weir's.
func (r *smiRouter) apply(ctx context.Context, backends []any) error {
	if err := r.checkSplit(ctx); err != nil {
		return err
	}
	u, err := r.split.object(r.c)
	if err != nil {
		return err
	}
	owners, labels := ownedBy(r.rollout)
	u.SetLabels(labels)
	u.SetOwnerReferences(owners)
	u.Object["spec"] = map[string]any{"service": r.root, "backends": backends}
	if err := r.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply %s: %w", r.split, err)
	}
	return nil
}

func backend(service string, weight int32) map[string]any {
	return map[string]any{"service": service, "weight": int64(weight)}
}
