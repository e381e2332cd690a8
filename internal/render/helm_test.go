package render

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

func TestRenderHelm(t *testing.T) {
	tests := []struct {
		name string
		path string
		helm *Helm
		opts Options
		// want lists objectID of the objects, in order.
		want []string
		// golden names testdata/<golden>.golden.yaml, the whole output.
		golden string
		// data holds expected ConfigMap data, by object name and key.
		data map[string]map[string]string
		// waves holds expected sync-wave annotations by object name; ""
		// means none.
		waves   map[string]string
		wantErr string
	}{
		{
			name:   "chart defaults; NOTES.txt and .helmignore'd files left out",
			path:   "web",
			helm:   &Helm{ReleaseName: "shop", Namespace: "prod"},
			golden: "helm-web",
		},
		{
			name: "values files in order, then inline values, over the chart's defaults",
			path: "web",
			helm: &Helm{
				ReleaseName: "shop",
				ValuesFiles: []string{"../values/staging.yaml", "../values/prod.yaml"},
				Values:      map[string]any{"size": "huge", "image": map[string]any{"repository": "mirror.example.com/web"}},
			},
			data: map[string]map[string]string{"shop-web": {
				"region": "eu",                         // chart default
				"color":  "blue",                       // staging.yaml
				"size":   "huge",                       // staging.yaml < prod.yaml < inline
				"image":  "mirror.example.com/web:2.0", // inline repository, staging tag
			}},
		},
		{
			name: "chart in a subdirectory of the path",
			path: ".",
			helm: &Helm{Chart: "web", ReleaseName: "shop", ValuesFiles: []string{"values/prod.yaml"}},
			data: map[string]map[string]string{"shop-web": {"size": "large"}},
		},
		{
			name: "dependency in charts/, with a disabled one left out",
			path: "umbrella",
			helm: &Helm{ReleaseName: "shop"},
			want: []string{"ConfigMap shop-sub", "ConfigMap shop-umbrella"},
			data: map[string]map[string]string{"shop-sub": {"greeting": "hello from the parent"}},
		},
		{
			name: "CRDs first, hooks in waves, test and delete hooks left out",
			path: "crds-hooks",
			helm: &Helm{ReleaseName: "shop"},
			want: []string{
				"CustomResourceDefinition.apiextensions.k8s.io widgets.example.weir.dev",
				"ConfigMap shop-settings",
				"Widget.example.weir.dev shop",
				"ConfigMap shop-migrate",
				"ConfigMap shop-announce",
			},
			// Hooks keep their helm.sh/hook annotations, which order them; render adds no wave.
			waves: map[string]string{"shop-settings": "", "shop": "", "shop-migrate": "", "shop-announce": ""},
		},
		{
			name: "CRDs skipped",
			path: "crds-hooks",
			helm: &Helm{ReleaseName: "shop", SkipCRDs: true},
			want: []string{"ConfigMap shop-settings", "Widget.example.weir.dev shop", "ConfigMap shop-migrate", "ConfigMap shop-announce"},
		},
		{
			name: "capabilities of the target cluster",
			path: "capabilities",
			helm: &Helm{Capabilities: Capabilities{KubeVersion: "v1.37.2", APIVersions: []string{"example.weir.dev/v1", "example.weir.dev/v1/Widget"}}},
			data: map[string]map[string]string{"capabilities": {"kubeVersion": "v1.37.2", "hasWidgets": "true", "hasWidgetKind": "true"}},
		},
		{
			name: "no capabilities given: Helm's defaults",
			path: "capabilities",
			data: map[string]map[string]string{"capabilities": {"hasWidgets": "false"}},
		},
		{
			name:    "chart's kubeVersion not met",
			path:    "kubeversion",
			helm:    &Helm{Capabilities: Capabilities{KubeVersion: "v1.37.2"}},
			wantErr: "render kubeversion: helm: chart requires kubeVersion: >= 1.99.0 which is incompatible with Kubernetes v1.37.2",
		},
		{
			name:    "template error names the template",
			path:    "broken",
			wantErr: "render broken: helm: broken/templates/configmap.yaml:6:19\n  executing \"broken/templates/configmap.yaml\" at <.Values.missing.deeper>:\n    nil pointer",
		},
		{
			name:    "invalid object names the template and the line of its output",
			path:    "invalid-output",
			wantErr: "render invalid-output/templates/configmap.yaml:6: document 2: missing apiVersion",
		},
		{
			name:    "values file outside the checkout",
			path:    "web",
			helm:    &Helm{ValuesFiles: []string{"../../../../../etc/passwd"}},
			wantErr: "render web: valuesFiles[0]: ../../../../etc/passwd: path leads outside the checkout root",
		},
		{
			name:    "absolute values file",
			path:    "web",
			helm:    &Helm{ValuesFiles: []string{"/etc/passwd"}},
			wantErr: "render web: valuesFiles[0]: /etc/passwd: path must be relative",
		},
		{
			name:    "missing values file",
			path:    "web",
			helm:    &Helm{ValuesFiles: []string{"values-prod.yaml"}},
			wantErr: "render web: valuesFiles[0]: web/values-prod.yaml: no such file in the checkout",
		},
		{
			name:    "invalid values file",
			path:    "web",
			helm:    &Helm{ValuesFiles: []string{"templates/_helpers.tpl"}},
			wantErr: "render web: valuesFiles[0]: web/templates/_helpers.tpl: cannot unmarshal yaml document",
		},
		{
			name:    "chart outside the checkout",
			path:    "web",
			helm:    &Helm{Chart: "../.."},
			wantErr: "render ..: path leads outside the checkout root",
		},
		{
			name:    "not a chart",
			path:    "values",
			wantErr: "render values: Chart.yaml file is missing",
		},
		{
			name:    "library chart",
			path:    "library",
			wantErr: "render library: a library chart cannot be rendered on its own",
		},
		{
			name:    "too many objects",
			path:    "many",
			helm:    &Helm{Values: map[string]any{"count": 20}},
			opts:    Options{MaxObjects: 15},
			wantErr: "render many/templates/configmaps.yaml:",
		},
		{
			name:    "too much output",
			path:    "many",
			helm:    &Helm{Values: map[string]any{"padding": 1000}},
			opts:    Options{MaxOutputBytes: 5000},
			wantErr: "render many: helm produced 11200 bytes, more than the 5000 one render may produce",
		},
		{
			name:    "too slow",
			path:    "many",
			helm:    &Helm{Values: map[string]any{"loops": 20_000_000}},
			opts:    Options{Timeout: 50 * time.Millisecond},
			wantErr: "render many: helm: rendering took longer than 50ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join("testdata", "helm")
			opts := tt.opts
			opts.Type, opts.Helm = TypeHelm, tt.helm
			objs, err := Render(t.Context(), root, tt.path, opts)
			if checkRender(t, root, objs, err, tt.want, tt.golden, tt.wantErr) {
				checkData(t, objs, tt.data)
				checkWaves(t, objs, tt.waves)
			}
		})
	}
}

// TestRenderHelmConcurrent renders a chart with different values in
// parallel, as Applications sync; run it with -race.
func TestRenderHelmConcurrent(t *testing.T) {
	results := renderConcurrently(t, 8, func(i int) ([]*unstructured.Unstructured, error) {
		h := &Helm{ReleaseName: "shop", Values: map[string]any{"color": fmt.Sprint("color-", i)}}
		return Render(t.Context(), "testdata/helm", "web", Options{Type: TypeHelm, Helm: h})
	})
	for i, objs := range results {
		checkData(t, objs, map[string]map[string]string{"shop-web": {"color": fmt.Sprint("color-", i)}})
	}
}

func TestRenderHelmValuesUntouched(t *testing.T) {
	inline := map[string]any{"image": map[string]any{"tag": "3.0"}}
	h := &Helm{Values: inline, ValuesFiles: []string{"../values/staging.yaml"}}
	if _, err := Render(t.Context(), "testdata/helm", "web", Options{Type: TypeHelm, Helm: h}); err != nil {
		t.Fatal(err)
	}
	if img := inline["image"].(map[string]any); len(img) != 1 || img["tag"] != "3.0" {
		t.Errorf("the caller's values changed: %v", inline)
	}
}

// TestRenderHelmPackagedDependency renders a chart whose dependency is
// vendored as an archive, as `helm dependency build` leaves it.
func TestRenderHelmPackagedDependency(t *testing.T) {
	root := copyTree(t, "testdata/helm")
	sub := filepath.Join(root, "umbrella", "charts", "sub")
	testenv.PackageChart(t, sub, "", filepath.Dir(sub))
	if err := os.RemoveAll(sub); err != nil {
		t.Fatal(err)
	}
	objs, err := Render(t.Context(), root, "umbrella", Options{Type: TypeHelm, Helm: &Helm{ReleaseName: "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	checkData(t, objs, map[string]map[string]string{"shop-sub": {"greeting": "hello from the parent"}})
}

func TestRenderHelmMissingDependency(t *testing.T) {
	root := copyTree(t, "testdata/helm")
	if err := os.RemoveAll(filepath.Join(root, "umbrella", "charts", "sub")); err != nil {
		t.Fatal(err)
	}
	_, err := Render(t.Context(), root, "umbrella", Options{Type: TypeHelm})
	checkError(t, root, err, "render umbrella: found in Chart.yaml, but missing in charts/ directory: sub: vendor them into charts/ with `helm dependency build`")
}

func TestRenderHelmArchive(t *testing.T) {
	archive := testenv.PackageChart(t, "testdata/helm/web", "", t.TempDir())
	h := &Helm{Archive: archive, ReleaseName: "shop", ValuesFiles: []string{"values/prod.yaml"}}
	objs, err := Render(t.Context(), "testdata/helm", "", Options{Type: TypeHelm, Helm: h})
	if err != nil {
		t.Fatal(err)
	}
	checkData(t, objs, map[string]map[string]string{"shop-web": {"size": "large", "color": "red"}})

	h.Archive = filepath.Join(t.TempDir(), "missing-1.0.0.tgz")
	_, err = Render(t.Context(), "testdata/helm", "", Options{Type: TypeHelm, Helm: h})
	checkError(t, "testdata/helm", err, "render missing-1.0.0.tgz: ")
}

func TestRenderHelmSymlinks(t *testing.T) {
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret.yaml"), "password: hunter2\n")
	tests := []struct {
		name    string
		links   map[string]string // link name -> target
		helm    Helm
		wantErr string
	}{
		{
			name:    "file of the chart",
			links:   map[string]string{"web/files/secret.yaml": filepath.Join(outside, "secret.yaml")},
			wantErr: "render web/files/secret.yaml: symlink points outside the checkout root",
		},
		{
			name:    "directory of the chart",
			links:   map[string]string{"web/templates/more": outside},
			wantErr: "render web/templates/more: symlink points outside the checkout root",
		},
		{
			name:    "values file",
			links:   map[string]string{"values/secret.yaml": filepath.Join(outside, "secret.yaml")},
			helm:    Helm{ValuesFiles: []string{"../values/secret.yaml"}},
			wantErr: "render web: valuesFiles[0]: values/secret.yaml: symlink points outside the checkout root",
		},
		{
			name:    "cycle",
			links:   map[string]string{"web/templates/loop": ".."},
			wantErr: "render web/templates/loop: symlink cycle",
		},
		{
			name:  "inside the checkout",
			links: map[string]string{"web/prod.yaml": "../values/prod.yaml", "web/files": "../values"},
			helm:  Helm{ValuesFiles: []string{"prod.yaml"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := copyTree(t, "testdata/helm")
			for name, target := range tt.links {
				symlink(t, target, filepath.Join(root, name))
			}
			h := tt.helm
			_, err := Render(t.Context(), root, "web", Options{Type: TypeHelm, Helm: &h})
			if tt.wantErr != "" {
				checkError(t, root, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRenderHelmChartTooLarge(t *testing.T) {
	_, err := Render(t.Context(), "testdata/helm", "web", Options{Type: TypeHelm, MaxOutputBytes: 100})
	checkError(t, "testdata/helm", err, "render web: the chart's files are larger than the limit of 100 bytes")
}

func TestAppliedHook(t *testing.T) {
	tests := []struct {
		hook string
		want bool
	}{
		{"pre-install", true},
		{"pre-upgrade", true},
		{"post-install", true},
		{"post-upgrade", true},
		{"pre-install,post-install", true},
		{"pre-delete", false},
		{"post-rollback", false},
		{"test", false},
		{"pre-install,test", false},
	}
	for _, tt := range tests {
		h := &release.Hook{}
		for _, e := range strings.Split(tt.hook, ",") {
			h.Events = append(h.Events, release.HookEvent(e))
		}
		if got := appliedHook(h); got != tt.want {
			t.Errorf("%s: applied %v, want %v", tt.hook, got, tt.want)
		}
	}
}

func TestSplitManifest(t *testing.T) {
	manifest := "---\n# Source: web/templates/a.yaml\nkind: A\n\n---\n# Source: web/templates/a.yaml\nkind: A2\n\n" +
		"---\n# Source: web/templates/b.yaml\nkind: B\n---\nkind: B2\n\n---\n# Source: web/templates/a.yaml\nkind: A3\n"
	got := splitManifest(manifest)
	want := []template{
		{source: "web/templates/a.yaml", text: "kind: A\n---\nkind: A2\n"},
		{source: "web/templates/b.yaml", text: "kind: B\n---\nkind: B2\n"},
		{source: "web/templates/a.yaml", text: "kind: A3\n"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func checkData(t *testing.T, objs []*unstructured.Unstructured, want map[string]map[string]string) {
	t.Helper()
	for name, keys := range want {
		obj := findObject(t, objs, "ConfigMap", name)
		for key, value := range keys {
			if got, _, _ := unstructured.NestedString(obj.Object, "data", key); got != value {
				t.Errorf("ConfigMap %s data.%s = %q, want %q", name, key, got, value)
			}
		}
	}
}

func checkWaves(t *testing.T, objs []*unstructured.Unstructured, want map[string]string) {
	t.Helper()
	for _, obj := range objs {
		w, ok := want[obj.GetName()]
		if got := obj.GetAnnotations()[v1alpha1.SyncWaveAnnotation]; ok && got != w {
			t.Errorf("%s: sync wave %q, want %q", objectID(obj), got, w)
		}
	}
}

func findObject(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, obj := range objs {
		if obj.GetKind() == kind && obj.GetName() == name {
			return obj
		}
	}
	t.Fatalf("no %s %s among %q", kind, name, ids(objs))
	return nil
}
