package controller

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/policy"
)

// Policies are read when a sync is planned, and compiled as they change.
// +kubebuilder:rbac:groups=weir.dev,resources=clustersyncpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=weir.dev,resources=clustersyncpolicies/status,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=namespaces;configmaps,verbs=get

// Reasons on a ClusterSyncPolicy's Ready condition.
const (
	ReasonCompiled      = "Compiled"
	ReasonCompileFailed = "CompileFailed"
)

// SyncPolicyReconciler compiles each ClusterSyncPolicy as it changes and
// says on its status whether it compiles, so that an administrator sees a
// broken policy before the syncs it refuses do.
type SyncPolicyReconciler struct {
	Client client.Client
	Engine *policy.Engine
	// Refused, when set, receives the Applications that policies refused
	// whenever a policy changes or goes, so that they are tried again at
	// once rather than at their next poll.
	Refused chan<- event.GenericEvent
}

// SetupWithManager registers the reconciler; only spec changes trigger it.
func (r *SyncPolicyReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&weirv1.ClusterSyncPolicy{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}

// Reconcile compiles one policy and records the outcome on its status.
func (r *SyncPolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	p := &weirv1.ClusterSyncPolicy{}
	if err := r.Client.Get(ctx, req.NamespacedName, p); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, r.retryRefused(ctx)
		}
		return ctrl.Result{}, err
	}
	before := p.DeepCopy()
	cond := metav1.Condition{Type: weirv1.ReadyCondition, Status: metav1.ConditionTrue, Reason: ReasonCompiled,
		Message: "The policy compiles", ObservedGeneration: p.Generation}
	if err := r.Engine.Compile(p); err != nil {
		cond.Status, cond.Reason = metav1.ConditionFalse, ReasonCompileFailed
		cond.Message = "The policy does not compile, and refuses every sync it binds: " + err.Error()
		if p.Spec.EnforcementOrDefault() == weirv1.EnforcementWarn {
			cond.Message = "The policy does not compile, and warns of it at every sync it binds: " + err.Error()
		}
	}
	apimeta.SetStatusCondition(&p.Status.Conditions, cond)
	p.Status.ObservedGeneration = p.Generation
	if err := r.Client.Status().Patch(ctx, p, client.MergeFrom(before)); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, r.retryRefused(ctx)
}

// retryRefused sends every Application that a policy refused to Refused.
func (r *SyncPolicyReconciler) retryRefused(ctx context.Context) error {
	if r.Refused == nil {
		return nil
	}
	var apps weirv1.ApplicationList
	if err := r.Client.List(ctx, &apps); err != nil {
		return err
	}
	for i := range apps.Items {
		if refusedByPolicy(&apps.Items[i]) {
			send(r.Refused, &apps.Items[i])
		}
	}
	return nil
}

// refusedByPolicy is true when the Application's last sync was refused by
// a policy.
func refusedByPolicy(app *weirv1.Application) bool {
	c := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.ReadyCondition)
	return c != nil && c.Status == metav1.ConditionFalse && c.Reason == ReasonPolicyViolation
}
