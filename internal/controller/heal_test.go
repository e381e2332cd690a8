package controller

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/drift"
)

// suspectDrift reports fixed suspects once, and counts the calls.
type suspectDrift struct {
	DriftWatcher
	suspects []weirv1.ObjectRef
	asked    int
	restored []weirv1.ObjectRef
}

func (d *suspectDrift) Suspects(types.NamespacedName) []weirv1.ObjectRef {
	d.asked++
	s := d.suspects
	d.suspects = nil
	return s
}

func (d *suspectDrift) Restore(_ types.NamespacedName, refs []weirv1.ObjectRef) { d.restored = refs }

// driftingApplier finds drifted the objects named in drifted, and records
// what it applies.
type driftingApplier struct {
	Applier
	drifted map[string]bool
	checked []string
	applied []string
}

func (a *driftingApplier) Drift(_ context.Context, objs []*unstructured.Unstructured) ([]apply.ObjectDrift, error) {
	var found []apply.ObjectDrift
	for _, obj := range objs {
		a.checked = append(a.checked, obj.GetName())
		if a.drifted[obj.GetName()] {
			found = append(found, apply.ObjectDrift{Object: apply.Ref(obj), Fields: []string{".data.v"}, Managers: []string{"kubectl-edit"}})
		}
	}
	return found, nil
}

func (a *driftingApplier) Apply(_ context.Context, stage []*unstructured.Unstructured, _ apply.DryRuns) (apply.ChangeSet, error) {
	var changes apply.ChangeSet
	for _, obj := range stage {
		a.applied = append(a.applied, obj.GetName())
		changes = append(changes, apply.Change{Object: apply.Ref(obj), Action: apply.Configured})
	}
	return changes, nil
}

func cfg(name string) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{}
	obj.SetAPIVersion("v1")
	obj.SetKind("ConfigMap")
	obj.SetNamespace("shop")
	obj.SetName(name)
	return obj
}

// healFixture is a self-healing Application in sync, and a reconciler with
// no Loader: a heal that reads Git panics.
func healFixture(t *testing.T, suspects ...string) (*ApplicationReconciler, *suspectDrift, *driftingApplier, *weirv1.Application) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := weirv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
	app.Spec.Sync.SelfHeal = true
	app.Status.LastAppliedRevision = "main@sha1:abc"
	setCondition(app, weirv1.SyncedCondition, metav1.ConditionTrue, ReasonSucceeded, "Applied revision main@sha1:abc")
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(app).WithStatusSubresource(app).Build()
	watcher := &suspectDrift{}
	for _, name := range suspects {
		watcher.suspects = append(watcher.suspects, apply.Ref(cfg(name)))
	}
	applier := &driftingApplier{drifted: map[string]bool{"b": true}}
	r := &ApplicationReconciler{Client: c, Reader: c, Applier: applier, Drift: watcher, Applied: drift.NewApplied(),
		Recorder: record.NewFakeRecorder(10), unhealed: make(chan event.GenericEvent, 1)}
	return r, watcher, applier, app
}

// TestAHealReappliesOnlyTheDriftedObjectsWithoutGit: from the applied set,
// the suspects are checked and only the drifted one re-applied; the heal
// is recorded in the history with what it re-applied.
func TestAHealReappliesOnlyTheDriftedObjectsWithoutGit(t *testing.T) {
	r, _, applier, app := healFixture(t, "a", "b")
	set := r.Applied.Lock(types.NamespacedName{Namespace: "shop", Name: "web"})
	set.Reset([]*unstructured.Unstructured{cfg("a"), cfg("b"), cfg("c")})
	set.Unlock()

	if _, err := r.heal(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "shop", Name: "web"}}); err != nil {
		t.Fatal(err)
	}
	if len(applier.checked) != 2 || len(applier.applied) != 1 || applier.applied[0] != "b" {
		t.Errorf("checked %v and applied %v, want a and b checked and b alone applied", applier.checked, applier.applied)
	}
	got := &weirv1.Application{}
	if err := r.Reader.Get(context.Background(), types.NamespacedName{Namespace: "shop", Name: "web"}, got); err != nil {
		t.Fatal(err)
	}
	if len(got.Status.History) != 1 || got.Status.History[0].Trigger != TriggerDrift || got.Status.History[0].Summary != "1 configured" ||
		got.Status.History[0].Revision != app.Status.LastAppliedRevision || len(got.Status.Drift) != 0 {
		t.Errorf("history %+v, drift %+v; want one heal of revision %s re-applying one object", got.Status.History, got.Status.Drift, app.Status.LastAppliedRevision)
	}
	select {
	case e := <-r.unhealed:
		t.Errorf("the heal was left to a reconcile: %v", e.Object.GetName())
	default:
	}
}

// TestADriftIsLeftToAReconcileUntilTheAppliedObjectsAreKnown: with no
// applied set (weir just started), the suspects stay for the reconcile,
// which reads Git.
func TestADriftIsLeftToAReconcileUntilTheAppliedObjectsAreKnown(t *testing.T) {
	r, watcher, applier, _ := healFixture(t, "b")
	if _, err := r.heal(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "shop", Name: "web"}}); err != nil {
		t.Fatal(err)
	}
	if watcher.asked != 0 || len(applier.checked) != 0 {
		t.Errorf("suspects taken %d times, %v checked; want the suspects left alone", watcher.asked, applier.checked)
	}
	select {
	case <-r.unhealed:
	default:
		t.Error("the drift was not left to a reconcile")
	}
}
