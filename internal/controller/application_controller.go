package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/delivery"
	"weir.dev/weir/internal/desired"
	"weir.dev/weir/internal/drift"
	"weir.dev/weir/internal/health"
	"weir.dev/weir/internal/identity"
	"weir.dev/weir/internal/metrics"
	"weir.dev/weir/internal/policy"
	"weir.dev/weir/internal/sourcepolicy"
	"weir.dev/weir/internal/urgent"
)

// Loader reads an Application's desired state from Git: at its ref, or
// at the revision it applied last.
type Loader interface {
	Load(ctx context.Context, app *weirv1.Application) (desired.State, error)
	LoadApplied(ctx context.Context, app *weirv1.Application) (desired.State, error)
}

// Applier plans, applies and prunes sets of objects.
type Applier interface {
	Normalize(ctx context.Context, objs []*unstructured.Unstructured, defaultNamespace string) error
	Validate(ctx context.Context, objs []*unstructured.Unstructured) (apply.DryRuns, error)
	Apply(ctx context.Context, stage []*unstructured.Unstructured, dryRuns apply.DryRuns) (apply.ChangeSet, error)
	DeleteHooks(ctx context.Context, stage []*unstructured.Unstructured, policy apply.DeletePolicy) (apply.ChangeSet, error)
	Prune(ctx context.Context, owner apply.Owner, previous []weirv1.ObjectRef, desired []*unstructured.Unstructured) (apply.ChangeSet, error)
	Drift(ctx context.Context, objs []*unstructured.Unstructured) ([]apply.ObjectDrift, error)
	Live(ctx context.Context, objs []*unstructured.Unstructured) ([]apply.LiveObject, error)
}

// DriftWatcher watches the objects Applications applied and says which
// changed outside weir.
type DriftWatcher interface {
	// Track sets an Application's objects; first is true when the
	// Application was not tracked before.
	Track(app types.NamespacedName, inventory []weirv1.ObjectRef) (first bool, err error)
	// Forget stops tracking an Application.
	Forget(app types.NamespacedName)
	// Suspects returns and forgets the objects changed since the last call.
	Suspects(app types.NamespacedName) []weirv1.ObjectRef
	// Restore returns objects to the suspects of an Application, for a
	// check of them that could not be made.
	Restore(app types.NamespacedName, refs []weirv1.ObjectRef)
	// LastChange returns a mark that moves with every change of an
	// Application's objects, status included, and whether all of them
	// are watched (otherwise the mark says nothing).
	LastChange(app types.NamespacedName) (mark uint64, watched bool)
}

// Delivery holds back the pod templates that Rollouts release, and
// releases them once a sync has applied the rest (delivery.Holder).
type Delivery interface {
	Hold(ctx context.Context, app types.NamespacedName, objs []*unstructured.Unstructured, revision, previous string) (delivery.Plan, error)
	Release(ctx context.Context, plan delivery.Plan) error
}

// SourcePolicies say which repositories and namespaces Applications may
// use (package sourcepolicy).
type SourcePolicies interface {
	// For returns the rules that bind app.
	For(ctx context.Context, app *weirv1.Application) (sourcepolicy.Rules, error)
	// Applications returns the Applications that policy binds.
	Applications(ctx context.Context, policy *weirv1.SourcePolicy) ([]types.NamespacedName, error)
}

// PolicyChecker evaluates the ClusterSyncPolicies that bind an
// Application on a planned set, reading the live objects with live when
// some do (policy.Checker).
type PolicyChecker interface {
	Check(ctx context.Context, app *weirv1.Application, objs []*unstructured.Unstructured, live policy.LiveReader) (policy.Report, error)
}

// DriftGuard has the API server refuse changes to an Application's objects
// by anyone but weir, while the Application prevents drift
// (driftguard.Guard).
type DriftGuard interface {
	// Guard protects app's objects, or stops protecting them, as its spec
	// and the controller's default say.
	Guard(ctx context.Context, app *weirv1.Application) error
	// Forget stops protecting the objects of an Application that is gone.
	Forget(ctx context.Context, app types.NamespacedName) error
}

// HealthChecker reports and awaits the health of applied objects.
type HealthChecker interface {
	Check(ctx context.Context, refs []weirv1.ObjectRef) (health.Report, error)
	Wait(ctx context.Context, refs []weirv1.ObjectRef, timeout time.Duration) (health.Report, error)
}

// Stages are the stages that act on the cluster for an Application or a
// Rollout, all as one identity.
type Stages struct {
	Applier  Applier
	Health   HealthChecker
	Delivery Delivery
	Driver   RolloutDriver
	// Reader reads objects one at a time, uncached.
	Reader client.Reader
}

// Identities give the Stages that act as an identity (identity.Cache).
type Identities interface {
	Get(id identity.Identity) (Stages, error)
}

// The reconciler's own permissions, generated into config/rbac. What it
// applies is authorized by what the cluster's administrator grants weir
// besides (the weir-apply ClusterRole, RoleBindings per namespace).
// +kubebuilder:rbac:groups=weir.dev,resources=applications,verbs=get;list;watch
// +kubebuilder:rbac:groups=weir.dev,resources=applications/status,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// ApplicationReconciler keeps each Application's objects matching Git.
type ApplicationReconciler struct {
	Client client.Client
	// Reader reads each Application from the API server, not the cache: a
	// reconcile that follows the previous one at once (a drift or refresh
	// event during a sync) could read a status older than its own last
	// patch, and sync the same revision twice.
	Reader client.Reader
	Loader Loader
	// Applier, Health and Delivery act on the cluster. Reconcile sets
	// them, in a copy of the reconciler, to the Stages of the identity
	// that Tenancy says the Application runs as, from Identities; without
	// Identities they are used as they are.
	Applier    Applier
	Health     HealthChecker
	Delivery   Delivery
	Identities Identities
	// Clusters, when set, give the Identities and Drift of the
	// Applications that sync to a remote cluster.
	Clusters Clusters
	// Urgent, when set, sends the requests of drift heals ahead of the
	// routine ones.
	Urgent *urgent.Gate
	// Tenancy says whom weir acts as for an Application and refuses its
	// references to other namespaces when it must.
	Tenancy identity.Policy
	// SyncPolicies, when set, must pass every set before it is applied.
	SyncPolicies PolicyChecker
	Recorder     record.EventRecorder
	// Drift reports the objects changed outside weir; Drifted carries the
	// Applications to check because of such a change, which are healed
	// from Applied, on workers of their own (see heal).
	Drift   DriftWatcher
	Drifted <-chan event.GenericEvent
	// Applied keeps the objects each Application applied last; nil keeps
	// none, and every drift is checked against Git.
	Applied *drift.Applied
	// Guard keeps others off the objects of Applications that prevent
	// drift.
	Guard DriftGuard
	// Refresh, when set, receives Applications to reconcile now (a push
	// webhook), queued ahead of routine polls, and the fewer Applications
	// track its repository the sooner (refreshPriority); requests for one
	// Application that arrive while it waits in the queue coalesce into
	// one reconcile.
	Refresh <-chan event.GenericEvent
	// Metrics, when set, records each sync's result and duration, and the
	// Application's Synced and Healthy conditions.
	Metrics *metrics.Recorder
	// Released receives the Rollouts of each sync, for the Rollout
	// reconciler; SyncRequests carries the Applications a Rollout needs
	// synced (to promote, or to apply a revert), and those a policy
	// refused when the policies change.
	Released     chan<- event.GenericEvent
	SyncRequests <-chan event.GenericEvent
	// Policies, when set, restrict the repositories and namespaces of
	// Applications; a change to a SourcePolicy re-checks those it binds.
	Policies SourcePolicies

	// unhealed carries the Applications whose drift the healer leaves to
	// a reconcile (see heal).
	unhealed chan event.GenericEvent
	// resting spares the health reads of Applications at rest whose
	// objects did not change; nil reads at every poll.
	resting *restingHealth
	// rollouts, in the copy that acts for an Application of a remote
	// cluster, drive the Rollouts of that cluster (see destinationOf).
	rollouts RemoteRollouts
}

// SetupWithManager registers the reconciler. Status updates do not trigger
// it; spec changes and annotations (a requested sync) do.
func (r *ApplicationReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	b := ctrl.NewControllerManagedBy(mgr).
		For(&weirv1.Application{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency})
	r.resting = newRestingHealth()
	if r.Refresh != nil {
		b = b.WatchesRawSource(source.Channel(r.Refresh, enqueueBy(r.pushPriority)))
	}
	if r.SyncRequests != nil {
		b = b.WatchesRawSource(source.Channel(r.SyncRequests, &handler.EnqueueRequestForObject{}))
	}
	if r.Drifted != nil {
		r.unhealed = make(chan event.GenericEvent, eventBuffer)
		b = b.WatchesRawSource(source.Channel(r.unhealed, enqueueAt(driftPriority)))
		if err := r.setupHealer(mgr); err != nil {
			return err
		}
	}
	if r.Policies != nil {
		b = b.Watches(&weirv1.SourcePolicy{}, handler.EnqueueRequestsFromMapFunc(r.boundApplications))
	}
	return b.Complete(r)
}

// pushPriority is the work-queue priority of obj, an Application that a
// push woke (Refresh), by how many Applications in the manager's cache
// track its repository (spec.source.url): see refreshPriority.
func (r *ApplicationReconciler) pushPriority(ctx context.Context, obj client.Object) int {
	app, ok := obj.(*weirv1.Application)
	var list weirv1.ApplicationList
	if !ok || r.Client.List(ctx, &list, client.UnsafeDisableDeepCopy) != nil {
		return refreshPriority(1)
	}
	tracking := 0
	for i := range list.Items {
		if list.Items[i].Spec.Source.URL == app.Spec.Source.URL {
			tracking++
		}
	}
	return refreshPriority(tracking)
}

// refreshPriority is the work-queue priority of an Application that a push
// woke among tracking Applications of its repository: the fewer, the
// sooner, so that a push to a repository of one Application is synced at
// once while a hundred that a push to another woke wait their turn. It
// ranges from 0, as a change to an Application, for one, down to one above
// routine polls (handler.LowPriority), which all come after it, as drift
// (driftPriority) comes before.
func refreshPriority(tracking int) int {
	return -min(max(tracking-1, 0), -handler.LowPriority-1)
}

// boundApplications are the Applications a SourcePolicy binds, to check
// again when it changes (before and after the change).
func (r *ApplicationReconciler) boundApplications(ctx context.Context, obj client.Object) []reconcile.Request {
	apps, err := r.Policies.Applications(ctx, obj.(*weirv1.SourcePolicy))
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "cannot find the Applications a SourcePolicy binds; they are checked at their next interval", "sourcePolicy", obj.GetName())
	}
	reqs := make([]reconcile.Request, len(apps))
	for i, app := range apps {
		reqs[i] = reconcile.Request{NamespacedName: app}
	}
	return reqs
}

// Reconcile syncs one Application when Git, its spec or a sync request
// moved on, and otherwise re-checks the health of what it applied. Status
// is patched once, at the end, and then the objects it lists are guarded
// against drift or not, as the spec says (suspended or not).
func (r *ApplicationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	app := &weirv1.Application{}
	if err := r.Reader.Get(ctx, req.NamespacedName, app); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			r.Metrics.ForgetApplication(req.Namespace, req.Name)
			return ctrl.Result{}, r.Guard.Forget(ctx, req.NamespacedName)
		}
		return ctrl.Result{}, err
	}
	defer func() { retErr = errors.Join(retErr, r.guard(ctx, app)) }()
	if app.Spec.Suspend {
		r.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	before := app.DeepCopy()
	defer func() {
		patching := time.Now()
		if err := r.patchStatus(ctx, app, before); err != nil {
			retErr = errors.Join(retErr, client.IgnoreNotFound(err))
		}
		r.Metrics.ObservePhase(metrics.PhaseStatus, time.Since(patching))
		r.Metrics.ObserveApplication(app)
	}()
	err := r.reconcileWithin(ctx, app, reconcileTimeout(app))
	app.Status.ObservedGeneration = app.Generation
	// Jitter spreads the polls of Applications created together.
	interval := wait.Jitter(app.Spec.Sync.IntervalOrDefault(), pollJitter)
	if se := (*syncError)(nil); errors.As(err, &se) {
		// A failed sync is recorded and logged already; one that a retry
		// may get past is retried sooner than the next poll.
		if se.stall {
			return poll(interval), nil
		}
		return poll(retryDelay(app.Status.History, interval)), nil
	}
	return poll(interval), err
}

// poll is the result of a reconcile that checks again after a delay: at
// low priority, behind drift, pushes and changes to Applications.
func poll(after time.Duration) ctrl.Result {
	return ctrl.Result{RequeueAfter: after, Priority: ptr.To(handler.LowPriority)}
}

// guard protects app's objects from others' changes, or stops, and tells
// the Application's readers when it cannot.
func (r *ApplicationReconciler) guard(ctx context.Context, app *weirv1.Application) error {
	if app.RemoteCluster() != "" {
		// The admission policy is weir's own cluster's.
		return r.Guard.Forget(ctx, client.ObjectKeyFromObject(app))
	}
	err := r.Guard.Guard(ctx, app)
	if err != nil {
		r.Recorder.Event(app, corev1.EventTypeWarning, ReasonDriftPreventionFailed, "Cannot keep the drift prevention policy: "+err.Error())
	}
	return err
}

// reconcileOverhead is what a reconcile is given beyond its waits for
// health: enough to wait for another fetch of the repository, fetch and
// render at the default limits, with room to spare.
const reconcileOverhead = 10 * time.Minute

// reconcileTimeout bounds one reconcile of app, so that no input (a Git
// server that never answers, a render that never ends) holds a worker for
// good: the overhead, and three times the health timeout of a wave
// (spec.sync.timeout) for the waves of a sync.
func reconcileTimeout(app *weirv1.Application) time.Duration {
	return reconcileOverhead + 3*app.Spec.Sync.TimeoutOrDefault()
}

// reconcileWithin is reconcile, ended after timeout. The caller's ctx, not
// ended, is left to patch the status with the outcome.
func (r *ApplicationReconciler) reconcileWithin(ctx context.Context, app *weirv1.Application, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return r.reconcile(ctx, app)
}

// reconcile decides whether a sync is due and runs it, as the identity
// the Application runs as.
func (r *ApplicationReconciler) reconcile(ctx context.Context, app *weirv1.Application) error {
	rules, err := r.rules(ctx, app)
	if err != nil {
		return err
	}
	if err := rules.Spec(app); err != nil {
		return r.fail(ctx, app, desired.State{}, syncTrigger(app, desired.State{}), time.Now(), stalled(ReasonSourceNotAllowed, err))
	}
	acting, err := r.actingFor(ctx, app)
	if err != nil {
		return r.fail(ctx, app, desired.State{}, syncTrigger(app, desired.State{}), time.Now(), err)
	}
	return acting.reconcileAs(ctx, app, rules)
}

// actingFor returns a copy of r whose stages act as the identity app runs
// as, on the cluster it syncs to, once app's references pass the tenancy
// policy.
func (r *ApplicationReconciler) actingFor(ctx context.Context, app *weirv1.Application) (*ApplicationReconciler, error) {
	if err := r.Tenancy.CheckApplication(app); err != nil {
		return nil, stalled(ReasonCrossNamespaceRef, err)
	}
	acting := *r
	if err := r.destinationOf(ctx, app, &acting); err != nil {
		return nil, err
	}
	if acting.Identities == nil {
		return &acting, nil
	}
	stages, err := acting.Identities.Get(r.Tenancy.For(app))
	if err != nil {
		return nil, reason(ReasonImpersonationFailed, err)
	}
	acting.Applier, acting.Health, acting.Delivery = stages.Applier, stages.Health, stages.Delivery
	return &acting, nil
}

// reconcileAs is reconcile, with r's stages acting for app, which rules
// bind.
func (r *ApplicationReconciler) reconcileAs(ctx context.Context, app *weirv1.Application, rules sourcepolicy.Rules) error {
	state, err := r.Loader.Load(ctx, app)
	if isRefused(err) {
		return r.refuse(ctx, app, state, err)
	}
	if err == nil {
		err = r.admitObjects(ctx, app, state, rules)
	}
	if err != nil {
		return r.fail(ctx, app, state, syncTrigger(app, state), time.Now(), err)
	}
	return r.converge(ctx, app, state, syncTrigger(app, state))
}

// converge syncs state when trigger says a sync is due, or a promotion or
// a drift to heal calls for one, and otherwise re-checks the health of
// what was applied.
func (r *ApplicationReconciler) converge(ctx context.Context, app *weirv1.Application, state desired.State, trigger string) error {
	apply.SetOwner(state.Objects, apply.OwnerOf(app))
	if err := r.driveRollouts(ctx, state.Objects); err != nil {
		// Retried as any failed sync: installing weir's CRDs on the
		// cluster, not a change in Git, is what fixes it.
		return r.fail(ctx, app, state, trigger, time.Now(), reason(ReasonDeliveryFailed, err))
	}
	plan, err := r.hold(ctx, app, state)
	if err != nil {
		return r.fail(ctx, app, state, trigger, time.Now(), reason(ReasonDeliveryFailed, err))
	}
	app.Status.Rollouts = plan.Progress
	if trigger == "" && plan.Promoting {
		trigger = TriggerPromotion
	}
	if trigger == "" {
		if trigger, err = r.checkDrift(ctx, app, state); err != nil {
			return errors.New(failureMessage(err, state.Secrets))
		}
	}
	if trigger == "" {
		r.rememberApplied(ctx, app, state)
		if err := r.refreshHealth(ctx, app); err != nil {
			return errors.New(failureMessage(err, state.Secrets))
		}
		return nil
	}
	key := client.ObjectKeyFromObject(app)
	r.resting.forget(key)
	read, watched := r.healthRead(app)
	err = r.sync(ctx, app, state, plan, trigger)
	r.track(ctx, app)
	if err == nil && watched {
		// A sync that succeeded found every object Current after read's
		// mark; its own applies leave the mark where it was.
		r.resting.record(key, read, health.Report{})
	}
	return err
}

// rules are the SourcePolicies that bind app; none without Policies.
func (r *ApplicationReconciler) rules(ctx context.Context, app *weirv1.Application) (sourcepolicy.Rules, error) {
	if r.Policies == nil {
		return sourcepolicy.Rules{}, nil
	}
	return r.Policies.For(ctx, app)
}

// admitObjects checks the namespaces of the rendered objects against
// rules, before anything of the revision is planned or applied. The
// objects are normalized for it; those that do not normalize are left for
// the sync to report.
func (r *ApplicationReconciler) admitObjects(ctx context.Context, app *weirv1.Application, state desired.State, rules sourcepolicy.Rules) error {
	if rules.Empty() {
		return nil
	}
	_ = r.Applier.Normalize(ctx, state.Objects, state.Namespace)
	if err := rules.Objects(app, state.Objects); err != nil {
		return stalled(ReasonSourceNotAllowed, err)
	}
	return nil
}

// hold decides which pod templates of the revision the Application's
// Rollouts release rather than the sync, and edits the objects to keep
// them back. Objects that do not normalize are left for the sync to
// report.
func (r *ApplicationReconciler) hold(ctx context.Context, app *weirv1.Application, state desired.State) (delivery.Plan, error) {
	if !slices.ContainsFunc(state.Objects, delivery.IsRollout) {
		return delivery.Plan{}, nil
	}
	if err := r.Applier.Normalize(ctx, state.Objects, state.Namespace); err != nil {
		return delivery.Plan{}, nil
	}
	return r.Delivery.Hold(ctx, client.ObjectKeyFromObject(app), state.Objects, state.Artifact.Revision, app.Status.LastAppliedRevision)
}

// checkDrift compares the objects changed outside weir since the last
// check (all of them, the first time the Application is seen) with the
// revision last applied, and records what drifted. It returns TriggerDrift
// when the drift is to be healed.
func (r *ApplicationReconciler) checkDrift(ctx context.Context, app *weirv1.Application, state desired.State) (string, error) {
	suspects := r.suspects(ctx, app)
	if len(suspects) > 0 {
		if err := r.Applier.Normalize(ctx, state.Objects, app.DestinationNamespace()); err != nil {
			return "", err
		}
		drifts, err := r.Applier.Drift(ctx, selectObjects(state.Objects, suspects))
		if err != nil {
			return "", fmt.Errorf("check drift: %w", err)
		}
		r.recordDrift(ctx, app, suspects, drifts)
	}
	if len(app.Status.Drift) > 0 && app.Spec.Sync.SelfHeal {
		return TriggerDrift, nil
	}
	return "", nil
}

// suspects are the objects to check for drift.
func (r *ApplicationReconciler) suspects(ctx context.Context, app *weirv1.Application) []weirv1.ObjectRef {
	key := client.ObjectKeyFromObject(app)
	first := r.track(ctx, app)
	changed := r.Drift.Suspects(key)
	if first {
		return app.Status.Inventory
	}
	return changed
}

// track watches the Application's inventory and reports whether it was
// watched for the first time. A kind that cannot be watched is logged: its
// drift is then found at the next sync only.
func (r *ApplicationReconciler) track(ctx context.Context, app *weirv1.Application) bool {
	first, err := r.Drift.Track(client.ObjectKeyFromObject(app), app.Status.Inventory)
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "cannot watch some applied objects for drift")
	}
	return first
}

// sync applies one revision: plan the whole set, apply it in stages with
// each stage healthy before the next, prune what left Git, record the result.
func (r *ApplicationReconciler) sync(ctx context.Context, app *weirv1.Application, state desired.State, plan delivery.Plan, trigger string) error {
	started := time.Now()
	log := ctrl.LoggerFrom(ctx).WithValues("revision", state.Artifact.Revision, "trigger", trigger)
	if state.Signers != "" {
		log = log.WithValues("signed", state.Signers)
	}
	log.Info("sync started")
	r.markReconciling(ctx, app, state.Artifact.Revision)

	changes, order, err := r.applyAll(ctx, app, state.Objects, state.Namespace)
	warned := r.reportWarnings(app, state, order)
	if err == nil {
		err = r.release(ctx, plan)
	}
	if err != nil {
		r.Metrics.ObserveSync(weirv1.SyncFailed, time.Since(started))
		return r.fail(ctx, app, state, trigger, started, err)
	}
	app.Status.LastAppliedRevision = state.Artifact.Revision
	// Hooks deleted by their policy are not left behind.
	app.Status.Inventory = mergeInventory(inventoryOf(order.Applied()), changes)
	r.resetApplied(app, order.Applied())
	if trigger == TriggerDrift {
		r.Recorder.Event(app, corev1.EventTypeNormal, ReasonDriftCorrected, "Re-applied revision "+state.Artifact.Revision+" over "+driftSummary(app.Status.Drift))
		for range app.Status.Drift {
			r.Metrics.DriftCorrected()
		}
	}
	app.Status.Drift = nil
	r.recordSuccess(app, state, trigger, started, summary(changes, plan)+warned)
	if ignored := order.IgnoredSummary(); ignored != "" {
		cond := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.SyncedCondition)
		setCondition(app, weirv1.SyncedCondition, metav1.ConditionTrue, ReasonSucceeded, cond.Message+". "+ignored)
	}
	r.Metrics.ObserveSync(weirv1.SyncSucceeded, time.Since(started))
	log.Info("sync succeeded", "changes", changes.String())
	return nil
}

// applyAll is the plan -> apply -> prune part of a sync; namespaced objects
// that name no namespace go to namespace. It returns the changes and the
// order the objects were applied in. On failure after some stage was
// applied, the inventory keeps both what was there and what was applied, so
// that nothing weir created is forgotten, and the SyncFail hooks run.
func (r *ApplicationReconciler) applyAll(ctx context.Context, app *weirv1.Application, objs []*unstructured.Unstructured, namespace string) (apply.ChangeSet, planned, error) {
	planning := time.Now()
	order, err := r.plan(ctx, app, objs, namespace)
	r.Metrics.ObservePhase(metrics.PhaseDryRun, time.Since(planning))
	if conflict := (*apply.OwnershipError)(nil); errors.As(err, &conflict) {
		return nil, order, stalled(ReasonOwnershipConflict, err)
	}
	if denied := (*policy.DeniedError)(nil); errors.As(err, &denied) {
		return nil, order, stalled(ReasonPolicyViolation, err)
	}
	if err != nil {
		return nil, order, stalled(ReasonValidationFailed, err)
	}
	var changes apply.ChangeSet
	for _, stage := range order.Stages {
		applied, err := r.applyStage(ctx, app, stage, order.dryRuns)
		changes = append(changes, applied...)
		if err != nil {
			return r.failed(ctx, app, order, changes, err)
		}
	}
	if !app.Spec.Sync.PruneEnabled() {
		return changes, order, nil
	}
	r.keepOnly(app, objs)
	pruning := time.Now()
	pruned, err := r.Applier.Prune(ctx, apply.OwnerOf(app), app.Status.Inventory, objs)
	r.Metrics.ObservePhase(metrics.PhasePrune, time.Since(pruning))
	changes = append(changes, pruned...)
	if err != nil {
		return r.failed(ctx, app, order, changes, reason(ReasonPruneFailed, err))
	}
	return changes, order, nil
}

// planned is the plan of a sync: the order of its objects, what their dry
// runs found, and what the policies warned of.
type planned struct {
	apply.Plan
	dryRuns  apply.DryRuns
	warnings []policy.Violation
}

// reportWarnings tells what the policies warned of in an Event, and
// returns it for the summary of the sync, bounded and with the values of
// secrets redacted (a policy's message may quote the object).
func (r *ApplicationReconciler) reportWarnings(app *weirv1.Application, state desired.State, order planned) string {
	if len(order.warnings) == 0 {
		return ""
	}
	msg := truncate(state.Secrets.String(policy.Summary(order.warnings)), maxMessage)
	r.Recorder.Event(app, corev1.EventTypeWarning, ReasonPolicyWarning, msg)
	return "; policy warnings: " + msg
}

// plan orders the objects of a sync, normalizes and validates those it may
// apply, and checks them against the policies that bind the Application.
// The annotations weir ignores are told in an Event.
func (r *ApplicationReconciler) plan(ctx context.Context, app *weirv1.Application, objs []*unstructured.Unstructured, namespace string) (planned, error) {
	var order planned
	var err error
	if order.Plan, err = apply.NewPlan(objs); err != nil {
		return order, err
	}
	applicable := slices.Concat(order.Applied(), order.OnFailure)
	if err := r.Applier.Normalize(ctx, applicable, namespace); err != nil {
		return order, err
	}
	// Skip hooks are never applied, but Prune must know one by its
	// namespace to keep it when a sync applied it before. One that does not
	// normalize (of a kind the cluster does not serve) fails no sync.
	_ = r.Applier.Normalize(ctx, order.Skipped, namespace)
	if order.dryRuns, err = r.Applier.Validate(ctx, applicable); err != nil {
		return order, err
	}
	if order.warnings, err = r.checkPolicies(ctx, app, applicable); err != nil {
		return order, err
	}
	if ignored := order.IgnoredSummary(); ignored != "" {
		r.Recorder.Event(app, corev1.EventTypeWarning, ReasonAnnotationsIgnored, ignored)
	}
	return order, nil
}

// checkPolicies evaluates the policies that bind app on the set. It
// returns a *policy.DeniedError when a Deny policy found a violation, and
// the warnings otherwise.
func (r *ApplicationReconciler) checkPolicies(ctx context.Context, app *weirv1.Application, objs []*unstructured.Unstructured) ([]policy.Violation, error) {
	if r.SyncPolicies == nil {
		return nil, nil
	}
	// The live objects are read as the Application's identity, like
	// everything else of its sync.
	report, err := r.SyncPolicies.Check(ctx, app, objs, r.Applier)
	if err != nil {
		return nil, reason(ReasonPolicyViolation, fmt.Errorf("check policies: %w", err))
	}
	return report.Warnings, report.Err()
}

// applyStage applies one stage, sending only what its dry runs show
// changes, and waits until it is healthy, then deletes the hooks whose
// policy says so: HookSucceeded ones when it succeeded, HookFailed ones
// when it failed.
func (r *ApplicationReconciler) applyStage(ctx context.Context, app *weirv1.Application, stage []*unstructured.Unstructured, dryRuns apply.DryRuns) (apply.ChangeSet, error) {
	applying := time.Now()
	changes, err := r.applyRecorded(ctx, app, stage, dryRuns)
	r.Metrics.ObservePhase(metrics.PhaseApply, time.Since(applying))
	if err != nil {
		err = reason(ReasonApplyFailed, err)
	} else if err = r.waitHealthy(ctx, app, changes); err != nil {
		err = reason(ReasonHealthCheckFailed, err)
	}
	policy := apply.HookSucceeded
	if err != nil {
		policy = apply.HookFailed
	}
	deleted, deleteErr := r.Applier.DeleteHooks(ctx, stage, policy)
	if deleteErr != nil && err == nil {
		err = reason(ReasonApplyFailed, deleteErr)
	}
	return append(changes, deleted...), err
}

// waitHealthy waits until the objects a stage applied are healthy. Those
// Current as the server returned them (ConfigMaps, Services, unchanged
// workloads) cost no wait and no request; when all are, nothing is waited
// for.
func (r *ApplicationReconciler) waitHealthy(ctx context.Context, app *weirv1.Application, changes apply.ChangeSet) error {
	defer func(waiting time.Time) { r.Metrics.ObservePhase(metrics.PhaseWait, time.Since(waiting)) }(time.Now())
	pending := healthRefs(app, notCurrent(changes))
	if len(pending) == 0 {
		return nil
	}
	_, err := r.Health.Wait(ctx, pending, app.Spec.Sync.TimeoutOrDefault())
	return err
}

// notCurrent are the objects of changes not Current as the server returned
// them, or that it did not return, sorted.
func notCurrent(changes apply.ChangeSet) []weirv1.ObjectRef {
	var refs []weirv1.ObjectRef
	for _, c := range changes {
		if c.Applied == nil || health.Compute(c.Applied).Status != health.Current {
			refs = append(refs, c.Object)
		}
	}
	sortRefs(refs)
	return refs
}

// failed records what a failed sync applied in the inventory and runs the
// plan's SyncFail hooks; their failure is added to the sync's.
func (r *ApplicationReconciler) failed(ctx context.Context, app *weirv1.Application, order planned, changes apply.ChangeSet, err error) (apply.ChangeSet, planned, error) {
	if len(order.OnFailure) > 0 {
		hooks, hookErr := r.applyStage(ctx, app, order.OnFailure, order.dryRuns)
		changes = append(changes, hooks...)
		if hookErr != nil {
			err = fmt.Errorf("%w; and the SyncFail hooks failed: %v", err, hookErr)
		}
	}
	app.Status.Inventory = mergeInventory(app.Status.Inventory, changes)
	return changes, order, err
}

// refreshHealth re-checks the applied objects when no sync is due, unless
// the last check was final (see restingHealth) and the drift watches saw
// none of them change since: then the Healthy condition still holds.
func (r *ApplicationReconciler) refreshHealth(ctx context.Context, app *weirv1.Application) error {
	key := client.ObjectKeyFromObject(app)
	read, watched := r.healthRead(app)
	known := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.HealthyCondition) != nil
	if watched && known && r.resting.fresh(key, read) {
		return nil
	}
	report, err := r.Health.Check(ctx, healthRefs(app, app.Status.Inventory))
	if err != nil {
		r.resting.forget(key)
		return err
	}
	setHealth(app, report)
	if watched {
		r.resting.record(key, read, report)
	}
	return nil
}

// healthRead is a read of app's health from now, and whether the drift
// watches vouch for its mark (never without restingHealth).
func (r *ApplicationReconciler) healthRead(app *weirv1.Application) (healthRead, bool) {
	read := healthRead{generation: app.Generation}
	if r.resting == nil {
		return read, false
	}
	var watched bool
	read.mark, watched = r.Drift.LastChange(client.ObjectKeyFromObject(app))
	return read, watched
}

// markReconciling tells watchers at once that a sync has started; the final
// status follows when it ends.
func (r *ApplicationReconciler) markReconciling(ctx context.Context, app *weirv1.Application, revision string) {
	before := app.DeepCopy()
	setCondition(app, weirv1.ReconcilingCondition, metav1.ConditionTrue, ReasonProgressing, "Syncing revision "+revision)
	if err := r.Client.Status().Patch(ctx, app, client.MergeFrom(before)); err != nil {
		ctrl.LoggerFrom(ctx).V(1).Info("could not mark the Application reconciling", "error", err.Error())
	}
}

// patchStatus patches app's status with what changed since before, and
// sends nothing when nothing did: an Application at rest costs no write.
func (r *ApplicationReconciler) patchStatus(ctx context.Context, app, before *weirv1.Application) error {
	patch := client.MergeFrom(before)
	data, err := patch.Data(app)
	if err != nil {
		return fmt.Errorf("status patch of Application %s/%s: %w", app.Namespace, app.Name, err)
	}
	if string(data) == "{}" {
		return nil
	}
	return r.Client.Status().Patch(ctx, app, patch)
}

func (r *ApplicationReconciler) recordSuccess(app *weirv1.Application, state desired.State, trigger string, started time.Time, summary string) {
	msg := fmt.Sprintf("Applied revision %s: %s", state.Artifact.Revision, summary)
	apimeta.RemoveStatusCondition(&app.Status.Conditions, weirv1.ReconcilingCondition)
	apimeta.RemoveStatusCondition(&app.Status.Conditions, weirv1.StalledCondition)
	setCondition(app, weirv1.SyncedCondition, metav1.ConditionTrue, ReasonSucceeded, msg)
	setCondition(app, weirv1.HealthyCondition, metav1.ConditionTrue, ReasonSucceeded, "All applied objects are Current")
	setCondition(app, weirv1.ReadyCondition, metav1.ConditionTrue, ReasonSucceeded, msg)
	app.Status.LastAttemptedRevision = state.Artifact.Revision
	app.Status.LastHandledSyncRequest = app.Annotations[weirv1.RequestedSyncAnnotation]
	addHistory(app, historyRecord(state, trigger, started, weirv1.SyncSucceeded, summary))
	r.Recorder.Event(app, corev1.EventTypeNormal, ReasonSucceeded, msg)
}

// fail records a failed sync attempt in the conditions, the history and an
// Event, and logs it when its reason or message changed since the last
// attempt: not once per poll. Every one of them, and the error returned,
// says what failed with the values of secrets redacted, in a bounded
// message.
func (r *ApplicationReconciler) fail(ctx context.Context, app *weirv1.Application, state desired.State, trigger string, started time.Time, err error) error {
	why, stall, msg := reasonOf(err), isStalling(err), failureMessage(err, state.Secrets)
	if last := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.ReadyCondition); last == nil ||
		last.Status != metav1.ConditionFalse || last.Reason != why || last.Message != msg {
		ctrl.LoggerFrom(ctx).Error(errors.New(msg), "sync failed", "reason", why, "revision", state.Artifact.Revision, "trigger", trigger)
	}
	apimeta.RemoveStatusCondition(&app.Status.Conditions, weirv1.ReconcilingCondition)
	if stall {
		setCondition(app, weirv1.StalledCondition, metav1.ConditionTrue, why, msg)
	} else {
		apimeta.RemoveStatusCondition(&app.Status.Conditions, weirv1.StalledCondition)
	}
	if why == ReasonHealthCheckFailed {
		setCondition(app, weirv1.SyncedCondition, metav1.ConditionTrue, ReasonSucceeded, "Applied revision "+state.Artifact.Revision)
		setCondition(app, weirv1.HealthyCondition, metav1.ConditionFalse, why, msg)
	} else {
		setCondition(app, weirv1.SyncedCondition, metav1.ConditionFalse, why, msg)
	}
	setCondition(app, weirv1.ReadyCondition, metav1.ConditionFalse, why, msg)
	app.Status.LastHandledSyncRequest = app.Annotations[weirv1.RequestedSyncAnnotation]
	if state.Artifact.Revision != "" {
		app.Status.LastAttemptedRevision = state.Artifact.Revision
	}
	addHistory(app, historyRecord(state, trigger, started, weirv1.SyncFailed, msg))
	r.Recorder.Event(app, corev1.EventTypeWarning, why, msg)
	return &syncError{reason: why, stall: stall, err: err, msg: msg}
}

// retryDelay is how long after a failed sync the next attempt comes: one
// second after the first failure, doubling with each failure in a row
// that history records, never later than the next poll.
func retryDelay(history []weirv1.SyncRecord, interval time.Duration) time.Duration {
	delay := time.Second
	for _, rec := range history[min(1, len(history)):] {
		if rec.Result != weirv1.SyncFailed || delay >= interval {
			break
		}
		delay *= 2
	}
	return min(delay, interval)
}

// syncTrigger says why a sync is due, or "" when none is.
func syncTrigger(app *weirv1.Application, state desired.State) string {
	switch {
	case app.Annotations[weirv1.RequestedSyncAnnotation] != app.Status.LastHandledSyncRequest:
		return TriggerManual
	case state.Artifact.Revision != app.Status.LastAttemptedRevision:
		return TriggerRevision
	case app.Generation != app.Status.ObservedGeneration:
		return TriggerSpec
	case !apimeta.IsStatusConditionTrue(app.Status.Conditions, weirv1.SyncedCondition) && !isDrifted(app):
		return TriggerRetry
	default:
		return ""
	}
}

// pollJitter is the most a poll is delayed past the interval, as a fraction of it.
const pollJitter = 0.1

// What started a sync, as recorded in history.
const (
	TriggerManual   = "manual"
	TriggerRevision = "revision"
	TriggerSpec     = "spec"
	TriggerRetry    = "retry"
	TriggerDrift    = "drift"
	// TriggerPromotion is a sync that gives a stable Deployment the
	// template its Rollout promoted.
	TriggerPromotion = "promotion"
)

func historyRecord(state desired.State, trigger string, started time.Time, result weirv1.SyncResult, summary string) weirv1.SyncRecord {
	a := state.Artifact
	return weirv1.SyncRecord{
		Revision:   a.Revision,
		Author:     a.Author,
		Message:    a.Message,
		Trigger:    trigger,
		StartedAt:  metav1.NewTime(started),
		FinishedAt: metav1.Now(),
		Result:     result,
		Summary:    summary,
	}
}

// addHistory prepends a record and keeps the newest MaxHistory.
func addHistory(app *weirv1.Application, rec weirv1.SyncRecord) {
	h := append([]weirv1.SyncRecord{rec}, app.Status.History...)
	if len(h) > weirv1.MaxHistory {
		h = h[:weirv1.MaxHistory]
	}
	app.Status.History = h
}

func setHealth(app *weirv1.Application, report health.Report) {
	if report.Healthy() {
		setCondition(app, weirv1.HealthyCondition, metav1.ConditionTrue, ReasonSucceeded, "All applied objects are Current")
		if apimeta.IsStatusConditionTrue(app.Status.Conditions, weirv1.SyncedCondition) {
			setCondition(app, weirv1.ReadyCondition, metav1.ConditionTrue, ReasonSucceeded, "Applied revision "+app.Status.LastAppliedRevision)
		}
		return
	}
	setCondition(app, weirv1.HealthyCondition, metav1.ConditionFalse, ReasonHealthCheckFailed, report.String())
	setCondition(app, weirv1.ReadyCondition, metav1.ConditionFalse, ReasonHealthCheckFailed, report.String())
}

func setCondition(app *weirv1.Application, typ string, status metav1.ConditionStatus, reason, msg string) {
	apimeta.SetStatusCondition(&app.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: app.Generation,
	})
}

// release writes the copies the plan holds back and tells the Rollout
// reconciler about each Rollout of the sync.
func (r *ApplicationReconciler) release(ctx context.Context, plan delivery.Plan) error {
	if len(plan.Wanted) == 0 {
		return nil
	}
	if err := r.Delivery.Release(ctx, plan); err != nil {
		return reason(ReasonDeliveryFailed, err)
	}
	for key := range plan.Wanted {
		ro := &weirv1.Rollout{}
		ro.Namespace, ro.Name = key.Namespace, key.Name
		send(r.Released, ro)
	}
	return nil
}

// maxSkipsShown is how many objects prune left alone a sync's summary
// names, with the reason.
const maxSkipsShown = 3

// summary says what a sync changed and which templates it held back.
func summary(changes apply.ChangeSet, plan delivery.Plan) string {
	s := changes.String()
	if skips := changes.Skips(maxSkipsShown); skips != "" {
		s += " (" + skips + ")"
	}
	for _, rel := range plan.Releases {
		what := "releases the new pod template"
		if rel.Quarantined {
			what = "holds back the new pod template, which failed before"
		}
		s += fmt.Sprintf("; Rollout %s %s", rel.Rollout, what)
	}
	return s
}
