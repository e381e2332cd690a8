package apply

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestOwnedFieldsChanged(t *testing.T) {
	const image = `{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`
	const imageAndReplicas = `{"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`
	deploy := func(img string, replicas int64, revision string, fields string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{
				"name":        "web",
				"annotations": map[string]any{"deployment.kubernetes.io/revision": revision},
				"managedFields": []any{
					map[string]any{"manager": "weir", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": mustJSON(fields)},
					map[string]any{"manager": "kube-controller-manager", "operation": "Update", "fieldsType": "FieldsV1",
						"fieldsV1": mustJSON(`{"f:metadata":{"f:annotations":{"f:deployment.kubernetes.io/revision":{}}}}`)},
				},
			},
			"spec": map[string]any{"replicas": replicas, "template": map[string]any{"spec": map[string]any{
				"containers": []any{
					map[string]any{"name": "sidecar", "image": "proxy:1"},
					map[string]any{"name": "web", "image": img},
				},
			}}},
		}}
	}
	before := deploy("web:1", 1, "1", image)
	tests := []struct {
		name  string
		after *unstructured.Unstructured
		want  bool
	}{
		{"only another manager's field changed", deploy("web:1", 1, "2", image), false},
		{"a field weir does not own changed", deploy("web:1", 5, "1", image), false},
		{"the image weir owns changed", deploy("web:2", 1, "1", image), true},
		{"weir took a field over with its value unchanged", deploy("web:1", 1, "1", imageAndReplicas), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ownedFieldsChanged(before, tt.after, "weir")
			if err != nil || got != tt.want {
				t.Errorf("ownedFieldsChanged = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func mustJSON(s string) map[string]any {
	var fields map[string]any
	if err := json.Unmarshal([]byte(s), &fields); err != nil {
		panic(err)
	}
	return fields
}
