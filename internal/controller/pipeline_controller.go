package controller

import (
	"context"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/cluster"
	"weir.dev/weir/internal/identity"
	"weir.dev/weir/internal/promotion"
)

// Pipelines are read and their status written; the stages' Applications
// are read one at a time, and their Deployments as each Application acts,
// on the cluster it syncs to (workloads).
// +kubebuilder:rbac:groups=weir.dev,resources=pipelines,verbs=get;list;watch
// +kubebuilder:rbac:groups=weir.dev,resources=pipelines/status,verbs=get;patch

// Reasons of a Pipeline's Ready condition.
const (
	ReasonStagesChecked = "StagesChecked"
	ReasonCheckFailed   = "CheckFailed"
)

// PipelineReconciler checks each Pipeline's stages at its interval and
// promotes released changes by commits.
type PipelineReconciler struct {
	Client   client.Client
	Promoter *promotion.Promoter
}

// SetupWithManager registers the reconciler; spec changes and
// annotations (an approval) trigger it, and each reconcile asks to run
// again after the interval.
func (r *PipelineReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&weirv1.Pipeline{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Complete(r)
}

// Reconcile checks the stages, commits what is due, and records where
// each stage and change stands.
func (r *PipelineReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	p := &weirv1.Pipeline{}
	if err := r.Client.Get(ctx, req.NamespacedName, p); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := p.DeepCopy()
	cond := metav1.Condition{Type: weirv1.ReadyCondition, Status: metav1.ConditionTrue, Reason: ReasonStagesChecked,
		Message: "Every stage was read", ObservedGeneration: p.Generation}
	if err := r.Promoter.Check(ctx, p); err != nil {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, ReasonCheckFailed, err.Error()
	}
	apimeta.SetStatusCondition(&p.Status.Conditions, cond)
	p.Status.ObservedGeneration = p.Generation
	if err := r.Client.Status().Patch(ctx, p, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return ctrl.Result{RequeueAfter: p.Spec.IntervalOrDefault()}, nil
}

// workloads read what an Application applied where it applied it, as the
// identity it acts as: on weir's cluster, or on the remote cluster that
// its Application syncs to, once it answers (promotion.Workloads).
type workloads struct {
	identities Identities
	clusters   *cluster.Registry[Destination]
	tenancy    identity.Policy
}

// ReaderFor returns an uncached reader of app's cluster, as app's identity.
func (w workloads) ReaderFor(ctx context.Context, app *weirv1.Application) (client.Reader, error) {
	identities := w.identities
	if app.RemoteCluster() != "" {
		dest, err := w.clusters.Kept(ctx, app)
		if err != nil {
			return nil, err
		}
		if err := w.clusters.Reachable(ctx, app); err != nil {
			return nil, err
		}
		identities = dest.Identities
	}
	stages, err := identities.Get(w.tenancy.For(app))
	if err != nil {
		return nil, err
	}
	return stages.Reader, nil
}
