package controller

import (
	"context"
	"errors"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/delivery"
	"weir.dev/weir/internal/identity"
	"weir.dev/weir/internal/metrics"
)

// RolloutDriver takes the next step of a Rollout (delivery.Driver).
type RolloutDriver interface {
	Advance(ctx context.Context, ro *weirv1.Rollout) (delivery.Result, error)
	Finalize(ctx context.Context, ro *weirv1.Rollout) error
}

// RolloutReconciler moves each Rollout of one cluster along its strategy:
// weir's own, or a remote one (see remoteRollouts).
type RolloutReconciler struct {
	// Client writes the Rollouts' finalizers and status.
	Client client.Client
	// Reader reads each Rollout from the API server, so that a step
	// follows the status the last one patched.
	Reader client.Reader
	// Applications reads, from weir's cluster, the Applications that sync
	// to the Rollouts' cluster (cluster.Applications).
	Applications client.Reader
	// Identities give the Driver of the identity that each Rollout's
	// Application runs as (see identity.Policy.ForRollout).
	Identities Identities
	// Tenancy says whom weir acts as for a Rollout and refuses its
	// references to other namespaces when it must.
	Tenancy identity.Policy
	// Released carries the Rollouts a sync released a template to, or
	// retired one from.
	Released <-chan event.GenericEvent
	// SyncRequests receives the Applications a Rollout needs synced, or
	// whose Rollout moved on.
	SyncRequests chan<- event.GenericEvent
	// Metrics, when set, records each Rollout's phase, step and weight.
	Metrics *metrics.Recorder
}

// SetupWithManager registers the reconciler of weir's own cluster's
// Rollouts. Its own status patches do not trigger it; spec changes and
// annotations (actions by hand) do.
func (r *RolloutReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&weirv1.Rollout{}, builder.WithPredicates(rolloutChanges)).
		WatchesRawSource(source.Channel(r.Released, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}

// NewController returns a controller of the reconciler that no manager
// runs, for the Rollouts of a remote cluster: it watches them through
// rollouts, a cache of that cluster, as SetupWithManager does through the
// manager's. The caller starts it, and the cache.
func (r *RolloutReconciler) NewController(name string, rollouts cache.Cache, opts controller.Options) (controller.Controller, error) {
	opts.Reconciler = r
	c, err := controller.NewUnmanaged(name, opts)
	if err != nil {
		return nil, err
	}
	if err := c.Watch(source.Kind[client.Object](rollouts, &weirv1.Rollout{}, &handler.EnqueueRequestForObject{}, rolloutChanges)); err != nil {
		return nil, err
	}
	return c, c.Watch(source.Channel(r.Released, &handler.EnqueueRequestForObject{}))
}

// rolloutChanges are the changes to a Rollout that move it: of its spec,
// of its annotations (actions by hand), and its deletion.
var rolloutChanges = predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deleting)

// Reconcile advances one Rollout and patches its status once. The
// Application hears of it only after the patch, so that what it shows is
// what the Rollout recorded.
func (r *RolloutReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ro := &weirv1.Rollout{}
	if err := r.Reader.Get(ctx, req.NamespacedName, ro); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.ForgetRollout(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	driver, err := r.driverFor(ctx, ro)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !ro.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, driver, ro)
	}
	if err := r.holdOnDeletion(ctx, ro); err != nil {
		return ctrl.Result{}, err
	}
	before := ro.DeepCopy()
	if err := r.Tenancy.CheckRollout(ro); err != nil {
		refuse(ro, ReasonCrossNamespaceRef, err)
		return ctrl.Result{}, client.IgnoreNotFound(r.Client.Status().Patch(ctx, ro, client.MergeFrom(before)))
	}
	res, err := driver.Advance(ctx, ro)
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "rollout step failed", "phase", ro.Status.Phase, "step", ro.Status.CurrentStep)
	}
	r.Metrics.ObserveRollout(ro)
	if perr := r.Client.Status().Patch(ctx, ro, client.MergeFrom(before)); perr != nil && !apierrors.IsNotFound(perr) {
		return ctrl.Result{}, errors.Join(err, perr)
	}
	if res.SyncApplication || progressMoved(before, ro) {
		r.wakeApplication(ctx, ro)
	}
	return ctrl.Result{RequeueAfter: res.RequeueAfter}, err
}

// deleting passes the events of Rollouts being deleted.
var deleting = predicate.NewPredicateFuncs(func(o client.Object) bool { return !o.GetDeletionTimestamp().IsZero() })

// finalizeGrace bounds how long a deleted Rollout waits for its cleanup
// to succeed; past it, weir lets the Rollout go all the same.
const finalizeGrace = time.Minute

// holdOnDeletion adds weir's finalizer to ro, so that its deletion waits
// for Finalize.
func (r *RolloutReconciler) holdOnDeletion(ctx context.Context, ro *weirv1.Rollout) error {
	if controllerutil.ContainsFinalizer(ro, weirv1.RolloutFinalizer) {
		return nil
	}
	before := ro.DeepCopy()
	controllerutil.AddFinalizer(ro, weirv1.RolloutFinalizer)
	return r.Client.Patch(ctx, ro, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}

// finalize puts traffic back on stable for a deleted Rollout and removes
// weir's finalizer. A cleanup that weir may not make (its grant went
// first) or that keeps failing past finalizeGrace is logged and given up,
// so that a deletion is never held for ever.
func (r *RolloutReconciler) finalize(ctx context.Context, driver RolloutDriver, ro *weirv1.Rollout) error {
	if !controllerutil.ContainsFinalizer(ro, weirv1.RolloutFinalizer) {
		return nil
	}
	if err := driver.Finalize(ctx, ro); err != nil {
		if !apierrors.IsForbidden(err) && time.Since(ro.DeletionTimestamp.Time) < finalizeGrace {
			return err
		}
		ctrl.LoggerFrom(ctx).Error(err, "giving up the cleanup of a deleted Rollout")
	}
	before := ro.DeepCopy()
	controllerutil.RemoveFinalizer(ro, weirv1.RolloutFinalizer)
	return client.IgnoreNotFound(r.Client.Patch(ctx, ro, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})))
}

// driverFor returns the Driver that acts as the identity ro's Application
// runs as: the Application that applied ro, when the one ro names did and
// syncs to ro's cluster; the default ServiceAccount of ro's namespace, or
// weir, otherwise.
func (r *RolloutReconciler) driverFor(ctx context.Context, ro *weirv1.Rollout) (RolloutDriver, error) {
	var applying *weirv1.Application
	if key, ok := delivery.ApplicationOf(ro); ok {
		app := &weirv1.Application{}
		err := r.Applications.Get(ctx, key, app)
		if client.IgnoreNotFound(err) != nil {
			return nil, err
		}
		if err == nil && delivery.AppliedBy(app, ro) {
			applying = app
		}
	}
	stages, err := r.Identities.Get(r.Tenancy.ForRollout(ro, applying))
	return stages.Driver, err
}

// refuse marks ro Stalled, and not Ready, for why.
func refuse(ro *weirv1.Rollout, why string, err error) {
	for _, c := range []metav1.Condition{
		{Type: weirv1.StalledCondition, Status: metav1.ConditionTrue},
		{Type: weirv1.ReadyCondition, Status: metav1.ConditionFalse},
	} {
		c.Reason, c.Message, c.ObservedGeneration = why, err.Error(), ro.Generation
		apimeta.SetStatusCondition(&ro.Status.Conditions, c)
	}
	ro.Status.Message = err.Error()
	ro.Status.ObservedGeneration = ro.Generation
}

// progressMoved reports whether what the Application shows of a Rollout
// (status.rollouts) changed.
func progressMoved(before, after *weirv1.Rollout) bool {
	return delivery.ProgressOf(before) != delivery.ProgressOf(after)
}

// wakeApplication has the Application that applied ro reconciled: to sync
// when the Rollout needs it, and to show its progress. A full queue drops
// the request, which the Rollout repeats while it waits for a sync. A
// Rollout that the Application it names did not apply (its inventory does
// not hold it) wakes nothing.
func (r *RolloutReconciler) wakeApplication(ctx context.Context, ro *weirv1.Rollout) {
	app, err := delivery.ApplyingApplication(ctx, r.Applications, ro)
	if err != nil {
		return
	}
	send(r.SyncRequests, app)
}

// send queues obj on ch without blocking.
func send(ch chan<- event.GenericEvent, obj client.Object) {
	select {
	case ch <- event.GenericEvent{Object: obj}:
	default:
	}
}
