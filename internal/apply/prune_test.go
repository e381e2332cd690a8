package apply

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

const pruneSet = `
apiVersion: v1
kind: ConfigMap
metadata: {name: kept}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: left-git}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: protected
  annotations: {weir.dev/prune: disabled}
`

func TestPruneDeletesOnlyInventoryObjectsThatLeftGit(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	applied := parse(t, ns, pruneSet)
	applyAll(t, ctx, m, ns, applied)
	// Someone else created this one; it got into the inventory by mistake.
	foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "foreign", Namespace: ns}}
	if err := testenv.Client(t).Create(ctx, foreign, &client.CreateOptions{FieldManager: "kubectl-create"}); err != nil {
		t.Fatal(err)
	}
	// Not in the inventory: never touched, even though it is not desired.
	bystander := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "bystander", Namespace: ns}}
	if err := testenv.Client(t).Create(ctx, bystander); err != nil {
		t.Fatal(err)
	}
	gone := v1alpha1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "gone-already"}
	previous := append(refs(applied), configMapRef(ns, "foreign"), gone)
	desired := applied[:1]

	changes, err := m.Prune(ctx, appIn(ns), previous, desired)
	if err != nil {
		t.Fatal(err)
	}

	assertActions(t, changes, map[string]Action{
		"ConfigMap/left-git":     Deleted,
		"ConfigMap/protected":    Skipped,
		"ConfigMap/foreign":      Skipped,
		"ConfigMap/gone-already": Skipped,
	})
	reasons := map[string]string{}
	for _, c := range changes {
		reasons[c.Object.Name] = c.Reason
	}
	for name, want := range map[string]string{
		"protected":    "prune disabled by annotation weir.dev/prune: disabled",
		"foreign":      `not managed by "weir"`,
		"gone-already": "already gone",
	} {
		if !strings.Contains(reasons[name], want) {
			t.Errorf("%s skipped because %q, want %q", name, reasons[name], want)
		}
	}
	for name, exists := range map[string]bool{"kept": true, "left-git": false, "protected": true, "foreign": true, "bystander": true} {
		if got := live(t, ctx, m, configMapRef(ns, name)) != nil; got != exists {
			t.Errorf("ConfigMap %s exists = %v, want %v", name, got, exists)
		}
	}
	if got := changes.Summary(); got != "1 deleted, 3 skipped" {
		t.Errorf("Summary() = %q", got)
	}
}

func TestPruneSkipsObjectsAnotherManagerTookOver(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	applied := parse(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: adopted}
data: {owner: weir}
`)
	applyAll(t, ctx, m, ns, applied)
	// Another tool applies every field weir owned, forcing: weir's entry
	// leaves managedFields.
	other, err := NewManager(testenv.Config(t), Options{FieldManager: "helm"})
	if err != nil {
		t.Fatal(err)
	}
	takeover := parse(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: adopted}
data: {owner: helm}
`)
	applyAll(t, ctx, other, ns, takeover)
	if managedBy(live(t, ctx, m, Ref(applied[0])), "weir") {
		t.Fatal("weir still manages the ConfigMap after helm took it over")
	}

	changes, err := m.Prune(ctx, appIn(ns), refs(applied), nil)
	if err != nil {
		t.Fatal(err)
	}

	assertActions(t, changes, map[string]Action{"ConfigMap/adopted": Skipped})
	if live(t, ctx, m, Ref(applied[0])) == nil {
		t.Error("pruned an object another manager took over")
	}
}

func TestPruneDeletesANamespaceOnlyWhenNothingElseLivesInIt(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	appNS := ns + "-app"
	t.Cleanup(func() { deleteNamespace(t, appNS) })
	applied := parse(t, ns, `
apiVersion: v1
kind: Namespace
metadata: {name: NS-app}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: NS-app}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: NS-app}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example/web:1
`)
	applyAll(t, ctx, m, ns, applied)
	precious := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "precious", Namespace: appNS}}
	if err := testenv.Client(t).Create(ctx, precious); err != nil {
		t.Fatal(err)
	}

	changes, err := m.Prune(ctx, appIn(ns), refs(applied), nil)
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, changes, map[string]Action{
		"ConfigMap/settings": Deleted,
		"Deployment/web":     Deleted,
		"Namespace/" + appNS: Skipped,
	})
	if reason := changes[2].Reason; !strings.Contains(reason, "1 object(s)") || !strings.Contains(reason, "Secret/precious") {
		t.Errorf("namespace skipped because %q, want the Secret named", reason)
	}

	if err := testenv.Client(t).Delete(ctx, precious); err != nil {
		t.Fatal(err)
	}
	changes, err = m.Prune(ctx, appIn(ns), refs(applied[:1]), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The Deployment's ReplicaSet and pods may still be there: dependents
	// go with their owners, so they do not keep the namespace.
	assertActions(t, changes, map[string]Action{"Namespace/" + appNS: Deleted})
}

func configMapRef(ns, name string) v1alpha1.ObjectRef {
	return v1alpha1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: name}
}

func TestPruneKeepsACRDWhileCustomResourcesOfItsKindExist(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	crdName := "widgets." + ns + ".example.com"
	t.Cleanup(func() { deleteCRD(t, crdName) })
	applied := parse(t, ns, widgetCRD+"---"+widgets)
	applyAll(t, ctx, m, ns, applied)
	// Someone else's Widget, in another namespace: not in the inventory.
	other := parse(t, ns, widgets)[0]
	other.SetNamespace("default")
	other.SetName("theirs-" + ns)
	applyAll(t, ctx, newManager(t), "default", []*unstructured.Unstructured{other})

	// The CRD and the Application's own Widget leave Git.
	changes, err := m.Prune(ctx, appIn(ns), refs(applied), nil)
	if err != nil {
		t.Fatal(err)
	}

	assertActions(t, changes, map[string]Action{"Widget/good": Deleted, "CustomResourceDefinition/" + crdName: Skipped})
	reason := changes[1].Reason
	for _, want := range []string{"default/theirs-" + ns, "every namespace", v1alpha1.PruneCRDWithInstancesAnnotation} {
		if !strings.Contains(reason, want) {
			t.Errorf("CRD skipped because %q, want it to say %q", reason, want)
		}
	}
	if live(t, ctx, m, Ref(other)) == nil {
		t.Fatal("the other Widget is gone")
	}

	// Annotated, the CRD goes, and its custom resources with it.
	crd := parse(t, ns, widgetCRD)
	crd[0].SetAnnotations(map[string]string{v1alpha1.PruneCRDWithInstancesAnnotation: "true"})
	applyAll(t, ctx, m, ns, crd)
	changes, err = m.Prune(ctx, appIn(ns), refs(crd), nil)
	if err != nil {
		t.Fatal(err)
	}
	assertActions(t, changes, map[string]Action{"CustomResourceDefinition/" + crdName: Deleted})
}
