package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/fleet"
	"weir.dev/weir/internal/sourcepolicy"
)

// ApplicationSets are read and their status written; the Applications
// they generate are created and changed by server-side apply, let go and
// deleted. Owner references that block deletion need the sets' finalizers.
// +kubebuilder:rbac:groups=weir.dev,resources=applicationsets,verbs=get;list;watch
// +kubebuilder:rbac:groups=weir.dev,resources=applicationsets/status,verbs=get;patch
// +kubebuilder:rbac:groups=weir.dev,resources=applicationsets/finalizers,verbs=update
// +kubebuilder:rbac:groups=weir.dev,resources=applications,verbs=create;delete;patch

// ApplicationSetFieldManager is the field manager of what a set writes to
// its Applications.
const ApplicationSetFieldManager = "weir-application-set"

// Reasons of an ApplicationSet's conditions.
const (
	ReasonGeneratorFailed = "GeneratorFailed"
	ReasonTemplateFailed  = "TemplateFailed"
	ReasonRolloutFailed   = "RolloutFailed"
)

// ApplicationSetReconciler stamps out each set's Applications at its
// interval and whenever the set or one of its Applications changes.
type ApplicationSetReconciler struct {
	// Client reads sets and Applications from the manager's cache and
	// writes them.
	Client    client.Client
	Generator *fleet.Generator
}

// SetupWithManager registers the reconciler: a set's spec changes trigger
// it, and so do the changes to the Applications it owns that move them in
// a rollout (their status at each poll does not).
func (r *ApplicationSetReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&weirv1.ApplicationSet{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&weirv1.Application{}, builder.WithPredicates(predicate.Funcs{UpdateFunc: standingChanged})).
		Complete(r)
}

// standingChanged reports whether an update moved an Application in a
// rollout; its other updates (each poll's status) do not wake its set.
func standingChanged(e event.UpdateEvent) bool {
	before, ok1 := e.ObjectOld.(*weirv1.Application)
	after, ok2 := e.ObjectNew.(*weirv1.Application)
	return !ok1 || !ok2 || fleet.StandingOf(before) != fleet.StandingOf(after)
}

// Reconcile runs the generators, renders the template for each element,
// writes what the rollout lets through, removes the Applications of
// elements gone, and records where each wave stands.
func (r *ApplicationSetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	set := &weirv1.ApplicationSet{}
	if err := r.Client.Get(ctx, req.NamespacedName, set); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := set.DeepCopy()
	err := r.reconcile(ctx, set)
	set.Status.ObservedGeneration = set.Generation
	if !equality.Semantic.DeepEqual(before.Status, set.Status) {
		if perr := r.Client.Status().Patch(ctx, set, client.MergeFrom(before)); perr != nil {
			return ctrl.Result{}, errors.Join(err, client.IgnoreNotFound(perr))
		}
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: set.Spec.IntervalOrDefault()}, nil
}

// reconcile does the work of Reconcile and sets the conditions. A failed
// generator or template is told in them and runs again at the interval;
// the error returned is a failed request to the API server, retried
// sooner.
func (r *ApplicationSetReconciler) reconcile(ctx context.Context, set *weirv1.ApplicationSet) error {
	since := time.Now().Add(-set.Spec.IntervalOrDefault() / 2)
	elems, err := r.Generator.Elements(ctx, set, since)
	if err != nil {
		setSetCondition(set, metav1.ConditionFalse, ReasonGeneratorFailed, err.Error())
		return nil
	}
	generated, err := fleet.RenderAll(set, elems)
	if err == nil {
		err = r.checkNames(ctx, set, generated)
	}
	if tErr := (*fleet.TemplateError)(nil); errors.As(err, &tErr) {
		setSetCondition(set, metav1.ConditionFalse, ReasonTemplateFailed, err.Error())
		return nil
	}
	if err != nil {
		return err
	}
	owned, err := r.owned(ctx, set)
	if err != nil {
		return err
	}
	plan := fleet.PlanChanges(set, generated, owned)
	set.Status.Applications, set.Status.Waves = int32(len(generated)), plan.Waves
	if err := r.write(ctx, set, plan); err != nil {
		setSetCondition(set, metav1.ConditionFalse, ReasonApplyFailed, err.Error())
		return err
	}
	switch {
	case plan.Failed() != "":
		setSetCondition(set, metav1.ConditionFalse, ReasonRolloutFailed, "The rollout stopped in "+plan.Failed())
	case !plan.Done():
		setSetCondition(set, metav1.ConditionFalse, ReasonProgressing, "Applications are changing")
	default:
		setSetCondition(set, metav1.ConditionTrue, ReasonSucceeded, fmt.Sprintf("%d Applications as the template says", len(generated)))
	}
	return nil
}

// owned lists the Applications set controls.
func (r *ApplicationSetReconciler) owned(ctx context.Context, set *weirv1.ApplicationSet) ([]weirv1.Application, error) {
	var list weirv1.ApplicationList
	if err := r.Client.List(ctx, &list, client.InNamespace(set.Namespace), client.MatchingLabels{weirv1.ApplicationSetLabel: set.Name}); err != nil {
		return nil, err
	}
	var out []weirv1.Application
	for _, app := range list.Items {
		if metav1.IsControlledBy(&app, set) {
			out = append(out, app)
		}
	}
	return out, nil
}

// checkNames refuses to take over an Application the set does not own.
func (r *ApplicationSetReconciler) checkNames(ctx context.Context, set *weirv1.ApplicationSet, generated []fleet.Generated) error {
	for _, g := range generated {
		app := &weirv1.Application{}
		err := r.Client.Get(ctx, client.ObjectKey{Namespace: set.Namespace, Name: g.Application.GetName()}, app)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if !metav1.IsControlledBy(app, set) {
			return &fleet.TemplateError{Err: fmt.Errorf("%s makes Application %s, which exists and is not this set's", g.Element.Origin, app.Name)}
		}
	}
	return nil
}

// write applies what the plan lets through and deletes, or lets go, the
// Applications of elements gone.
func (r *ApplicationSetReconciler) write(ctx context.Context, set *weirv1.ApplicationSet, plan fleet.Plan) error {
	var errs []error
	for _, g := range plan.Apply {
		err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(g.Application),
			client.FieldOwner(ApplicationSetFieldManager), client.ForceOwnership)
		if err != nil {
			errs = append(errs, fmt.Errorf("apply Application %s of %s: %w", g.Application.GetName(), g.Element.Origin, err))
		}
	}
	for _, app := range plan.Remove {
		if err := r.remove(ctx, set, app); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// remove deletes app, or, when the set preserves its Applications, lets
// it go: no longer owned by the set nor labelled for it.
func (r *ApplicationSetReconciler) remove(ctx context.Context, set *weirv1.ApplicationSet, app *weirv1.Application) error {
	if !set.Spec.PreserveApplications {
		if err := r.Client.Delete(ctx, app); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete Application %s: %w", app.Name, err)
		}
		return nil
	}
	before := app.DeepCopy()
	var refs []metav1.OwnerReference
	for _, ref := range app.OwnerReferences {
		if ref.UID != set.UID {
			refs = append(refs, ref)
		}
	}
	app.OwnerReferences = refs
	delete(app.Labels, weirv1.ApplicationSetLabel)
	if err := r.Client.Patch(ctx, app, client.MergeFrom(before)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("let go of Application %s: %w", app.Name, err)
	}
	return nil
}

// setSetCondition sets the set's Ready condition, and Reconciling and
// Stalled as kstatus reads them.
func setSetCondition(set *weirv1.ApplicationSet, status metav1.ConditionStatus, reason, msg string) {
	gen := set.Generation
	apimeta.SetStatusCondition(&set.Status.Conditions, metav1.Condition{Type: weirv1.ReadyCondition, Status: status,
		Reason: reason, Message: msg, ObservedGeneration: gen})
	reconciling, stalled := metav1.ConditionFalse, metav1.ConditionFalse
	switch reason {
	case ReasonProgressing:
		reconciling = metav1.ConditionTrue
	case ReasonTemplateFailed, ReasonRolloutFailed:
		stalled = metav1.ConditionTrue
	}
	apimeta.SetStatusCondition(&set.Status.Conditions, metav1.Condition{Type: weirv1.ReconcilingCondition, Status: reconciling,
		Reason: reason, Message: msg, ObservedGeneration: gen})
	apimeta.SetStatusCondition(&set.Status.Conditions, metav1.Condition{Type: weirv1.StalledCondition, Status: stalled,
		Reason: reason, Message: msg, ObservedGeneration: gen})
}

// setSources checks a Git generator's repository against the
// SourcePolicies of the set's namespace, as an Application of the
// namespace reading it would be checked.
type setSources struct{ policies *sourcepolicy.Reader }

// AllowSource returns the policies' refusal of src, or nil.
func (s setSources) AllowSource(ctx context.Context, namespace string, src weirv1.GitSource) error {
	app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: namespace}, Spec: weirv1.ApplicationSpec{Source: src}}
	rules, err := s.policies.For(ctx, app)
	if err != nil {
		return err
	}
	return rules.Spec(app)
}
