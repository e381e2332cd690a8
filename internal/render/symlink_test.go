package render

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Git stores symlinks, so a checkout may hold any. These tests make them at
// run time in temporary trees.
func TestRenderSymlinks(t *testing.T) {
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret.yaml"), configMap("stolen"))
	writeFile(t, filepath.Join(outside, "dir", "cm.yaml"), configMap("stolen"))
	writeFile(t, filepath.Join(outside, "dir", "kustomization.yaml"), "resources: [cm.yaml]\n")
	outsideFile := filepath.Join(outside, "secret.yaml")
	outsideDir := filepath.Join(outside, "dir")

	tests := []struct {
		name    string
		files   map[string]string
		links   map[string]string // link name -> target
		path    string
		want    []string
		wantErr string
	}{
		{
			name:    "file link outside",
			files:   map[string]string{"app/cm.yaml": configMap("a")},
			links:   map[string]string{"app/evil.yaml": outsideFile},
			path:    "app",
			wantErr: "render app/evil.yaml: symlink points outside the checkout root",
		},
		{
			name:    "relative file link climbing out",
			files:   map[string]string{"app/cm.yaml": configMap("a")},
			links:   map[string]string{"app/evil.yaml": "../../../../../../../../../.." + outsideFile},
			path:    "app",
			wantErr: "render app/evil.yaml: symlink points outside the checkout root",
		},
		{
			name:    "directory link outside",
			files:   map[string]string{"app/cm.yaml": configMap("a")},
			links:   map[string]string{"app/vendor": outsideDir},
			path:    "app",
			wantErr: "render app/vendor: symlink points outside the checkout root",
		},
		{
			name:    "path through a link outside",
			links:   map[string]string{"ext": outsideDir},
			path:    "ext",
			wantErr: "render ext: symlink points outside the checkout root",
		},
		{
			name:    "path below a link outside",
			links:   map[string]string{"ext": outside},
			path:    "ext/dir",
			wantErr: "render ext: symlink points outside the checkout root",
		},
		{
			name:  "links inside the root are followed",
			files: map[string]string{"app/cm.yaml": configMap("a"), "shared/b.yaml": configMap("b"), "common/c.yaml": configMap("c")},
			links: map[string]string{"app/b.yaml": "../shared/b.yaml", "app/common": "../common"},
			path:  "app",
			want:  []string{"ConfigMap b", "ConfigMap a", "ConfigMap c"},
		},
		{
			name:  "a directory reached twice is read once",
			files: map[string]string{"common/c.yaml": configMap("c")},
			links: map[string]string{"app/x": "../common", "app/y": "../common"},
			path:  "app",
			want:  []string{"ConfigMap c"},
		},
		{
			name:  "links the walk does not read are left alone",
			files: map[string]string{"app/cm.yaml": configMap("a")},
			links: map[string]string{"app/README.md": outsideFile, "app/notes.txt": "missing"},
			path:  "app",
			want:  []string{"ConfigMap a"},
		},
		{
			name:    "broken manifest link",
			links:   map[string]string{"app/gone.yaml": "missing.yaml"},
			path:    "app",
			wantErr: "render app/gone.yaml: broken symlink",
		},
		{
			name:    "symlink cycle",
			files:   map[string]string{"app/cm.yaml": configMap("a")},
			links:   map[string]string{"app/sub/loop": ".."},
			path:    "app",
			wantErr: "render app/sub/loop: symlink cycle",
		},
		{
			name:    "kustomize resource link outside",
			files:   map[string]string{"app/kustomization.yaml": "resources: [evil.yaml]\n"},
			links:   map[string]string{"app/evil.yaml": outsideFile},
			path:    "app",
			wantErr: "app/evil.yaml: symlink points outside the checkout root",
		},
		{
			name:    "kustomize base link outside",
			files:   map[string]string{"app/kustomization.yaml": "resources: [../base]\n"},
			links:   map[string]string{"base": outsideDir},
			path:    "app",
			wantErr: "base: symlink points outside the checkout root",
		},
		{
			name:    "kustomization file link outside",
			links:   map[string]string{"app/kustomization.yaml": filepath.Join(outsideDir, "kustomization.yaml")},
			path:    "app",
			wantErr: "render app/kustomization.yaml: symlink points outside the checkout root",
		},
		{
			name:    "kustomize patch link outside",
			files:   map[string]string{"app/kustomization.yaml": "resources: [cm.yaml]\npatches: [{path: patch.yaml}]\n", "app/cm.yaml": configMap("a")},
			links:   map[string]string{"app/patch.yaml": outsideFile},
			path:    "app",
			wantErr: "app/patch.yaml: symlink points outside the checkout root",
		},
		{
			name: "kustomize base link inside the root",
			files: map[string]string{
				"app/kustomization.yaml":  "resources: [../base]\nnamePrefix: app-\n",
				"real/kustomization.yaml": "resources: [cm.yaml]\n",
				"real/cm.yaml":            configMap("a"),
			},
			links: map[string]string{"base": "real"},
			path:  "app",
			want:  []string{"ConfigMap app-a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, filepath.Join(root, name), content)
			}
			for name, target := range tt.links {
				symlink(t, target, filepath.Join(root, name))
			}
			objs, err := Render(t.Context(), root, tt.path, Options{})
			if tt.wantErr != "" {
				checkError(t, root, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got := ids(objs); !slices.Equal(got, tt.want) {
				t.Errorf("objects:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestRenderRootIsSymlink(t *testing.T) {
	link := filepath.Join(t.TempDir(), "checkout")
	abs, err := filepath.Abs("testdata/kustomize")
	if err != nil {
		t.Fatal(err)
	}
	symlink(t, abs, link)
	for _, typ := range []string{TypePlain, TypeKustomize} {
		objs, err := Render(t.Context(), link, "base", Options{Type: typ})
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if len(objs) == 0 {
			t.Errorf("%s: no objects", typ)
		}
	}
}

func configMap(name string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n", name)
}

func symlink(t testing.TB, target, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}
