package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/desired"
	"weir.dev/weir/internal/drift"
	"weir.dev/weir/internal/metrics"
)

// healers is how many drift events are handled at once, on workers apart
// from the syncs', so that a heal never waits for a sync to end.
const healers = 2

// setupHealer registers the drift healer: a controller of its own, fed by
// Drifted, that reconciles with heal.
func (r *ApplicationReconciler) setupHealer(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("application-drift").
		WatchesRawSource(source.Channel(r.Drifted, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: healers}).
		Complete(reconcile.Func(r.heal))
}

// heal checks the objects of an Application that changed outside weir
// against the objects it applied last, kept in Applied, and re-applies
// those that drifted when the Application heals drift: the objects alone,
// as the Application's identity, each dry-run first (the drift check is a
// server-side dry run of the apply), with Apply's ownership rules, over
// the live objects the check read, and without reading Git or rendering. The set stays locked meanwhile, so no
// stage of a sync is recorded, and then applied, in between. An Application whose applied set
// is not known yet (weir just started), whose last sync failed, or whose
// drift cannot be checked or healed here, is left to a reconcile at drift
// priority, which reads Git.
func (r *ApplicationReconciler) heal(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ctx, end := r.Urgent.Begin(ctx)
	defer end()
	app := &weirv1.Application{}
	if err := r.Client.Get(ctx, req.NamespacedName, app); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if app.Spec.Suspend {
		return reconcile.Result{}, nil
	}
	suspects, found, healed, err := r.healApplied(ctx, app)
	if err != nil {
		ctrl.LoggerFrom(ctx).V(1).Info("drift left to a reconcile", "reason", err.Error())
		send(r.unhealed, app)
		return reconcile.Result{}, nil
	}
	if len(suspects) == 0 {
		return reconcile.Result{}, nil
	}
	return reconcile.Result{}, r.recordHeal(ctx, req.NamespacedName, suspects, found, healed)
}

// errNotKnown leaves a drift to a reconcile.
var errNotKnown = errors.New("the objects applied last are not known, or the last sync failed")

// healApplied takes the suspects of app and heals them from its applied
// set, which it keeps locked meanwhile. On failure the suspects stay.
func (r *ApplicationReconciler) healApplied(ctx context.Context, app *weirv1.Application) ([]weirv1.ObjectRef, []apply.ObjectDrift, apply.ChangeSet, error) {
	key := client.ObjectKeyFromObject(app)
	set := r.Applied.Lock(key)
	defer set.Unlock()
	if !set.Complete() || !inSync(app) {
		return nil, nil, nil, errNotKnown
	}
	acting, err := r.actingFor(ctx, app)
	if err != nil {
		return nil, nil, nil, err
	}
	suspects := acting.Drift.Suspects(key)
	found, healed, err := acting.healSet(ctx, app, set, suspects)
	if err != nil {
		acting.Drift.Restore(key, suspects)
	}
	return suspects, found, healed, err
}

// inSync reports whether app's last sync succeeded, drift aside: a drift
// of an Application whose last sync failed, or whose revision was refused,
// is left to a reconcile, which records the failure again after the heal.
func inSync(app *weirv1.Application) bool {
	c := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.SyncedCondition)
	return c != nil && (c.Status == metav1.ConditionTrue || c.Reason == ReasonDrifted)
}

// healSet checks suspects against set and, when app heals drift,
// re-applies those that drifted. It fails, having applied nothing, when a
// suspect is not in the set (a hook, say) or the policies that bind the
// Application refuse what it would apply.
func (r *ApplicationReconciler) healSet(ctx context.Context, app *weirv1.Application, set *drift.AppliedSet, suspects []weirv1.ObjectRef) ([]apply.ObjectDrift, apply.ChangeSet, error) {
	if len(suspects) == 0 {
		return nil, nil, nil
	}
	objs, missing := set.Objects(suspects)
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("%s is not among the objects applied last", missing[0])
	}
	checking := time.Now()
	found, err := r.Applier.Drift(ctx, objs)
	r.Metrics.ObservePhase(metrics.PhaseDriftCheck, time.Since(checking))
	if err != nil || len(found) == 0 || !app.Spec.Sync.SelfHeal {
		return found, nil, err
	}
	drifted := selectObjects(objs, driftedRefs(found))
	if _, err := r.checkPolicies(ctx, app, drifted); err != nil {
		return nil, nil, err
	}
	healing := time.Now()
	changes, err := r.Applier.Apply(ctx, drifted, apply.DryRunsOf(found))
	r.Metrics.ObservePhase(metrics.PhaseHeal, time.Since(healing))
	return found, changes, err
}

func driftedRefs(found []apply.ObjectDrift) []weirv1.ObjectRef {
	refs := make([]weirv1.ObjectRef, len(found))
	for i, d := range found {
		refs[i] = d.Object
	}
	return refs
}

// recordHeal records in app's status what a heal found and re-applied: the
// drift in status.drift and the Synced condition, and, once healed, a
// DriftCorrected Event and a sync of trigger drift in the history. The
// Application is read again first, to patch the status a reconcile may
// have moved on meanwhile.
func (r *ApplicationReconciler) recordHeal(ctx context.Context, key types.NamespacedName, checked []weirv1.ObjectRef, found []apply.ObjectDrift, healed apply.ChangeSet) error {
	app := &weirv1.Application{}
	if err := r.Reader.Get(ctx, key, app); err != nil {
		return client.IgnoreNotFound(err)
	}
	before := app.DeepCopy()
	started := time.Now()
	r.recordDrift(ctx, app, checked, found)
	if len(healed) > 0 {
		corrected := app.Status.Drift
		app.Status.Drift = slices.DeleteFunc(slices.Clone(app.Status.Drift), func(d weirv1.DriftedObject) bool {
			return slices.ContainsFunc(healed, func(c apply.Change) bool { return c.Object.Key() == d.Object.Key() })
		})
		rev := app.Status.LastAppliedRevision
		r.Recorder.Event(app, corev1.EventTypeNormal, ReasonDriftCorrected, "Re-applied revision "+rev+" over "+driftSummary(corrected))
		for range len(corrected) - len(app.Status.Drift) {
			r.Metrics.DriftCorrected()
		}
		setDriftCondition(app)
		addHistory(app, healRecord(app, started, healed))
	}
	return client.IgnoreNotFound(r.patchStatus(ctx, app, before))
}

// healRecord is the history's record of a heal: the revision applied
// last, its commit as the history has it, and what was re-applied.
func healRecord(app *weirv1.Application, started time.Time, healed apply.ChangeSet) weirv1.SyncRecord {
	rec := weirv1.SyncRecord{Revision: app.Status.LastAppliedRevision}
	if i := slices.IndexFunc(app.Status.History, func(h weirv1.SyncRecord) bool { return h.Revision == rec.Revision }); i >= 0 {
		rec.Author, rec.Message = app.Status.History[i].Author, app.Status.History[i].Message
	}
	rec.Trigger, rec.Result, rec.Summary = TriggerDrift, weirv1.SyncSucceeded, healed.String()
	rec.StartedAt, rec.FinishedAt = metav1.NewTime(started), metav1.Now()
	return rec
}

// applyRecorded records a stage of a sync in the Application's applied
// set, and then applies it. The set is locked only to record: a heal in
// progress ends first, and one that starts next heals from the stage, so
// that no heal writes back what the stage replaces, and none waits for
// the stage's requests.
func (r *ApplicationReconciler) applyRecorded(ctx context.Context, app *weirv1.Application, stage []*unstructured.Unstructured, dryRuns apply.DryRuns) (apply.ChangeSet, error) {
	set := r.Applied.Lock(client.ObjectKeyFromObject(app))
	set.Put(healable(stage))
	set.Unlock()
	return r.Applier.Apply(ctx, stage, dryRuns)
}

// resetApplied records objs, which a sync has just applied, as all the
// Application applied.
func (r *ApplicationReconciler) resetApplied(app *weirv1.Application, objs []*unstructured.Unstructured) {
	set := r.Applied.Lock(client.ObjectKeyFromObject(app))
	defer set.Unlock()
	set.Reset(healable(objs))
}

// keepOnly drops from the Application's applied set every object but
// objs, before a prune deletes them: what left Git is not healed.
func (r *ApplicationReconciler) keepOnly(app *weirv1.Application, objs []*unstructured.Unstructured) {
	set := r.Applied.Lock(client.ObjectKeyFromObject(app))
	defer set.Unlock()
	set.Keep(objs)
}

// rememberApplied records, when the Application's applied set is not known
// yet (weir just started), the objects of state, the revision applied
// last loaded again with no sync due: what the cluster holds as weir
// applied it.
func (r *ApplicationReconciler) rememberApplied(ctx context.Context, app *weirv1.Application, state desired.State) {
	if r.Applied == nil || state.Artifact.Revision != app.Status.LastAppliedRevision {
		return
	}
	set := r.Applied.Lock(client.ObjectKeyFromObject(app))
	defer set.Unlock()
	if set.Complete() {
		return
	}
	if err := r.Applier.Normalize(ctx, state.Objects, state.Namespace); err != nil {
		return
	}
	set.Reset(healable(selectObjects(state.Objects, app.Status.Inventory)))
}

// healable are the objects of objs a heal may re-apply: all but hooks,
// which their policies delete and re-create.
func healable(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	return slices.DeleteFunc(slices.Clone(objs), func(obj *unstructured.Unstructured) bool {
		d, err := apply.ReadDirectives(obj)
		return err != nil || d.Hook != apply.NoHook
	})
}
