package apply

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

const invalidAmongValid = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: production
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: Not_A_Valid_Name
        image: registry.example/web:1
---
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: api}
  ports:
  - port: 70000
---
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    weir.dev/sync-wave: "1"
spec:
  selector: {app: web}
  ports:
  - port: 80
`

func TestValidateNamesEveryInvalidObjectAndAppliesNothing(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	objs := parse(t, ns, invalidAmongValid)
	if err := m.Normalize(ctx, objs, ns); err != nil {
		t.Fatal(err)
	}

	_, err := m.Validate(ctx, objs)

	var setErr *SetError
	if !errors.As(err, &setErr) {
		t.Fatalf("Validate = %v, want a *SetError", err)
	}
	if len(setErr.Objects) != 2 || setErr.Total != 4 {
		t.Errorf("SetError names %d of %d objects, want 2 of 4:\n%v", len(setErr.Objects), setErr.Total, err)
	}
	for _, want := range []string{
		"validate: 2 of 4 objects failed",
		"apps/Deployment " + ns + "/web: Deployment.apps \"web\" is invalid: spec.template.spec.containers[0].name",
		"Service " + ns + "/api: Service \"api\" is invalid: [spec.ports[0].port: Invalid value: 70000",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
	if !apierrors.IsInvalid(setErr.Objects[0]) {
		t.Errorf("the API server's error is not kept: %#v", setErr.Objects[0].Err)
	}
	assertNamespaceEmpty(t, ns)
}

func TestValidateDryRunsObjectsInANamespaceTheSetCreates(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	newNS := ns + "-new"
	t.Cleanup(func() { deleteNamespace(t, newNS) })
	set := `
apiVersion: v1
kind: Namespace
metadata:
  name: NS-new
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: NS-new
data:
  mode: production
`
	invalid := set + `---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: NS-new
spec:
  ports:
  - port: 70000
`
	objs := parse(t, ns, invalid)
	if err := m.Normalize(ctx, objs, ns); err != nil {
		t.Fatal(err)
	}
	_, err := m.Validate(ctx, objs)
	if err == nil || !strings.Contains(err.Error(), "Service "+newNS+"/api") || !strings.Contains(err.Error(), "spec.ports[0].port") {
		t.Fatalf("Validate = %v, want the invalid Service in the new namespace named", err)
	}
	if strings.Contains(err.Error(), "ConfigMap") || strings.Contains(err.Error(), "Namespace "+newNS) {
		t.Errorf("valid objects reported invalid: %v", err)
	}
	if live(t, ctx, m, v1alpha1.ObjectRef{Version: "v1", Kind: "Namespace", Name: newNS}) != nil {
		t.Fatal("Validate created the namespace")
	}

	changes := applyAll(t, ctx, m, ns, parse(t, ns, set))
	assertActions(t, changes, map[string]Action{"Namespace/" + newNS: Created, "ConfigMap/settings": Created})
}

func TestValidateRejectsKindsNobodyServes(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	objs := parse(t, ns, `
apiVersion: example.com/v1
kind: Gadget
metadata:
  name: g
  namespace: NS
`)
	err := m.Normalize(ctx, objs, ns)
	if err == nil || !strings.Contains(err.Error(), "example.com/Gadget "+ns+"/g: the cluster does not serve example.com/v1, Kind=Gadget") {
		t.Errorf("Normalize = %v, want the unknown kind named", err)
	}
	_, err = m.Validate(ctx, objs)
	if err == nil || !strings.Contains(err.Error(), "example.com/Gadget "+ns+"/g") {
		t.Errorf("Validate = %v, want the unknown kind named", err)
	}
}

// assertNamespaceEmpty fails unless ns holds nothing but what Kubernetes
// puts in every namespace.
func assertNamespaceEmpty(t *testing.T, ns string) {
	t.Helper()
	c := testenv.Client(t)
	ctx := ctxFor(t)
	lists := map[string]client.ObjectList{
		"ConfigMaps":  &corev1.ConfigMapList{},
		"Services":    &corev1.ServiceList{},
		"Deployments": &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DeploymentList"}},
	}
	for what, list := range lists {
		if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		var names []string
		items, _ := meta.ExtractList(list)
		for _, item := range items {
			if name := item.(client.Object).GetName(); name != "kube-root-ca.crt" {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			t.Errorf("%s exist after a failed validation: %v", what, names)
		}
	}
}

func deleteNamespace(t *testing.T, name string) {
	c := testenv.Client(t)
	_ = c.Delete(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
}
