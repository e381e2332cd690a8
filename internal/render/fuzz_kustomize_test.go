package render

import (
	"path/filepath"
	"strings"
	"testing"
)

// namesCheckout reports whether msg names the fuzzed checkout's directory
// or one of its files.
func namesCheckout(msg string) bool {
	for _, name := range []string{".", "kustomization.yaml", "resource.yaml"} {
		if strings.HasPrefix(msg, "render "+name) {
			return true
		}
	}
	return false
}

// FuzzRenderKustomize builds an arbitrary kustomization over an arbitrary
// resource file, resource.yaml, in a checkout of its own. Render must not
// panic, must fail with an error that names the directory or a file, and
// must return only valid objects.
func FuzzRenderKustomize(f *testing.F) {
	f.Add([]byte("resources: [resource.yaml]\nnamePrefix: a-\n"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"))
	f.Add([]byte("resources: [resource.yaml]\npatches:\n- patch: '[{op: add, path: /data/b, value: c}]'\n  target: {kind: ConfigMap}\n"),
		[]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n"))
	f.Add([]byte("configMapGenerator:\n- name: g\n  files: [resource.yaml]\n"), []byte("a: &a [*a]\n"))

	root := f.TempDir()
	f.Fuzz(func(t *testing.T, kustomization, resource []byte) {
		writeFile(t, filepath.Join(root, "kustomization.yaml"), string(kustomization))
		writeFile(t, filepath.Join(root, "resource.yaml"), string(resource))
		objs, err := Render(t.Context(), root, "", Options{Type: TypeKustomize, MaxObjects: 100, MaxFileBytes: 1 << 16})
		if err != nil {
			if !namesCheckout(err.Error()) {
				t.Errorf("error does not name the directory or a file: %v", err)
			}
			return
		}
		checkObjects(t, objs)
	})
}
