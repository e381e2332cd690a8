package apply

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// widgetCRD defines Widget in a group of its own per test (CRDs are
// cluster-wide), with a schema that has a required enum, a default and a
// CEL rule.
const widgetCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.NS.example.com
spec:
  group: NS.example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            x-kubernetes-validations:
            - rule: "self.replicas <= 10"
              message: "replicas must be at most 10"
            properties:
              size:
                type: string
                enum: [small, large]
              replicas:
                type: integer
                minimum: 1
                default: 1
`

const widgets = `
apiVersion: NS.example.com/v1
kind: Widget
metadata:
  name: good
spec:
  size: small
`

func TestCRDAndItsCustomResourcesApplyInOnePass(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	t.Cleanup(func() { deleteCRD(t, "widgets."+ns+".example.com") })
	// Out of order on purpose: Stages puts the CRD first.
	objs := parse(t, ns, widgets+"---"+widgetCRD+`---
apiVersion: v1
kind: ConfigMap
metadata:
  name: after-widgets
  annotations:
    weir.dev/sync-wave: "1"
`)

	changes := applyAll(t, ctx, m, ns, objs)

	assertActions(t, changes, map[string]Action{
		"CustomResourceDefinition/widgets." + ns + ".example.com": Created,
		"Widget/good":             Created,
		"ConfigMap/after-widgets": Created,
	})
	widget := live(t, ctx, m, Ref(objs[0]))
	if widget == nil {
		t.Fatal("the Widget was not applied")
	}
	if replicas, _, _ := unstructured.NestedInt64(widget.Object, "spec", "replicas"); replicas != 1 {
		t.Errorf("spec.replicas = %d, want the schema's default 1", replicas)
	}

	// Once served unchanged, the CRD's custom resources are dry-run on the server.
	again := applyAll(t, ctx, m, ns, parse(t, ns, widgets+"---"+widgetCRD))
	if again.Summary() != "2 unchanged" {
		t.Errorf("re-apply: %v", again)
	}
}

func TestValidateChecksCustomResourcesAgainstTheCRDInTheSet(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	crdName := "widgets." + ns + ".example.com"
	t.Cleanup(func() { deleteCRD(t, crdName) })
	objs := parse(t, ns, widgetCRD+"---"+widgets+`---
apiVersion: NS.example.com/v1
kind: Widget
metadata:
  name: huge
spec:
  size: huge
---
apiVersion: NS.example.com/v1
kind: Widget
metadata:
  name: sizeless
spec:
  replicas: 0
  colour: red
---
apiVersion: NS.example.com/v1
kind: Widget
metadata:
  name: many
spec:
  size: large
  replicas: 11
---
apiVersion: NS.example.com/v1
kind: Widget
metadata:
  name: Bad_Name
spec:
  size: large
`)
	if err := m.Normalize(ctx, objs, ns); err != nil {
		t.Fatal(err)
	}

	_, err := m.Validate(ctx, objs)

	var setErr *SetError
	if !errors.As(err, &setErr) || len(setErr.Objects) != 4 {
		t.Fatalf("Validate = %v, want the 4 invalid Widgets named", err)
	}
	group := ns + ".example.com"
	for _, want := range []string{
		group + "/Widget " + ns + `/huge: Widget.` + group + ` "huge" is invalid: spec.size: Unsupported value: "huge": supported values: "small", "large"`,
		group + "/Widget " + ns + "/sizeless: ",
		"spec.size: Required value",
		"spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1",
		"spec.colour: Forbidden: field not declared in schema",
		group + "/Widget " + ns + "/many: ",
		"replicas must be at most 10",
		group + "/Widget " + ns + "/Bad_Name: ",
		"metadata.name: Invalid value: \"Bad_Name\"",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "/good") {
		t.Errorf("the valid Widget is reported: %v", err)
	}
	crd := v1alpha1.ObjectRef{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition", Name: crdName}
	if live(t, ctx, m, crd) != nil {
		t.Error("the CRD was applied although its custom resources are invalid")
	}
}

var deleteOptions = metav1.DeleteOptions{}

func deleteCRD(t *testing.T, name string) {
	m := newManager(t)
	res, err := m.resource(t.Context(), v1alpha1.ObjectRef{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition", Name: name})
	if err == nil {
		_ = res.Delete(t.Context(), name, deleteOptions)
	}
}

func TestValidateUsesTheSetsCRDWhenItChangesTheServedOne(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	t.Cleanup(func() { deleteCRD(t, "widgets."+ns+".example.com") })
	applyAll(t, ctx, m, ns, parse(t, ns, widgetCRD))
	// The next revision adds spec.colour to the schema and uses it at once:
	// the served schema would reject it, the one about to be applied does not.
	withColour := strings.Replace(widgetCRD, "              size:\n", "              colour:\n                type: string\n              size:\n", 1)
	set := withColour + `---
apiVersion: NS.example.com/v1
kind: Widget
metadata:
  name: red
spec:
  size: small
  colour: red
`
	changes := applyAll(t, ctx, m, ns, parse(t, ns, set))
	assertActions(t, changes, map[string]Action{
		"CustomResourceDefinition/widgets." + ns + ".example.com": Configured,
		"Widget/red": Created,
	})
}
