package controller

import (
	"context"
	"fmt"
	"slices"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/cluster"
	"weir.dev/weir/internal/delivery"
)

// Reasons for the remote cluster of an Application.
const (
	// ReasonClusterRefused: the kubeconfig Secret of the remote cluster is
	// missing, malformed, or asks for credentials other than static ones.
	ReasonClusterRefused = "ClusterRefused"
	// ReasonClusterUnreachable: the remote cluster did not answer; nothing
	// was applied or pruned, and the sync is retried with backoff.
	ReasonClusterUnreachable = "ClusterUnreachable"
)

// Destination is a remote cluster as weir acts on it for its
// Applications: the Stages of each identity there, the drift watches of
// its objects there, and the controller of its Rollouts.
type Destination struct {
	Identities Identities
	Drift      DriftWatcher
	// Loader renders Helm charts with the cluster's version and APIs
	// as .Capabilities.
	Loader   Loader
	Rollouts RemoteRollouts
}

// Forget stops watching app's objects on the cluster (cluster.Forgetter).
func (d Destination) Forget(app types.NamespacedName) { d.Drift.Forget(app) }

// Clusters give the Destination of an Application that syncs to a remote
// cluster (cluster.Registry).
type Clusters interface {
	// For returns app's remote cluster, recording that app targets it.
	For(ctx context.Context, app *weirv1.Application) (Destination, error)
	// Reachable says whether app's remote cluster answered lately.
	Reachable(ctx context.Context, app *weirv1.Application) error
	// Release records that an Application targets no remote cluster.
	Release(app types.NamespacedName)
}

// destinationOf sets acting's Identities, Drift, Loader and Rollouts to
// those of app's remote cluster, once it is reachable; for an Application
// of weir's own cluster, it releases any remote cluster the Application
// targeted.
func (r *ApplicationReconciler) destinationOf(ctx context.Context, app *weirv1.Application, acting *ApplicationReconciler) error {
	key := client.ObjectKeyFromObject(app)
	if app.RemoteCluster() == "" {
		if r.Clusters != nil {
			r.Clusters.Release(key)
		}
		return nil
	}
	if r.Clusters == nil {
		return stalled(ReasonClusterRefused, fmt.Errorf("application %s names a remote cluster, which this controller does not serve", key))
	}
	// Its objects are watched where they are.
	r.Drift.Forget(key)
	dest, err := r.Clusters.For(ctx, app)
	if cluster.IsRefused(err) {
		return stalled(ReasonClusterRefused, err)
	}
	if err != nil {
		return reason(ReasonClusterRefused, err)
	}
	if err := r.Clusters.Reachable(ctx, app); err != nil {
		return reason(ReasonClusterUnreachable, err)
	}
	acting.Identities, acting.Drift, acting.Loader = dest.Identities, dest.Drift, dest.Loader
	if acting.rollouts = dest.Rollouts; dest.Rollouts != nil {
		acting.Released = dest.Rollouts.Released()
		if slices.ContainsFunc(app.Status.Inventory, isRolloutRef) {
			// The Rollouts app applied are driven even when this
			// reconcile goes no further (its Git server does not answer
			// after weir restarted); a cluster that does not serve them
			// is reported once the set is read (driveRollouts).
			_ = dest.Rollouts.Drive(ctx)
		}
	}
	return nil
}

// forget stops everything weir keeps for an Application that is gone or
// suspended.
func (r *ApplicationReconciler) forget(app types.NamespacedName) {
	r.Drift.Forget(app)
	r.Applied.Forget(app)
	r.resting.forget(app)
	if r.Clusters != nil {
		r.Clusters.Release(app)
	}
}

// driveRollouts has the Rollouts of a set driven on the remote cluster it
// syncs to (weir's own cluster's always are), or says why they cannot be.
// A set that brings weir's CRDs to the cluster is synced all the same, and
// its Rollouts are driven from the next reconcile.
func (r *ApplicationReconciler) driveRollouts(ctx context.Context, objs []*unstructured.Unstructured) error {
	i := slices.IndexFunc(objs, delivery.IsRollout)
	if r.rollouts == nil || i < 0 {
		return nil
	}
	err := r.rollouts.Drive(ctx)
	if err == nil || slices.ContainsFunc(objs, isRolloutCRD) {
		return nil
	}
	return fmt.Errorf("rollout %s: %w", objs[i].GetName(), err)
}

// isRolloutRef reports whether ref names a Rollout.
func isRolloutRef(ref weirv1.ObjectRef) bool {
	return ref.Group == weirv1.RolloutKind.Group && ref.Kind == weirv1.RolloutKind.Kind
}

// isRolloutCRD reports whether obj is the CustomResourceDefinition of
// weir's Rollouts.
func isRolloutCRD(obj *unstructured.Unstructured) bool {
	return obj.GroupVersionKind().GroupKind() == apiextensionsv1.Kind("CustomResourceDefinition") &&
		obj.GetName() == "rollouts."+weirv1.GroupVersion.Group
}
