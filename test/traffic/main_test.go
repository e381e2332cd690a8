// Package traffic proves weir's progressive delivery on real traffic: the
// demo workload (examples/demo) runs as real pods on the local cluster's
// real node, a real Prometheus scrapes them through Kubernetes service
// discovery, weir's controller releases them from a Git repository, and
// the tests count the requests that reach each version rather than read
// the objects weir writes.
package traffic

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/image"
	"weir.dev/weir/internal/isolate"
	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/testenv"
)

// demoImage is the demo workload's image, loaded into the real node.
const demoImage = "weir.local/demo:1"

// TestMain lets the controller render in this binary, re-executed.
func TestMain(m *testing.M) {
	isolate.ServeIfWorker()
	os.Exit(m.Run())
}

// realCluster starts a cluster with a real node for t, with weir's CRDs,
// the demo image loaded and weir's controller running, and returns a client
// of it.
func realCluster(t testing.TB) (*localcluster.Cluster, client.Client) {
	t.Helper()
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	c, _ := testenv.RealNode(t)
	ctx := testenv.Context(t, 5*time.Minute)
	loadDemoImage(t, ctx, c)
	crds, err := filepath.Glob("../../config/crd/bases/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.InstallCRDFiles(c.Config, crds...); err != nil {
		t.Fatal(err)
	}
	scheme := testenv.Scheme()
	if err := weirv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	startController(t, c.Config)
	cl, err := client.New(c.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c, cl
}

// loadDemoImage builds examples/demo into an image the way weir's image is
// built, for this machine's platform, and loads it into the node.
func loadDemoImage(t testing.TB, ctx context.Context, c *localcluster.Cluster) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	src, err := image.SourceOf(ctx, root, "https://github.com/weir-dev/weir")
	if err != nil {
		t.Fatal(err)
	}
	res, err := image.Build(ctx, image.Options{
		SourceDir: root, Package: "./examples/demo",
		Platforms:  []ocispec.Platform{{OS: "linux", Architecture: runtime.GOARCH}},
		Repository: "weir.local/demo", Tag: "1", Source: src,
		OutDir: t.TempDir(), Name: "demo",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.LoadImage(ctx, res.Archive); err != nil {
		t.Fatal(err)
	}
}

// startController runs weir's controller against cfg until t ends, as
// `weir controller` does, reading Git repositories from the local disk.
func startController(t testing.TB, cfg *rest.Config) {
	t.Helper()
	scheme := testenv.Scheme()
	if err := weirv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Each test runs its own controller, one after another in this
		// process, under the same names.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := controller.Options{CacheDir: t.TempDir(), Sources: source.Options{AllowFileSources: true, Timeout: 30 * time.Second}}
	if err := controller.Setup(mgr, opts); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("controller: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}
