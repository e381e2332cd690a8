package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weir.dev/weir/internal/localcluster"
)

// TestDevClusterRunsOutsideACheckout runs `weir dev cluster up`, then
// `down`, from a directory outside any weir checkout: the control plane is
// built from the modules weir embeds, written out into the user's cache
// directory. The binaries this checkout built are linked into that cache,
// so that nothing is compiled again.
func TestDevClusterRunsOutsideACheckout(t *testing.T) {
	checkout, err := localcluster.DefaultBuildOptions(".")
	if err != nil {
		t.Fatal(err)
	}
	bins, cached, err := localcluster.Locate(checkout)
	if err != nil || !cached {
		t.Skipf("the control plane is not built in this checkout (make controlplane): %v", err)
	}
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	binaries := filepath.Join(cache, "weir", "controlplane")
	if err := os.MkdirAll(binaries, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{bins.Kubernetes, bins.Kwok} {
		if err := os.Symlink(dir, filepath.Join(binaries, filepath.Base(dir))); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(t.TempDir())
	dir := filepath.Join(t.TempDir(), "cluster")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	out := weir(ctx, t, "dev", "cluster", "up", "--dir", dir)
	t.Cleanup(func() { weir(context.Background(), t, "dev", "cluster", "down", "--dir", dir) })
	if !strings.Contains(out, "export KUBECONFIG="+filepath.Join(dir, "kubeconfig")) {
		t.Errorf("up printed %q", out)
	}
	sources, err := filepath.Glob(filepath.Join(binaries, "source-*", "go.mod"))
	if err != nil || len(sources) != 1 {
		t.Errorf("the build modules written out into the cache: %v, %v; want one go.mod", sources, err)
	}
	c, err := localcluster.Attach(dir)
	if err != nil || !c.Running() {
		t.Fatalf("the cluster up started is not running: %v", err)
	}
}

// weir runs the command line with args and returns what it printed,
// failing the test if it fails.
func weir(ctx context.Context, t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := Execute(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("weir %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	return stdout.String()
}
