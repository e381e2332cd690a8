package apply

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
	"sigs.k8s.io/yaml"
)

func TestAfterTakeOverRemovesOnlyWhatTheTakenManagersAloneOwn(t *testing.T) {
	live := readYAML(t, `
metadata:
  managedFields:
  - manager: kubectl-client-side-apply
    operation: Update
    apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1: {"f:metadata":{"f:labels":{"f:team":{},"f:tier":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:env":{"k:{\"name\":\"DEBUG\"}":{".":{},"f:name":{},"f:value":{}},"k:{\"name\":\"MODE\"}":{".":{},"f:name":{},"f:value":{}}},"f:name":{}}}}}}}
`)
	applied := readYAML(t, `
metadata:
  labels: {team: shop, tier: web}
  managedFields:
  - manager: weir
    operation: Apply
    apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1: {"f:metadata":{"f:labels":{"f:team":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:env":{"k:{\"name\":\"MODE\"}":{".":{},"f:name":{},"f:value":{}}},"f:name":{}}}}}}}
  - manager: kubectl-client-side-apply
    operation: Update
    apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1: {"f:metadata":{"f:labels":{"f:tier":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{"f:env":{"k:{\"name\":\"DEBUG\"}":{".":{},"f:name":{},"f:value":{}}}}}}}}}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - {name: DEBUG, value: "1"}
        - {name: MODE, value: safe}
`)
	if err := afterTakeOver(live, applied, DefaultTakeOverManagers); err != nil {
		t.Fatal(err)
	}
	want := readYAML(t, `
metadata:
  labels: {team: shop}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - {name: MODE, value: safe}
`)
	for what, pair := range map[string][2]any{
		"labels": {applied.GetLabels(), want.GetLabels()},
		"spec":   {applied.Object["spec"], want.Object["spec"]},
	} {
		got, _ := yaml.Marshal(pair[0])
		w, _ := yaml.Marshal(pair[1])
		if string(got) != string(w) {
			t.Errorf("%s\n%s\nwant\n%s", what, got, w)
		}
	}
}

func TestRemoveAt(t *testing.T) {
	obj := readYAML(t, `
spec:
  ports: [{port: 80, protocol: TCP}, {port: 443, protocol: TCP}]
  finalizers: [a, b]
  args: [x, y]
`)
	for _, p := range []fieldpath.Path{
		fieldpath.MakePathOrDie("spec", "ports", fieldpath.KeyByFields("port", 443, "protocol", "TCP")),
		fieldpath.MakePathOrDie("spec", "finalizers", value.NewValueInterface("a")),
		fieldpath.MakePathOrDie("spec", "args", 1),
		fieldpath.MakePathOrDie("spec", "missing", "deeper"),
	} {
		obj.Object = removeAt(obj.Object, p).(map[string]any)
	}
	got, _ := yaml.Marshal(obj.Object)
	want := "apiVersion: v1\nkind: Test\nspec:\n  args:\n  - x\n  finalizers:\n  - b\n  ports:\n  - port: 80\n    protocol: TCP\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func readYAML(t *testing.T, text string) *unstructured.Unstructured {
	t.Helper()
	data, err := yaml.YAMLToJSON([]byte("apiVersion: v1\nkind: Test\n" + text))
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil { // integers as int64, as the API gives them
		t.Fatal(err)
	}
	return obj
}
