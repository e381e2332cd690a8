package apply

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// appIn is an Application named "app" in ns, for tests that prune objects
// no other Application claims.
func appIn(ns string) Owner { return Owner{Namespace: ns, Name: "app"} }

// createApplication creates an Application in ns and returns it as Owner.
func createApplication(t *testing.T, ctx context.Context, ns, name string) Owner {
	t.Helper()
	testenv.InstallCRDs(t, "../../config/crd/bases/weir.dev_applications.yaml")
	app := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	app.Spec.Source.URL = "https://git.example/" + name + ".git"
	c := testenv.Client(t, v1alpha1.AddToScheme)
	if err := c.Create(ctx, app); err != nil {
		t.Fatal(err)
	}
	return OwnerOf(app)
}

// ownedSet parses docs and marks the objects as owner's.
func ownedSet(t *testing.T, owner Owner, docs string) []*unstructured.Unstructured {
	objs := parse(t, owner.Namespace, docs)
	SetOwner(objs, owner)
	return objs
}

const sharedConfigMap = `
apiVersion: v1
kind: ConfigMap
metadata: {name: shared}
data: {from: DATA}
`

func TestASecondApplicationClaimingAnObjectIsRefusedBeforeAnythingIsApplied(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	a, b := createApplication(t, ctx, ns, "a"), createApplication(t, ctx, ns, "b")
	applyAll(t, ctx, m, ns, ownedSet(t, a, strings.ReplaceAll(sharedConfigMap, "DATA", "a")))

	objs := ownedSet(t, b, strings.ReplaceAll(sharedConfigMap, "DATA", "b")+`---
apiVersion: v1
kind: ConfigMap
metadata: {name: only-b}
`)
	if err := m.Normalize(ctx, objs, ns); err != nil {
		t.Fatal(err)
	}
	_, err := m.Validate(ctx, objs)

	var conflict *OwnershipError
	if !errors.As(err, &conflict) || conflict.Owner != a.String() {
		t.Fatalf("Validate = %v, want an OwnershipError naming %s", err, a)
	}
	if want := "ConfigMap " + ns + "/shared: owned by Application " + a.String(); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if strings.Contains(err.Error(), "only-b") {
		t.Errorf("error names an object nobody else owns: %v", err)
	}
	// Should B apply all the same (it validated before A claimed the
	// object), the apply refuses it too.
	changes, err := m.Apply(ctx, objs, DryRuns{})
	if !errors.As(err, &conflict) {
		t.Errorf("Apply = %v, want an OwnershipError", err)
	}
	assertActions(t, changes, map[string]Action{"ConfigMap/only-b": Created})
	shared := live(t, ctx, m, Ref(objs[0]))
	if got, _, _ := unstructured.NestedString(shared.Object, "data", "from"); got != "a" {
		t.Errorf("data.from = %q: B changed A's object", got)
	}
	if got := shared.GetAnnotations()[v1alpha1.OwnerAnnotation]; got != a.String() {
		t.Errorf("owner = %q, want %s", got, a)
	}
}

func TestPruneLeavesAnObjectAnotherApplicationOwns(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	a, b := createApplication(t, ctx, ns, "a"), createApplication(t, ctx, ns, "b")
	// An older weir applied the object for both, without owners: it is in
	// A's inventory and in B's.
	legacy := parse(t, ns, strings.ReplaceAll(sharedConfigMap, "DATA", "legacy")+`---
apiVersion: v1
kind: ConfigMap
metadata: {name: only-a}
`)
	applyAll(t, ctx, m, ns, legacy)
	// B syncs first after the upgrade and claims it.
	applyAll(t, ctx, m, ns, ownedSet(t, b, strings.ReplaceAll(sharedConfigMap, "DATA", "b")))

	// A drops both from Git.
	changes, err := m.Prune(ctx, a, refs(legacy), nil)
	if err != nil {
		t.Fatal(err)
	}

	assertActions(t, changes, map[string]Action{"ConfigMap/shared": Skipped, "ConfigMap/only-a": Deleted})
	if want := "owned by Application " + b.String(); !strings.Contains(changes.String()+changes[0].Reason+changes[1].Reason, want) {
		t.Errorf("change set %v does not say %q", changes, want)
	}
	if live(t, ctx, m, Ref(legacy[0])) == nil {
		t.Error("A pruned the object B owns")
	}
}

func TestAnObjectWhoseOwnerIsGoneIsClaimed(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	a := createApplication(t, ctx, ns, "a")
	for _, gone := range []struct{ name string }{{"deleted"}, {"recreated"}} {
		t.Run(gone.name, func(t *testing.T) {
			docs := strings.ReplaceAll(strings.ReplaceAll(sharedConfigMap, "shared", gone.name), "DATA", "x")
			previous := Owner{Namespace: ns, Name: "b", UID: "uid-of-a-deleted-application"}
			if gone.name == "recreated" {
				previous = createApplication(t, ctx, ns, "b")
				previous.UID = "uid-before-it-was-recreated"
			}
			applyAll(t, ctx, m, ns, ownedSet(t, previous, docs))

			claimed := ownedSet(t, a, docs)
			applyAll(t, ctx, m, ns, claimed)

			obj := live(t, ctx, m, Ref(claimed[0]))
			if got := obj.GetAnnotations()[v1alpha1.OwnerUIDAnnotation]; got != string(a.UID) {
				t.Errorf("owner UID = %q, want A's %q", got, a.UID)
			}
		})
	}
}

func TestAnApplicationRecreatedUnderItsNameAdoptsItsObjects(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	now := createApplication(t, ctx, ns, "a")
	predecessor := now
	predecessor.UID = "uid-of-the-deleted-application"
	objs := ownedSet(t, predecessor, strings.ReplaceAll(sharedConfigMap, "DATA", "x"))
	applyAll(t, ctx, m, ns, objs)

	applyAll(t, ctx, m, ns, ownedSet(t, now, strings.ReplaceAll(sharedConfigMap, "DATA", "second")))
	if got := live(t, ctx, m, Ref(objs[0])).GetAnnotations()[v1alpha1.OwnerUIDAnnotation]; got != string(now.UID) {
		t.Errorf("owner UID = %q, want the new Application's %q", got, now.UID)
	}
	changes, err := m.Prune(ctx, now, refs(objs), nil)
	if err != nil {
		t.Fatal(err)
	}

	assertActions(t, changes, map[string]Action{"ConfigMap/shared": Deleted})
}

func TestObjectsAppliedBeforeOwnersWereRecordedDoNotDrift(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	legacy := parse(t, ns, diffBase)
	applyAll(t, ctx, m, ns, legacy)

	objs := ownedSet(t, appIn(ns), diffBase)
	if err := m.Normalize(ctx, objs, ns); err != nil {
		t.Fatal(err)
	}
	drifts, err := m.Drift(ctx, objs)

	if err != nil || len(drifts) != 0 {
		t.Errorf("Drift = %v, %v; want none: the owner annotations are weir's, not Git's", drifts, err)
	}
}

func TestAnObjectPruneLeavesBehindIsFreeForAnotherApplication(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	a, b := createApplication(t, ctx, ns, "a"), createApplication(t, ctx, ns, "b")
	kept := `
apiVersion: v1
kind: ConfigMap
metadata:
  name: shared
  annotations: {weir.dev/prune: disabled}
`
	objs := ownedSet(t, a, kept)
	applyAll(t, ctx, m, ns, objs)
	// A drops it from Git; prune leaves it, and A gives it up.
	changes, err := m.Prune(ctx, a, refs(objs), nil)
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, changes, map[string]Action{"ConfigMap/shared": Skipped})

	applyAll(t, ctx, m, ns, ownedSet(t, b, kept))

	if got := live(t, ctx, m, Ref(objs[0])).GetAnnotations()[v1alpha1.OwnerAnnotation]; got != b.String() {
		t.Errorf("owner = %q, want %s", got, b)
	}
}

// TestAnObjectNowASkipHookStaysInTheClusterAndIsGivenUp: an object a sync
// applied and Git now marks as a Skip hook is neither applied nor pruned,
// as in Argo CD; it leaves the inventory (Plan.Applied), so it is given up
// like any object prune keeps.
func TestAnObjectNowASkipHookStaysInTheClusterAndIsGivenUp(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	a := createApplication(t, ctx, ns, "a")
	objs := ownedSet(t, a, sharedConfigMap)
	applyAll(t, ctx, m, ns, objs)

	skipped := ownedSet(t, a, sharedConfigMap)
	skipped[0].SetAnnotations(map[string]string{"argocd.argoproj.io/hook": "Skip"})
	if err := m.Normalize(ctx, skipped, ns); err != nil {
		t.Fatal(err)
	}
	changes, err := m.Prune(ctx, a, refs(objs), skipped)
	if err != nil {
		t.Fatal(err)
	}

	if want := "ConfigMap " + ns + "/shared skipped: " + skipHookReason; changes.Skips(1) != want {
		t.Errorf("Prune = %v (%q), want %q", changes, changes.Skips(1), want)
	}
	kept := live(t, ctx, m, Ref(objs[0]))
	if kept == nil {
		t.Fatal("the Skip hook was deleted")
	}
	if owner := kept.GetAnnotations()[v1alpha1.OwnerAnnotation]; owner != "" {
		t.Errorf("a Skip hook out of the inventory still names its owner %q", owner)
	}
}
