package e2e

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.e2e.weir.dev
spec:
  group: e2e.weir.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
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
            properties:
              size: {type: integer, minimum: 1}
`

func TestACRDAndItsCustomResourceSyncInOnePass(t *testing.T) {
	s := given(t, map[string]string{
		"crd.yaml":    widgetCRD,
		"widget.yaml": "apiVersion: e2e.weir.dev/v1\nkind: Widget\nmetadata:\n  name: sprocket\nspec:\n  size: 3\n",
	})
	s.whenApplication(nil)
	app := s.thenApplied(s.repo.Head())
	if len(app.Status.History) != 1 {
		t.Errorf("took %d syncs, want one pass: %+v", len(app.Status.History), app.Status.History)
	}
	widget := &unstructured.Unstructured{}
	widget.SetGroupVersionKind(schema.GroupVersionKind{Group: "e2e.weir.dev", Version: "v1", Kind: "Widget"})
	s.get(widget, "sprocket")
	if size, _, _ := unstructured.NestedInt64(widget.Object, "spec", "size"); size != 3 {
		t.Errorf("widget size = %d, want 3", size)
	}
}
