package apply

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// TestDriftNamesFieldsAndManagers applies a set, changes it the ways users
// do (scale, edit, strip a label, delete) and checks what Drift reports.
func TestDriftNamesFieldsAndManagers(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	objs := parse(t, ns, diffBase)
	applyAll(t, ctx, m, ns, objs)
	deploy, secret, service := Ref(objs[0]), Ref(objs[1]), Ref(objs[2])

	if drifts, err := m.Drift(ctx, objs); err != nil || len(drifts) != 0 {
		t.Fatalf("right after apply (server defaults included), Drift = %v, %v; want none", drifts, err)
	}

	edit := func(ref v1alpha1.ObjectRef, manager string, patchType types.PatchType, body string, subresources ...string) {
		t.Helper()
		res, err := m.resource(ctx, ref)
		if err == nil {
			_, err = res.Patch(ctx, ref.Name, patchType, []byte(body), metav1.PatchOptions{FieldManager: manager}, subresources...)
		}
		if err != nil {
			t.Fatalf("%s edits %s: %v", manager, ref, err)
		}
	}
	edit(deploy, "kubectl", types.MergePatchType, `{"spec":{"replicas":5}}`, "scale")
	edit(deploy, "kubectl-edit", types.JSONPatchType, `[{"op":"remove","path":"/metadata/labels"}]`)
	edit(secret, "kubectl-edit", types.MergePatchType, `{"stringData":{"password":"intruder-value"}}`)
	res, err := m.resource(ctx, service)
	if err == nil {
		err = res.Delete(ctx, service.Name, metav1.DeleteOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}

	drifts, err := m.Drift(ctx, objs)
	if err != nil {
		t.Fatal(err)
	}
	// Removing a field leaves no trace in managedFields: the report names
	// the last other writer of the Deployment instead.
	want := []ObjectDrift{
		{Object: deploy, Fields: []string{`.metadata.labels.weir.dev/managed-by`, `.spec.replicas`}, Managers: []string{"kubectl (scale)"}},
		{Object: secret, Fields: []string{`.data.password`}, Managers: []string{"kubectl-edit"}},
		{Object: service, Deleted: true},
	}
	for i := range drifts {
		drifts[i].run = nil // the dry run kept for a heal
	}
	if !reflect.DeepEqual(drifts, want) {
		t.Errorf("Drift =\n%+v\nwant\n%+v", drifts, want)
	}
	if printed := fmt.Sprintf("%+v", drifts); strings.Contains(printed, "intruder") || strings.Contains(printed, "aW50cnVkZX") {
		t.Errorf("drift report reveals a Secret value: %s", printed)
	}
}

// TestAHealReadsNoDriftedObjectTwice: re-applying what Drift found with
// DryRunsOf costs a read and a dry run per object checked and an apply per
// drifted one, no read of its own; an object another Application's
// annotations claim is read again, for its owner to be checked.
func TestAHealReadsNoDriftedObjectTwice(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	cfg := testenv.Config(t)
	requests := logRequests(cfg, ns)
	m, err := NewManager(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	objs := parse(t, ns, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {v: '1'}\n---\n"+
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {v: '1'}\n---\n"+
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {v: '1'}\n---\n"+
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: {v: '1'}\n")
	SetOwner(objs, Owner{Namespace: ns, Name: "web", UID: "uid-web"})
	applyAll(t, ctx, m, ns, objs)
	res, err := m.resource(ctx, Ref(objs[0]))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(name, body string) {
		t.Helper()
		if _, err := res.Patch(ctx, name, types.MergePatchType, []byte(body), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}
	}
	edit("b", `{"data":{"v":"2"}}`)
	edit("d", `{"data":{"v":"2"},"metadata":{"annotations":{"`+v1alpha1.OwnerAnnotation+`":"`+ns+`/gone"}}}`)
	if err := res.Delete(ctx, "c", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	requests.take() // what setting up sent
	found, err := m.Drift(ctx, objs)
	if err != nil {
		t.Fatal(err)
	}
	var drifted []*unstructured.Unstructured
	for _, d := range found {
		drifted = append(drifted, objs[slices.IndexFunc(objs, func(obj *unstructured.Unstructured) bool { return Ref(obj) == d.Object })])
	}
	changes, err := m.Apply(ctx, drifted, DryRunsOf(found))
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, changes, map[string]Action{"ConfigMap/b": Configured, "ConfigMap/c": Created, "ConfigMap/d": Configured})
	sent := requests.take()
	want := []string{"GET a", "GET b", "GET c", "GET d", "GET d", "GET gone", "PATCH b", "PATCH c", "PATCH d",
		"dry-run PATCH a", "dry-run PATCH b", "dry-run PATCH c", "dry-run PATCH d"}
	if !slices.Equal(sent, want) {
		t.Errorf("checking and healing sent %v, want %v: a read and a dry run of each, an apply of each drifted one, "+
			"and a second read of d alone, which names another owner (gone)", sent, want)
	}
}

// TestADriftCheckReadsAndDryRunsAtOnce: the read of the live object is
// held until its dry run arrives, which it does only when both are sent
// at once, so that a check, which a heal waits on, costs one round trip.
func TestADriftCheckReadsAndDryRunsAtOnce(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	objs := parse(t, ns, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {v: '1'}\n")
	applyAll(t, ctx, newManager(t), ns, objs)

	cfg := testenv.Config(t)
	dryRun := make(chan struct{})
	var once sync.Once
	var held atomic.Bool
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			switch {
			case req.Method == http.MethodPatch && req.URL.Query().Get("dryRun") != "":
				once.Do(func() { close(dryRun) })
			case req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/namespaces/"+ns+"/configmaps/a"):
				select {
				case <-dryRun:
				case <-time.After(5 * time.Second):
					held.Store(true)
				}
			}
			return rt.RoundTrip(req)
		})
	})
	m, err := NewManager(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if found, err := m.Drift(ctx, objs); err != nil || len(found) != 0 {
		t.Fatalf("Drift = %v, %v; want none", found, err)
	}
	if held.Load() {
		t.Error("the read of ConfigMap a waited 5s for its dry run: the check sent one after the other")
	}
}
