// Package e2e tells weir's stories end to end: a real control plane, real
// Git repositories, the controller running as it does in production, and a
// user who commits, reverts and asks what happened.
package e2e

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/testenv"
)

// TestMain trusts the certificate of the HTTPS Git servers first: the
// controller must not read the system roots before it is among them.
func TestMain(m *testing.M) {
	testenv.Main(m, testenv.TrustTestServers, installCRDs, startController)
}

// controllerLog collects everything the controller logs, so that tests can
// assert that no secret ever reaches it.
var controllerLog lockedBuffer

func installCRDs(cfg *rest.Config) (func(), error) {
	return func() {}, testenv.InstallCRDFiles(cfg, "../../config/crd/bases/weir.dev_applications.yaml")
}

func startController(cfg *rest.Config) (func(), error) {
	scheme := testenv.Scheme()
	if err := weirv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(&controllerLog, nil)))
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, err
	}
	cacheDir, err := os.MkdirTemp("", "weir-e2e-sources-")
	if err != nil {
		return nil, err
	}
	if err := controller.Setup(mgr, controller.Options{CacheDir: cacheDir}); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = mgr.Start(ctx)
	}()
	return func() {
		cancel()
		<-done
		_ = os.RemoveAll(cacheDir)
	}, nil
}

// lockedBuffer is a bytes.Buffer safe for the controller's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
