package apply

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	if !reflect.DeepEqual(drifts, want) {
		t.Errorf("Drift =\n%+v\nwant\n%+v", drifts, want)
	}
	if printed := fmt.Sprintf("%+v", drifts); strings.Contains(printed, "intruder") || strings.Contains(printed, "aW50cnVkZX") {
		t.Errorf("drift report reveals a Secret value: %s", printed)
	}
}
