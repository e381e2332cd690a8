package controller

import (
	"context"
	"strings"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/desired"
	"weir.dev/weir/internal/health"
	"weir.dev/weir/internal/source"
)

// appliedLoader loads the revision the Application applied last: at rest.
type appliedLoader struct{ Loader }

func (appliedLoader) Load(_ context.Context, app *weirv1.Application) (desired.State, error) {
	return desired.State{Artifact: source.Artifact{Revision: app.Status.LastAppliedRevision}}, nil
}

// markedDrift reports no drift, and the mark of the last change it is set to.
type markedDrift struct {
	quietDrift
	mark    uint64
	watched bool
}

func (d *markedDrift) LastChange(types.NamespacedName) (uint64, bool) { return d.mark, d.watched }

// countingChecker reports a set status for the Deployment, and counts reads.
type countingChecker struct {
	HealthChecker
	status health.Status
	reads  int
}

func (c *countingChecker) Check(_ context.Context, refs []weirv1.ObjectRef) (health.Report, error) {
	c.reads++
	report := health.Report{}
	for _, ref := range refs {
		report.Objects = append(report.Objects, health.ObjectStatus{Object: ref, Status: c.status, Message: string(c.status)})
	}
	return report, nil
}

// TestHealthAtRestIsReadOnlyWhenAnObjectChanged: an Application at rest
// whose health was read Current, or Failed, costs no read while the drift
// watches see none of its objects change; a change (a Deployment whose
// pods die) makes the next poll read it, and Healthy follow. A status on
// its way (InProgress) is read at every poll, and so is every object
// when the watches cannot vouch for them.
func TestHealthAtRestIsReadOnlyWhenAnObjectChanged(t *testing.T) {
	revision := "main@sha1:" + strings.Repeat("a", 40)
	checker := &countingChecker{status: health.Current}
	watcher := &markedDrift{mark: 7, watched: true}
	r := &ApplicationReconciler{Loader: appliedLoader{}, Recorder: record.NewFakeRecorder(10), Drift: watcher, Health: checker,
		resting: newRestingHealth()}
	app := &weirv1.Application{Status: weirv1.ApplicationStatus{
		LastAppliedRevision: revision, LastAttemptedRevision: revision,
		Inventory:  []weirv1.ObjectRef{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}},
		Conditions: []metav1.Condition{{Type: weirv1.SyncedCondition, Status: metav1.ConditionTrue}},
	}}
	polls := func(n int) {
		t.Helper()
		for range n {
			if err := r.reconcile(context.Background(), app); err != nil {
				t.Fatal(err)
			}
		}
	}
	expect := func(what string, reads int, healthy metav1.ConditionStatus) {
		t.Helper()
		if checker.reads != reads {
			t.Errorf("%s: %d health reads, want %d", what, checker.reads, reads)
		}
		if c := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.HealthyCondition); c == nil || c.Status != healthy {
			t.Errorf("%s: Healthy = %+v, want %s", what, c, healthy)
		}
	}

	polls(3)
	expect("3 polls, nothing changed", 1, metav1.ConditionTrue)

	checker.status, watcher.mark = health.InProgress, 8 // the Deployment's pods die
	polls(1)
	expect("a change of the Deployment", 2, metav1.ConditionFalse)
	polls(2)
	expect("2 polls while it progresses", 4, metav1.ConditionFalse)

	checker.status = health.Failed
	polls(3)
	expect("3 polls once it failed", 5, metav1.ConditionFalse)

	checker.status, watcher.mark = health.Current, 9 // it recovers
	polls(3)
	expect("3 polls once it recovered", 6, metav1.ConditionTrue)

	watcher.watched = false
	polls(2)
	expect("2 polls while not watched", 8, metav1.ConditionTrue)

	watcher.watched = true
	app.Generation++
	app.Status.ObservedGeneration = app.Generation
	polls(2)
	expect("2 polls after a spec change", 9, metav1.ConditionTrue)
}

// headLoader loads a set head revision with no objects.
type headLoader struct {
	Loader
	head string
}

func (l *headLoader) Load(context.Context, *weirv1.Application) (desired.State, error) {
	return desired.State{Artifact: source.Artifact{Revision: l.head}}, nil
}

// emptyApplier applies empty sets.
type emptyApplier struct{ Applier }

func (emptyApplier) Normalize(context.Context, []*unstructured.Unstructured, string) error {
	return nil
}
func (emptyApplier) Validate(context.Context, []*unstructured.Unstructured) (apply.DryRuns, error) {
	return apply.DryRuns{}, nil
}
func (emptyApplier) Apply(context.Context, []*unstructured.Unstructured, apply.DryRuns) (apply.ChangeSet, error) {
	return nil, nil
}
func (emptyApplier) Prune(context.Context, apply.Owner, []weirv1.ObjectRef, []*unstructured.Unstructured) (apply.ChangeSet, error) {
	return nil, nil
}

// TestASyncThatSucceededCountsAsAHealthRead: the poll at rest after a
// sync reads no health while nothing but the sync's own applies happened
// to the objects, and reads it when something else did meanwhile.
func TestASyncThatSucceededCountsAsAHealthRead(t *testing.T) {
	for _, tt := range []struct {
		name  string
		moved bool
		reads int
	}{{"nothing else changed", false, 0}, {"an object changed after the sync started", true, 1}} {
		t.Run(tt.name, func(t *testing.T) {
			s := runtime.NewScheme()
			if err := weirv1.AddToScheme(s); err != nil {
				t.Fatal(err)
			}
			c := fake.NewClientBuilder().WithScheme(s).Build()
			loader := &headLoader{head: "main@sha1:" + strings.Repeat("b", 40)}
			checker := &countingChecker{status: health.Current}
			watcher := &markedDrift{mark: 7, watched: true}
			r := &ApplicationReconciler{Client: c, Loader: loader, Applier: emptyApplier{}, Recorder: record.NewFakeRecorder(10),
				Drift: watcher, Health: checker, resting: newRestingHealth()}
			applied := "main@sha1:" + strings.Repeat("a", 40)
			app := &weirv1.Application{Status: weirv1.ApplicationStatus{LastAppliedRevision: applied, LastAttemptedRevision: applied,
				Conditions: []metav1.Condition{{Type: weirv1.SyncedCondition, Status: metav1.ConditionTrue}}}}
			if err := r.reconcile(context.Background(), app); err != nil {
				t.Fatal(err)
			}
			if app.Status.LastAppliedRevision != loader.head {
				t.Fatalf("applied %s, want %s synced", app.Status.LastAppliedRevision, loader.head)
			}
			if tt.moved {
				watcher.mark++
			}
			if err := r.reconcile(context.Background(), app); err != nil {
				t.Fatal(err)
			}
			if checker.reads != tt.reads {
				t.Errorf("%d health reads at the poll after the sync, want %d", checker.reads, tt.reads)
			}
		})
	}
}
