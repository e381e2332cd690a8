package localcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDefaultBuildOptionsOutsideACheckout checks that, run from a directory
// outside any weir checkout, the build modules are those of the checkout
// the code was compiled from (go test does not trim paths).
func TestDefaultBuildOptionsOutsideACheckout(t *testing.T) {
	here, err := DefaultBuildOptions(".")
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, err := DefaultBuildOptions(t.TempDir())
	if err != nil {
		t.Fatalf("outside a checkout: %v", err)
	}
	if elsewhere != here {
		t.Errorf("outside a checkout the build options are %+v, want this checkout's %+v", elsewhere, here)
	}
	if _, err := os.Stat(filepath.Join(elsewhere.Source, "go.mod")); err != nil {
		t.Error(err)
	}
}

// TestLocateKeysEachPartByItsSources checks that a change to a file a part
// of the control plane is built from locates that part, and only it, in a
// new cache entry, so that it is built again.
func TestLocateKeysEachPartByItsSources(t *testing.T) {
	src := t.TempDir()
	files := map[string]string{
		"go.mod":          "module weir.dev/controlplane\n\nrequire k8s.io/kubernetes v1.37.2\n",
		"go.sum":          "",
		"etcd/main.go":    "package main\n",
		"pause/main.go":   "package main\n",
		"kwok/go.mod":     "module weir.dev/controlplane/kwok\n\nrequire sigs.k8s.io/kwok v0.8.0\n",
		"kwok/go.sum":     "",
		"coredns/go.mod":  "module weir.dev/controlplane/coredns\n\nrequire github.com/coredns/coredns v1.15.0\n",
		"coredns/go.sum":  "",
		"coredns/main.go": "package main\n",
	}
	for name, content := range files {
		writeSource(t, src, name, content)
	}
	opts := BuildOptions{Source: src, Cache: t.TempDir()}
	before, _, err := Locate(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file    string
		changed func(Binaries) string
	}{
		{"etcd/main.go", func(b Binaries) string { return b.Kubernetes }},
		{"pause/main.go", func(b Binaries) string { return b.Node }},
		{"kwok/go.sum", func(b Binaries) string { return b.Kwok }},
		{"coredns/main.go", func(b Binaries) string { return b.CoreDNS }},
	} {
		writeSource(t, src, tc.file, files[tc.file]+"// changed\n")
		after, _, err := Locate(opts)
		if err != nil {
			t.Fatal(err)
		}
		if tc.changed(after) == tc.changed(before) {
			t.Errorf("after %s changed, its part is still cached in %s", tc.file, tc.changed(after))
		}
		for _, part := range []func(Binaries) string{
			func(b Binaries) string { return b.Kubernetes }, func(b Binaries) string { return b.Node },
			func(b Binaries) string { return b.Kwok }, func(b Binaries) string { return b.CoreDNS },
		} {
			if part(after) != part(before) && part(after) != tc.changed(after) {
				t.Errorf("after %s changed, %s moved too", tc.file, part(after))
			}
		}
		writeSource(t, src, tc.file, files[tc.file])
	}
	if !strings.HasPrefix(filepath.Base(before.Kubernetes), "kubernetes-v1.37.2-") {
		t.Errorf("the control plane is cached in %s, want it under its version and the hash of its sources", before.Kubernetes)
	}
}

func writeSource(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
