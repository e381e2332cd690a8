package render

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestRenderKustomizeConcurrent runs kustomize renders in parallel, which
// krusty alone does not survive (kustomize issue #3659); run it with -race.
func TestRenderKustomizeConcurrent(t *testing.T) {
	want, err := Render(t.Context(), "testdata/kustomize", "overlays/prod", Options{})
	if err != nil {
		t.Fatal(err)
	}
	results := renderConcurrently(t, 8, func(int) ([]*unstructured.Unstructured, error) {
		return Render(t.Context(), "testdata/kustomize", "overlays/prod", Options{})
	})
	for i, objs := range results {
		if !bytes.Equal(marshal(t, objs), marshal(t, want)) {
			t.Errorf("render %d differs from a lone render", i)
		}
	}
}

// renderConcurrently runs n renders at once and returns their objects,
// failing the test if any fails.
func renderConcurrently(t *testing.T, n int, render func(i int) ([]*unstructured.Unstructured, error)) [][]*unstructured.Unstructured {
	t.Helper()
	results := make([][]*unstructured.Unstructured, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = render(i) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("render %d: %v", i, err)
		}
	}
	return results
}

// TestBuildRecoversPanic makes kustomize's file system panic mid-build and
// expects an error, and the lock released for the next build.
func TestBuildRecoversPanic(t *testing.T) {
	co, err := openCheckout("testdata/kustomize", defaultMaxFileBytes)
	if err != nil {
		t.Fatal(err)
	}
	defer co.close()
	broken := &checkout{root: co.root, maxFileBytes: co.maxFileBytes} // No files: reading panics.
	_, err = build(t.Context(), &confinedFS{co: broken, ctx: t.Context()}, filepath.Join(co.root, "base"))
	if err == nil || !strings.Contains(err.Error(), "kustomize panicked") {
		t.Fatalf("got %v, want a recovered panic", err)
	}
	if _, err := Render(t.Context(), "testdata/kustomize", "base", Options{}); err != nil {
		t.Fatalf("render after a panic: %v", err)
	}
}

func TestConfinedFS(t *testing.T) {
	co, err := openCheckout("testdata/kustomize", defaultMaxFileBytes)
	if err != nil {
		t.Fatal(err)
	}
	defer co.close()
	fsys := &confinedFS{co: co, ctx: t.Context()}
	inside := filepath.Join(co.root, "base", "service.yaml")
	outside := filepath.Join(co.root, "..", "plain-dir", "service.yml")

	if !fsys.Exists(inside) || !fsys.Exists("base/service.yaml") || !fsys.IsDir("base") {
		t.Error("files inside the root are not visible")
	}
	if fsys.Exists(outside) || fsys.IsDir(filepath.Dir(outside)) {
		t.Error("files outside the root are visible")
	}
	if _, err := fsys.ReadFile(outside); !errors.Is(err, errPathEscape) {
		t.Errorf("ReadFile outside: got %v, want errPathEscape", err)
	}
	if _, err := fsys.Open(outside); !errors.Is(err, errPathEscape) {
		t.Errorf("Open outside: got %v, want errPathEscape", err)
	}
	if f, err := fsys.Open(inside); err != nil {
		t.Errorf("Open inside: %v", err)
	} else {
		f.Close()
	}
	dir, file, err := fsys.CleanedAbs(inside)
	if err != nil || dir.String() != filepath.Join(co.root, "base") || file != "service.yaml" {
		t.Errorf("CleanedAbs = %q, %q, %v", dir, file, err)
	}
	matches, err := fsys.Glob(filepath.Join(co.root, "..", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) != 0 {
		t.Errorf("Glob outside the root matched %q", matches)
	}
	if matches, _ := fsys.Glob(filepath.Join(co.root, "base", "*.yaml")); len(matches) != 3 {
		t.Errorf("Glob inside the root matched %q, want 3 files", matches)
	}
	for name, err := range map[string]error{
		"Mkdir":     fsys.Mkdir("x"),
		"MkdirAll":  fsys.MkdirAll("x/y"),
		"RemoveAll": fsys.RemoveAll("base"),
		"WriteFile": fsys.WriteFile("base/x.yaml", nil),
	} {
		if !errors.Is(err, errReadOnly) {
			t.Errorf("%s: got %v, want errReadOnly", name, err)
		}
	}
	if _, err := fsys.Create("x"); !errors.Is(err, errReadOnly) {
		t.Errorf("Create: got %v, want errReadOnly", err)
	}
}

func TestIsRemote(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "github.com", "org", "file.yaml"), configMap("a"))
	writeFile(t, filepath.Join(root, "user@host.yaml"), configMap("b"))
	co, err := openCheckout(root, defaultMaxFileBytes)
	if err != nil {
		t.Fatal(err)
	}
	defer co.close()
	fsys := &confinedFS{co: co, ctx: t.Context()}
	for ref, want := range map[string]bool{
		"../base":                                false,
		"deployment.yaml":                        false,
		"https://example.com/x.yaml":             true,
		"HTTP://example.com/x.yaml":              true,
		"file:///etc/repo":                       true,
		"ssh://git@example.com/repo":             true,
		"git::https://example.com/repo":          true,
		"git@github.com:org/repo":                true,
		"github.com/org/repo//dir?ref=v1":        true,
		"github.com/org/file.yaml":               false, // A file of the checkout.
		"user@host.yaml":                         false, // A file of the checkout.
		"gitlab.com/org/repo":                    false, // kustomize reads it as a local path.
		"example.com/org/repo.git/deploy?ref=v1": false, // Likewise.
	} {
		if got := isRemote(fsys, root, ref); got != want {
			t.Errorf("isRemote(%q) = %v, want %v", ref, got, want)
		}
	}
}
