package charts

import (
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"weir.dev/weir/internal/render"
	"weir.dev/weir/internal/version"
)

// renderChart renders charts/weir as `helm template weir charts/weir -n
// weir-system --set ...` does, with values over the defaults.
func renderChart(t *testing.T, values map[string]any) map[string]*unstructured.Unstructured {
	t.Helper()
	objs, err := render.Render(t.Context(), "..", "charts/weir", render.Options{Type: render.TypeHelm, Helm: &render.Helm{
		ReleaseName: "weir", Namespace: "weir-system", Values: values,
	}})
	if err != nil {
		t.Fatalf("render charts/weir: %v", err)
	}
	return byID(objs)
}

// TestChartInstallsWhatConfigDefaultInstalls renders the chart at its
// default values and config/default, and finds the same objects, but for
// the Namespace, which Helm creates (--create-namespace) rather than a
// chart.
func TestChartInstallsWhatConfigDefaultInstalls(t *testing.T) {
	chart := renderChart(t, nil)
	objs, err := render.Render(t.Context(), "..", "config/default", render.Options{Type: render.TypeKustomize})
	if err != nil {
		t.Fatalf("kustomize build config/default: %v", err)
	}
	kustomize := byID(objs)
	delete(kustomize, "v1/Namespace//weir-system")
	for id, want := range kustomize {
		got, ok := chart[id]
		if !ok {
			t.Errorf("the chart has no %s", id)
			continue
		}
		if diff := yamlDiff(t, want, got); diff != "" {
			t.Errorf("%s differs (- config/default, + chart):\n%s", id, diff)
		}
	}
	for id := range chart {
		if _, ok := kustomize[id]; !ok {
			t.Errorf("config/default has no %s", id)
		}
	}
}

// TestChartVersionIsWeirs: the chart installs the image of weir's version.
func TestChartVersionIsWeirs(t *testing.T) {
	d := renderChart(t, nil)["apps/v1/Deployment/weir-system/weir-controller"]
	image, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if got, want := image[0].(map[string]any)["image"], "ghcr.io/weir-dev/weir:"+version.Version; got != want {
		t.Errorf("the chart runs %v, want %s", got, want)
	}
}

// TestChartValues: each value changes what it says and nothing else.
func TestChartValues(t *testing.T) {
	rule := map[string]any{"apiGroups": []any{""}, "resources": []any{"namespaces"}, "verbs": []any{"get", "create"}}
	tests := []struct {
		name   string
		values map[string]any
		id     string
		field  []string
		want   any
	}{
		{"replicas", map[string]any{"replicas": int64(3)}, deployment, []string{"spec", "replicas"}, int64(3)},
		{"image", map[string]any{"image": map[string]any{"repository": "registry.local/weir", "tag": "dev", "pullPolicy": "Always"}},
			deployment, []string{"spec", "template", "spec", "containers", "0"}, map[string]any{"image": "registry.local/weir:dev", "imagePullPolicy": "Always"}},
		{"resources", map[string]any{"resources": map[string]any{"limits": map[string]any{"memory": "2Gi"}}},
			deployment, []string{"spec", "template", "spec", "containers", "0", "resources", "limits", "memory"}, "2Gi"},
		{"webhook service", map[string]any{"webhook": map[string]any{"service": map[string]any{"type": "LoadBalancer", "port": int64(8443)}}},
			"v1/Service/weir-system/weir-webhook", []string{"spec"}, map[string]any{"type": "LoadBalancer", "ports": []any{map[string]any{"name": "http-webhook", "port": int64(8443), "targetPort": "http-webhook"}}}},
		{"default ServiceAccount", map[string]any{"defaultServiceAccount": "weir-apps"},
			deployment, []string{"spec", "template", "spec", "containers", "0", "args"}, "--default-service-account=weir-apps"},
		{"extra args", map[string]any{"extraArgs": []any{"--concurrency=8"}},
			deployment, []string{"spec", "template", "spec", "containers", "0", "args"}, "--concurrency=8"},
		{"extra apply rules", map[string]any{"rbac": map[string]any{"extraApplyRules": []any{rule}}},
			"rbac.authorization.k8s.io/v1/ClusterRole//weir-apply-extra", []string{"rules"}, []any{rule}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, ok := renderChart(t, tt.values)[tt.id]
			if !ok {
				t.Fatalf("no %s", tt.id)
			}
			checkField(t, obj.Object, tt.field, tt.want)
		})
	}
}

// deployment is the ID of weir's Deployment.
const deployment = "apps/v1/Deployment/weir-system/weir-controller"

// checkField finds want at path in obj: an element of a list, the fields
// of a map it lists, or the value itself.
func checkField(t *testing.T, obj any, path []string, want any) {
	t.Helper()
	for _, p := range path {
		switch o := obj.(type) {
		case map[string]any:
			obj = o[p]
		case []any:
			obj = o[0]
		}
	}
	switch w := want.(type) {
	case string:
		if list, ok := obj.([]any); ok {
			for _, v := range list {
				if v == w {
					return
				}
			}
			t.Errorf("%s is %v, without %q", strings.Join(path, "."), obj, w)
			return
		}
	case map[string]any:
		got, _ := obj.(map[string]any)
		for k, v := range w {
			checkField(t, got, []string{k}, v)
		}
		return
	}
	if yamlOf(t, obj) != yamlOf(t, want) {
		t.Errorf("%s is %v, want %v", strings.Join(path, "."), obj, want)
	}
}

// byID indexes objects by apiVersion/kind/namespace/name.
func byID(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	m := make(map[string]*unstructured.Unstructured, len(objs))
	for _, o := range objs {
		m[o.GetAPIVersion()+"/"+o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()] = o
	}
	return m
}

func yamlDiff(t *testing.T, a, b *unstructured.Unstructured) string {
	t.Helper()
	want, got := yamlOf(t, a.Object), yamlOf(t, b.Object)
	if want == got {
		return ""
	}
	diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(want), B: difflib.SplitLines(got), Context: 3,
	})
	return diff
}

func yamlOf(t *testing.T, v any) string {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestChartUIIsConfigUI: with ui.enabled the chart adds what config/ui
// adds to config/default, the same objects, so the UI runs weir's version
// as the controller does.
func TestChartUIIsConfigUI(t *testing.T) {
	without, with := renderChart(t, nil), renderChart(t, map[string]any{"ui": map[string]any{"enabled": true}})
	defaults, err := render.Render(t.Context(), "..", "config/default", render.Options{Type: render.TypeKustomize})
	if err != nil {
		t.Fatalf("kustomize build config/default: %v", err)
	}
	withUI, err := render.Render(t.Context(), "..", "config/ui", render.Options{Type: render.TypeKustomize})
	if err != nil {
		t.Fatalf("kustomize build config/ui: %v", err)
	}
	kustomize := byID(withUI)
	for id := range byID(defaults) {
		delete(kustomize, id)
	}
	for id := range without {
		delete(with, id)
	}
	if len(kustomize) != 4 {
		t.Errorf("config/ui adds %d objects to config/default, want the UI's ServiceAccount, Deployment, Service and ClusterRole", len(kustomize))
	}
	for id, want := range kustomize {
		got, ok := with[id]
		if !ok {
			t.Errorf("the chart with ui.enabled has no %s", id)
			continue
		}
		if diff := yamlDiff(t, want, got); diff != "" {
			t.Errorf("%s differs (- config/ui, + chart):\n%s", id, diff)
		}
	}
	for id := range with {
		if _, ok := kustomize[id]; !ok {
			t.Errorf("config/ui has no %s", id)
		}
	}
}
