package controller

import (
	"path/filepath"

	"k8s.io/client-go/discovery"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/desired"
	"weir.dev/weir/internal/health"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/source/helmrepo"
)

// Options configure the controllers.
type Options struct {
	// CacheDir holds Git checkouts, shared by every Application of a
	// repository, and (in charts/) Helm charts pulled from chart
	// repositories.
	CacheDir string
	// Concurrency is how many Applications sync at once; zero means four.
	Concurrency int
	// Refresh carries Applications to reconcile at once (see
	// ApplicationReconciler.Refresh); nil when nothing sends any.
	Refresh <-chan event.GenericEvent
}

// Setup builds the stages and registers weir's reconcilers with mgr.
func Setup(mgr ctrl.Manager, opts Options) error {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	applier, err := apply.NewManager(mgr.GetConfig(), apply.Options{})
	if err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	r := &ApplicationReconciler{
		Client: mgr.GetClient(),
		Loader: &desired.Loader{
			// Secrets are read directly rather than cached: weir watches
			// only what it manages.
			Reader:    mgr.GetAPIReader(),
			Fetcher:   source.NewFetcher(opts.CacheDir),
			Charts:    helmrepo.NewPuller(filepath.Join(opts.CacheDir, "charts")),
			Discovery: dc,
		},
		Applier:  applier,
		Health:   health.NewChecker(applier.Client(), applier.RESTMapper()),
		Recorder: mgr.GetEventRecorderFor("weir"),
		Refresh:  opts.Refresh,
	}
	return r.SetupWithManager(mgr, opts.Concurrency)
}
