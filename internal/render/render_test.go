package render

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestRender(t *testing.T) {
	tests := []struct {
		name string
		// root is the checkout, below testdata.
		root string
		path string
		opts Options
		// want lists objectID of the objects, in order.
		want []string
		// golden names testdata/<golden>.golden.yaml, the whole output.
		golden string
		// wantErr is a substring of the error.
		wantErr string
	}{
		{
			name: "plain directory",
			root: "plain-dir",
			want: []string{"ConfigMap shop/settings", "Deployment.apps shop/web", "Service shop/web"},
		},
		{
			name: "nested directories in path order, hidden and kustomization files skipped",
			root: "nested",
			path: ".",
			want: []string{"Namespace shop", "ConfigMap shop/d", "ConfigMap shop/b", "Secret shop/c", "ServiceAccount shop/z"},
		},
		{
			name: "subdirectory",
			root: "nested",
			path: "sub/deeper",
			want: []string{"Secret shop/c"},
		},
		{
			name:   "multi-document file with empty and comment-only documents",
			root:   "multidoc",
			golden: "multidoc",
		},
		{
			name: "List and ConfigMapList expanded",
			root: "list",
			want: []string{"ConfigMap shop/one", "ConfigMap shop/two", "ConfigMap shop/three"},
		},
		{
			name: "JSON object and stream",
			root: "json",
			want: []string{"Namespace shop", "ConfigMap shop/a", "ConfigMap shop/b", "ConfigMap shop/c"},
		},
		{
			name:   "kustomize overlay with namePrefix, patches and configMapGenerator",
			root:   "kustomize",
			path:   "overlays/prod",
			opts:   Options{Type: TypeKustomize},
			golden: "kustomize-overlay",
		},
		{
			name:   "auto-detects kustomize",
			root:   "kustomize",
			path:   "overlays/prod",
			golden: "kustomize-overlay",
		},
		{
			name: "auto-detects kustomize in base",
			root: "kustomize",
			path: "base/",
			want: []string{"ConfigMap web-config-dfhbfk66mc", "Service web", "Deployment.apps web"},
		},
		{
			name: "plain type ignores the kustomization",
			root: "kustomize",
			path: "base",
			opts: Options{Type: TypePlain},
			want: []string{"Deployment.apps web", "Service web"},
		},
		{
			name:    "invalid YAML names file and line",
			root:    "invalid-yaml",
			wantErr: "render web.yaml:12: mapping values are not allowed in this context",
		},
		{
			name:    "invalid JSON names file and line",
			root:    "invalid-json",
			wantErr: "render cm.json:3: invalid character ','",
		},
		{
			name:    "missing kind",
			root:    "missing-kind",
			wantErr: "render objects.yaml:6: document 2: missing kind",
		},
		{
			name:    "missing name",
			root:    "missing-name",
			wantErr: "render objects.yaml:1: document 1: ConfigMap: missing metadata.name",
		},
		{
			name:    "generateName without a name names the file and the reason",
			root:    "generate-name",
			wantErr: `render jobs.yaml:8: document 2: Job: metadata.generateName "migrate-" without metadata.name is not supported`,
		},
		{
			name:    "only Jsonnet: empty, naming the files skipped",
			root:    "empty",
			path:    "jsonnet",
			wantErr: "render jsonnet: no objects to apply: jsonnet/app.libsonnet skipped: Jsonnet is not supported; jsonnet/main.jsonnet skipped: Jsonnet is not supported; set spec.sync.allowEmpty",
		},
		{
			name:    "only a README: empty, naming the file skipped",
			root:    "empty",
			path:    "readme",
			wantErr: "render readme: no objects to apply: readme/README.md skipped: not a manifest (plain rendering reads .yaml, .yml and .json files)",
		},
		{
			name:    "only comments: empty",
			root:    "empty",
			path:    "comments",
			wantErr: "render comments: no objects to apply: the 1 manifest files hold none",
		},
		{
			name:    "a kustomization that produces nothing: empty",
			root:    "empty",
			path:    "kustomize",
			wantErr: "render kustomize: no objects to apply: the kustomization produced none",
		},
		{
			name: "empty render allowed",
			root: "empty",
			path: "readme",
			opts: Options{AllowEmpty: true},
			want: []string{},
		},
		{
			name:    "document that is not an object",
			root:    "not-object",
			wantErr: "render list.yaml:1: document is not an object",
		},
		{
			name:    "duplicate key",
			root:    "duplicate-key",
			wantErr: `render cm.yaml:7: key "color" already set in map`,
		},
		{
			name:    "duplicate object names both files",
			root:    "duplicate",
			wantErr: "render apps/b.yaml:7: document 2: duplicate object Deployment.apps shop/web, first defined at apps/a.yaml:1",
		},
		{
			name:    "path escapes the root",
			root:    "nested",
			path:    "../plain-dir",
			wantErr: "render ../plain-dir: path leads outside the checkout root",
		},
		{
			name:    "path escapes the root after cleaning",
			root:    "nested",
			path:    "sub/../../plain-dir",
			wantErr: "path leads outside the checkout root",
		},
		{
			name:    "absolute path",
			root:    "nested",
			path:    "/etc",
			wantErr: "render /etc: path must be relative to the checkout root",
		},
		{
			name:    "missing path",
			root:    "nested",
			path:    "apps/web",
			wantErr: "render apps/web: no such directory in the checkout",
		},
		{
			name:    "path is a file",
			root:    "nested",
			path:    "a.yaml",
			wantErr: "render a.yaml: not a directory",
		},
		{
			name:    "unknown type",
			root:    "nested",
			opts:    Options{Type: "jsonnet"},
			wantErr: `render: unknown type "jsonnet"`,
		},
		{
			name:    "too many objects",
			root:    "plain-dir",
			opts:    Options{MaxObjects: 2},
			wantErr: "render service.yml:1: document 1: more than 2 objects",
		},
		{
			name:    "too many objects from kustomize",
			root:    "kustomize",
			path:    "overlays/prod",
			opts:    Options{MaxObjects: 3},
			wantErr: "render overlays/prod: kustomize produced 4 objects, more than the 3",
		},
		{
			name:    "file too large",
			root:    "plain-dir",
			opts:    Options{MaxFileBytes: 64},
			wantErr: "render configmap.yaml: file is larger than the limit of 64 bytes",
		},
		{
			name:    "file too large for kustomize",
			root:    "kustomize",
			path:    "overlays/prod",
			opts:    Options{MaxFileBytes: 200},
			wantErr: "larger than the limit of 200 bytes",
		},
		{
			name:    "remote base on github refused",
			root:    "kustomize-errors",
			path:    "remote-github",
			wantErr: `render remote-github/kustomization.yaml: resources "github.com/kubernetes-sigs/kustomize//examples/multibases?ref=v3.3.1": remote bases and files are not supported`,
		},
		{
			name:    "remote resource URL refused",
			root:    "kustomize-errors",
			path:    "remote-https",
			wantErr: `resources "https://raw.githubusercontent.com/example/repo/main/deploy.yaml": remote bases and files are not supported`,
		},
		{
			name:    "remote base over ssh refused",
			root:    "kustomize-errors",
			path:    "remote-ssh",
			wantErr: `resources "git@github.com:example/repo.git/deploy": remote`,
		},
		{
			name:    "remote component of a local base refused",
			root:    "kustomize-errors",
			path:    "remote-nested/overlay",
			wantErr: `render remote-nested/base/kustomization.yaml: components "https://example.com/components/monitoring.git?ref=main": remote`,
		},
		{
			name:    "remote configMapGenerator file refused",
			root:    "kustomize-errors",
			path:    "remote-configmap",
			wantErr: `configMapGenerator "https://example.com/settings.env": remote`,
		},
		{
			name:    "helmCharts refused",
			root:    "kustomize-errors",
			path:    "helm",
			wantErr: "render helm/kustomization.yaml: helm charts in kustomizations are not enabled",
		},
		{
			name:    "helm chart generator refused",
			root:    "kustomize-errors",
			path:    "helm-generator",
			wantErr: "render helm-generator: helm charts in kustomizations are not enabled",
		},
		{
			name:    "kustomize loads only below the kustomization",
			root:    "kustomize-errors",
			path:    "outside/app",
			wantErr: "security; file 'outside/shared.yaml' is not in or below 'outside/app'",
		},
		{
			name:    "kustomize error names files relative to the root",
			root:    "kustomize-errors",
			path:    "missing-resource",
			wantErr: "render missing-resource: kustomize: accumulating resources: accumulation err='accumulating resources from 'deployment.yaml'",
		},
		{
			name:    "invalid kustomization",
			root:    "kustomize-errors",
			path:    "invalid",
			wantErr: `render invalid/kustomization.yaml: invalid Kustomization: json: unknown field "namePrefx"`,
		},
		{
			name:    "kustomize type without a kustomization",
			root:    "kustomize-errors",
			path:    "no-kustomization",
			opts:    Options{Type: TypeKustomize},
			wantErr: "render no-kustomization: no kustomization.yaml, kustomization.yml or Kustomization",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join("testdata", tt.root)
			objs, err := Render(t.Context(), root, tt.path, tt.opts)
			checkRender(t, root, objs, err, tt.want, tt.golden, tt.wantErr)
		})
	}
}

func TestRenderSkipsGitDirectory(t *testing.T) {
	root := copyTree(t, "testdata/plain-dir")
	writeFile(t, filepath.Join(root, ".git", "objects", "junk.yaml"), "not: an object\n")
	objs, err := Render(t.Context(), root, "", Options{})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if len(objs) != 3 {
		t.Errorf("got %d objects, want 3", len(objs))
	}
}

func TestRenderCanceled(t *testing.T) {
	for _, path := range []string{"base", "overlays/prod"} {
		for _, typ := range []string{TypePlain, TypeKustomize} {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			_, err := Render(ctx, "testdata/kustomize", path, Options{Type: typ})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s %s: got %v, want context.Canceled", typ, path, err)
			}
		}
	}
}

// TestConfinedFSCanceled checks that kustomize's reads stop once the
// render's context ends, which is how a long build is cut short.
func TestConfinedFSCanceled(t *testing.T) {
	co, err := openCheckout("testdata/kustomize", defaultMaxFileBytes)
	if err != nil {
		t.Fatal(err)
	}
	defer co.close()
	ctx, cancel := context.WithCancel(t.Context())
	fsys := &confinedFS{co: co, ctx: ctx}
	if _, err := fsys.ReadFile("base/kustomization.yaml"); err != nil {
		t.Fatalf("ReadFile before cancel: %v", err)
	}
	cancel()
	if _, err := fsys.ReadFile("base/kustomization.yaml"); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadFile after cancel: got %v, want context.Canceled", err)
	}
}

func TestRenderDeterministic(t *testing.T) {
	for _, tc := range []struct{ root, path string }{{"nested", ""}, {"kustomize", "overlays/prod"}} {
		first, err := Render(t.Context(), filepath.Join("testdata", tc.root), tc.path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			again, err := Render(t.Context(), filepath.Join("testdata", tc.root), tc.path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(marshal(t, first), marshal(t, again)) {
				t.Fatalf("%s: output differs between renders", tc.root)
			}
		}
	}
}

// checkRender checks the result of a render of root: the error holds
// wantErr, or else the objects' IDs are want (unless nil) and the output
// matches testdata/<golden>.golden.yaml (unless golden is ""). It reports
// whether the render succeeded.
func checkRender(t *testing.T, root string, objs []*unstructured.Unstructured, err error, want []string, golden, wantErr string) bool {
	t.Helper()
	if wantErr != "" {
		checkError(t, root, err, wantErr)
		return false
	}
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if got := ids(objs); want != nil && !slices.Equal(got, want) {
		t.Errorf("objects:\n got %q\nwant %q", got, want)
	}
	if golden != "" {
		checkGolden(t, filepath.Join("testdata", golden+".golden.yaml"), objs)
	}
	return true
}

// checkError fails unless err holds want and names no absolute path of the
// checkout.
func checkError(t *testing.T, root string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error:\n got %q\nwant %q", err, want)
	}
	if abs, _ := filepath.Abs(root); strings.Contains(err.Error(), abs) {
		t.Errorf("error %q names the absolute checkout path", err)
	}
}

func checkGolden(t *testing.T, golden string, objs []*unstructured.Unstructured) {
	t.Helper()
	got := marshal(t, objs)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", golden, got)
	}
}

// marshal renders objects as a multi-document YAML stream.
func marshal(t testing.TB, objs []*unstructured.Unstructured) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, obj := range objs {
		y, err := yaml.Marshal(obj.Object)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.Bytes()
}

func ids(objs []*unstructured.Unstructured) []string {
	out := make([]string, len(objs))
	for i, obj := range objs {
		out[i] = objectID(obj)
	}
	return out
}

// copyTree copies the directory src into a new temporary directory and
// returns it.
func copyTree(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func writeFile(t testing.TB, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		root, path string
		want       string // the type, or a part of the error
	}{
		{"plain-dir", ".", TypePlain},
		{"kustomize", "overlays/prod", TypeKustomize},
		{"helm", "web", TypeHelm},
		{"helm", ".", TypePlain},
		{"plain-dir", "../json", "outside"},
		{"plain-dir", "absent", "no such directory"},
	}
	for _, tt := range tests {
		t.Run(tt.root+"/"+tt.path, func(t *testing.T) {
			got, err := Detect(filepath.Join("testdata", tt.root), tt.path)
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("Detect = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRenderBoundsWhatItReads: with MaxInputBytes, the files read together
// may hold no more; with NoAliases, none may hold a YAML alias, while a
// '*' that is no alias is read.
func TestRenderBoundsWhatItReads(t *testing.T) {
	root := t.TempDir()
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  schedule: '*/5 * * * *'\n"
	writeFile(t, filepath.Join(root, "a.yaml"), fmt.Sprintf(cm, "a"))
	writeFile(t, filepath.Join(root, "b.yaml"), fmt.Sprintf(cm, "b"))
	size := int64(len(fmt.Sprintf(cm, "a")))
	if objs, err := Render(t.Context(), root, "", Options{MaxInputBytes: 2 * size, NoAliases: true}); err != nil || len(objs) != 2 {
		t.Fatalf("Render within the bounds = %d objects, %v; want 2", len(objs), err)
	}
	_, err := Render(t.Context(), root, "", Options{MaxInputBytes: 2*size - 1})
	if !errors.Is(err, ErrInputTooLarge) || !strings.Contains(err.Error(), "render b.yaml: ") {
		t.Errorf("Render over MaxInputBytes = %v, want ErrInputTooLarge naming b.yaml", err)
	}
	writeFile(t, filepath.Join(root, "c.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: &n c\ndata:\n  name: *n\n")
	if _, err := Render(t.Context(), root, "", Options{}); err != nil {
		t.Errorf("Render of an alias = %v, want it read without NoAliases", err)
	}
	if _, err := Render(t.Context(), root, "", Options{NoAliases: true}); !errors.Is(err, ErrAlias) || !strings.Contains(err.Error(), "render c.yaml: ") {
		t.Errorf("Render of an alias with NoAliases = %v, want ErrAlias naming c.yaml", err)
	}
}
