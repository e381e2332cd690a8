package isolate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/decrypt/decrypttest"
	"weir.dev/weir/internal/render"
)

// TestOnlySmallPlainManifestsRenderWithoutAWorker renders with a worker
// binary that does not exist: small plain manifests render all the same,
// as render.Render renders them; manifests over MaxInProcessBytes, with a
// YAML alias, with SOPS keys to decrypt or a SOPS file without them, or a
// kustomization, need the worker.
func TestOnlySmallPlainManifestsRenderWithoutAWorker(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  schedule: '*/5 * * * *'\n"
	alice := decrypttest.NewAgeKey(t)
	keys, err := decrypt.ParseKeys(map[string][]byte{"age.agekey": alice.Private})
	if err != nil {
		t.Fatal(err)
	}
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n"
	encrypted := string(decrypttest.Encrypt(t, "secret.yaml", []byte(secret), decrypttest.SecretRegex, alice))
	for _, tc := range []struct {
		name   string
		files  map[string]string
		opts   render.Options
		keys   *decrypt.Keys
		worker bool
	}{
		{name: "plain", files: map[string]string{"a.yaml": cm, "b/c.json": `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}`}},
		{name: "plain typed", files: map[string]string{"a.yaml": cm}, opts: render.Options{Type: render.TypePlain}},
		{name: "too large", files: map[string]string{"a.yaml": cm + "  big: " + strings.Repeat("x", MaxInProcessBytes) + "\n"}, worker: true},
		{name: "alias", files: map[string]string{"a.yaml": cm + "  again: &s x\n  more: *s\n"}, worker: true},
		{name: "keys", files: map[string]string{"a.yaml": cm}, keys: keys, worker: true},
		{name: "SOPS file without keys", files: map[string]string{"a.yaml": cm, "secret.yaml": encrypted}, worker: true},
		{name: "kustomize", files: map[string]string{"a.yaml": cm, "kustomization.yaml": "resources: [a.yaml]\n"}, worker: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, content := range tc.files {
				if err := os.MkdirAll(filepath.Join(root, filepath.Dir(name)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := &Renderer{Executable: filepath.Join(t.TempDir(), "no-such-weir")}
			got, err := r.Render(t.Context(), root, "", tc.opts, decrypt.New(tc.keys))
			if tc.worker {
				if err == nil || !strings.Contains(err.Error(), "start render worker") {
					t.Errorf("Render = %v, want it to start a worker", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			want, err := render.Render(t.Context(), root, "", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Render differs from render.Render:\n%s\nwant:\n%s", marshal(t, got), marshal(t, want))
			}
		})
	}
}

// TestAnInProcessRenderKeepsItsErrors: a plain render that fails in
// process fails as render.Render does, naming the file and line.
func TestAnInProcessRenderKeepsItsErrors(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.yaml"), []byte("kind: ConfigMap\nmetadata: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Renderer{Executable: filepath.Join(t.TempDir(), "no-such-weir")}
	_, err := r.Render(t.Context(), root, "", render.Options{}, decrypt.New(nil))
	_, want := render.Render(t.Context(), root, "", render.Options{})
	if err == nil || want == nil || err.Error() != want.Error() {
		t.Errorf("Render = %v, want %v", err, want)
	}
}
