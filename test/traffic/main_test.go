// Package traffic proves weir's progressive delivery on real traffic: the
// demo workload (examples/demo) runs as real pods on the local cluster's
// real node, a real Prometheus scrapes them, weir's controller releases
// them from a Git repository, and the tests count the requests that reach
// each version rather than read the objects weir writes. The tests share
// one cluster with a real node and one controller, a namespace each.
package traffic

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/image"
	"weir.dev/weir/internal/isolate"
	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/harness"
)

// demoImage is the demo workload's image, loaded into the real node.
const demoImage = "weir.local/demo:1"

// TestMain starts the package's cluster with a real node, with weir's CRDs
// and controller; the controller renders in this binary, re-executed.
func TestMain(m *testing.M) {
	isolate.ServeIfWorker()
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	testenv.MainRealNode(m, installCRDs, harness.Setup(harness.Options{}))
}

// installCRDs installs every CRD of weir's.
func installCRDs(cfg *rest.Config) (func(), error) {
	files, err := filepath.Glob("../../config/crd/bases/*.yaml")
	if err != nil {
		return nil, err
	}
	return func() {}, testenv.InstallCRDFiles(cfg, files...)
}

// demoLoaded loads the demo's image into the node once, for the first
// test that needs it.
var demoLoaded struct {
	once sync.Once
	err  error
}

// realCluster returns the package's cluster with a real node, with the
// demo image loaded, and a client of it that knows weir's kinds.
func realCluster(t testing.TB) (*localcluster.Cluster, client.Client) {
	t.Helper()
	c := testenv.Cluster(t)
	demoLoaded.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		demoLoaded.err = loadDemoImage(ctx, c)
	})
	if demoLoaded.err != nil {
		t.Fatalf("load the demo's image: %v", demoLoaded.err)
	}
	return c, testenv.Client(t, weirv1.AddToScheme)
}

// loadDemoImage builds examples/demo into an image the way weir's image is
// built, for this machine's platform, and loads it into the node.
func loadDemoImage(ctx context.Context, c *localcluster.Cluster) error {
	root, err := filepath.Abs("../..")
	if err != nil {
		return err
	}
	src, err := image.SourceOf(ctx, root, "https://github.com/weir-dev/weir")
	if err != nil {
		return err
	}
	out, err := os.MkdirTemp("", "weir-demo-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	res, err := image.Build(ctx, image.Options{
		SourceDir: root, Package: "./examples/demo",
		Platforms:  []ocispec.Platform{{OS: "linux", Architecture: runtime.GOARCH}},
		Repository: "weir.local/demo", Tag: "1", Source: src,
		OutDir: out, Name: "demo",
	})
	if err != nil {
		return err
	}
	return c.LoadImage(ctx, res.Archive)
}
