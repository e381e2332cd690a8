package localcluster

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestEmbeddedSourcesMatchHack: the build modules weir embeds are those
// of hack/controlplane (but Traefik's), file for file.
func TestEmbeddedSourcesMatchHack(t *testing.T) {
	const hack = "../../hack/controlplane"
	var want []string
	err := filepath.WalkDir(hack, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.IsDir() && d.Name() == "traefik" {
				return filepath.SkipDir
			}
			return err
		}
		rel, _ := filepath.Rel(hack, path)
		want = append(want, filepath.ToSlash(rel))
		hackData, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		embedded, err := embeddedSources.ReadFile(embeddedRoot + "/" + filepath.ToSlash(rel) + ".txt")
		if err != nil || !bytes.Equal(embedded, hackData) {
			t.Errorf("the embedded copy of hack/controlplane/%s is out of date (run make generate)", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = fs.WalkDir(embeddedSources, embeddedRoot, func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got = append(got, strings.TrimSuffix(strings.TrimPrefix(name, embeddedRoot+"/"), ".txt"))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("weir embeds %v, want hack/controlplane's %v (run make generate)", got, want)
	}
}

// TestDefaultBuildOptionsOutsideACheckout: run from a directory outside
// any weir checkout, the build modules are the embedded copy, written out
// into the user's cache directory, pinning the versions of the checkout's,
// and complete: the go tool resolves every package Build compiles from them
// without changing a go.mod or go.sum.
func TestDefaultBuildOptionsOutsideACheckout(t *testing.T) {
	here, err := DefaultBuildOptions(".")
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	elsewhere, err := DefaultBuildOptions(t.TempDir())
	if err != nil {
		t.Fatalf("outside a checkout: %v", err)
	}
	if want := filepath.Join(cache, "weir", "controlplane"); elsewhere.Cache != want || filepath.Dir(elsewhere.Source) != want {
		t.Errorf("outside a checkout the build options are %+v, want the sources and binaries in %s", elsewhere, want)
	}
	again, err := DefaultBuildOptions(t.TempDir())
	if err != nil || again != elsewhere {
		t.Errorf("a second call gives %+v, %v; want %+v", again, err, elsewhere)
	}
	wantBins, _, err := Locate(here)
	if err != nil {
		t.Fatal(err)
	}
	bins, _, err := Locate(elsewhere)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(bins.Kubernetes) != filepath.Base(wantBins.Kubernetes) || filepath.Base(bins.Kwok) != filepath.Base(wantBins.Kwok) ||
		filepath.Base(bins.CoreDNS) != filepath.Base(wantBins.CoreDNS) {
		t.Errorf("the embedded modules pin %+v, the checkout's %+v", bins, wantBins)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, list := range []struct {
		dir      string
		packages []string
	}{
		{".", slices.Concat(kubernetesPackages, nodePackages)},
		{"kwok", []string{kwokModule + "/cmd/kwok"}},
		{"coredns", []string{"."}},
	} {
		var out bytes.Buffer
		args := append([]string{"list", "-deps"}, list.packages...)
		if err := goTool(ctx, filepath.Join(elsewhere.Source, list.dir), &out, args...); err != nil {
			t.Errorf("%v\n%s", err, out.Bytes()[max(0, out.Len()-2000):])
		}
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
