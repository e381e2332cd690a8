package render

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// FuzzRenderPlain renders arbitrary bytes as a manifest file. Render must
// not panic, must fail with an error that names the file, and must return
// only objects that are valid and JSON-compatible.
func FuzzRenderPlain(f *testing.F) {
	for _, seed := range []string{
		"testdata/multidoc/all.yaml",
		"testdata/list/list.yaml",
		"testdata/invalid-yaml/web.yaml",
		"testdata/kustomize/base/deployment.yaml",
		"testdata/json/stream.json",
	} {
		data, err := os.ReadFile(seed)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, strings.HasSuffix(seed, ".json"))
	}
	f.Add([]byte("a: &a [*a, *a]\n"), false)
	f.Add([]byte("--- {apiVersion: v1, kind: A, metadata: {name: x}}\n...\n"), false)
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n"), false)

	// Each fuzzing process calls the target sequentially, so one checkout
	// per process is enough.
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		name, other := "objects.yaml", "objects.json"
		if asJSON {
			name, other = other, name
		}
		_ = os.Remove(filepath.Join(root, other))
		if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		objs, err := Render(t.Context(), root, "", Options{Type: TypePlain, MaxObjects: 100, MaxFileBytes: 1 << 20})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "render "+name) {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		checkObjects(t, objs)
	})
}

// checkObjects fails the test unless every object is valid and
// JSON-compatible.
func checkObjects(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, obj := range objs {
		if err := validate(obj); err != nil {
			t.Errorf("returned an invalid object: %v", err)
		}
		_ = obj.DeepCopy() // Panics on values unstructured does not allow.
		if _, err := json.Marshal(obj.Object); err != nil {
			t.Errorf("returned an object that is not JSON: %v", err)
		}
	}
}
