// Package harness runs weir's controller inside a test binary, as `weir
// controller` runs it in production, for the story packages under test/
// that drive it through the API server: e2e, ui, traffic and install.
package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/testenv"
)

// Options says how to run the controller. The zero value runs it with no
// metrics or health server, in a temporary cache directory, reading Git
// repositories from the local disk.
type Options struct {
	// Manager is the manager's options. Its Scheme defaults to client-go's
	// and weir's kinds, and its metrics and health probe addresses to "0"
	// (none).
	Manager ctrl.Options
	// Controller is the controller's options. CacheDir defaults to a
	// temporary directory, removed at Stop; a zero Sources allows file://
	// repositories and gives up on a fetch after 30 seconds, within the
	// tests' waits.
	Controller controller.Options
	// Add, if set, adds more to the manager before it starts (a webhook
	// receiver, say).
	Add func(ctrl.Manager) error
}

// Controller is weir's controller running in this process.
type Controller struct {
	mgr      ctrl.Manager
	cancel   context.CancelFunc
	stopped  chan error
	cacheDir string // removed at Stop, when the harness made it
}

// Start starts weir's controller against cfg and returns at once; Stop
// ends it.
func Start(cfg *rest.Config, opts Options) (*Controller, error) {
	if opts.Manager.Scheme == nil {
		scheme := testenv.Scheme()
		if err := weirv1.AddToScheme(scheme); err != nil {
			return nil, err
		}
		opts.Manager.Scheme = scheme
	}
	if opts.Manager.Metrics.BindAddress == "" {
		opts.Manager.Metrics = metricsserver.Options{BindAddress: "0"}
	}
	if opts.Manager.HealthProbeBindAddress == "" {
		opts.Manager.HealthProbeBindAddress = "0"
	}
	if opts.Controller.Sources == (source.Options{}) {
		opts.Controller.Sources = source.Options{AllowFileSources: true, Timeout: 30 * time.Second}
	}
	mgr, err := ctrl.NewManager(cfg, opts.Manager)
	if err != nil {
		return nil, fmt.Errorf("controller manager: %w", err)
	}
	c := &Controller{mgr: mgr, stopped: make(chan error, 1)}
	if opts.Controller.CacheDir == "" {
		if c.cacheDir, err = os.MkdirTemp("", "weir-sources-"); err != nil {
			return nil, err
		}
		opts.Controller.CacheDir = c.cacheDir
	}
	if err := controller.Setup(mgr, opts.Controller); err != nil {
		c.removeCache()
		return nil, fmt.Errorf("set up the controller: %w", err)
	}
	if opts.Add != nil {
		if err := opts.Add(mgr); err != nil {
			c.removeCache()
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() { c.stopped <- mgr.Start(ctx) }()
	return c, nil
}

// Elected is closed once this controller leads (at once without leader
// election).
func (c *Controller) Elected() <-chan struct{} { return c.mgr.Elected() }

// Stop ends the controller and waits for it, and returns why it stopped
// if not because it was told to.
func (c *Controller) Stop() error {
	c.cancel()
	err := <-c.stopped
	c.stopped <- err // Stop may be called again
	c.removeCache()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (c *Controller) removeCache() {
	if c.cacheDir != "" {
		_ = os.RemoveAll(c.cacheDir)
	}
}

// Setup is Start as a testenv.Setup, for a package's TestMain: the
// controller runs for the whole package.
func Setup(opts Options) testenv.Setup {
	return func(cfg *rest.Config) (func(), error) {
		c, err := Start(cfg, opts)
		if err != nil {
			return nil, err
		}
		return func() { _ = c.Stop() }, nil
	}
}

// StartForTest is Start for one test, stopped when t ends, and fails t if
// the controller fails. With leader election on, it returns once this
// controller leads, and fails t if it does not within 30 seconds.
func StartForTest(t testing.TB, cfg *rest.Config, opts Options) *Controller {
	t.Helper()
	if opts.Controller.CacheDir == "" {
		opts.Controller.CacheDir = t.TempDir()
	}
	c, err := Start(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("controller: %v", err)
		}
	})
	select {
	case <-c.Elected():
	case err := <-c.stopped:
		c.stopped <- err
		t.Fatalf("controller stopped before it was elected: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("controller not elected leader within 30s: can its identity use Leases in the election's namespace?")
	}
	return c
}
