package controller

import (
	"k8s.io/client-go/metadata"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/event"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/desired"
	"weir.dev/weir/internal/drift"
	"weir.dev/weir/internal/health"
	"weir.dev/weir/internal/metrics"
	"weir.dev/weir/internal/source"
)

// Options configure the controllers.
type Options struct {
	// CacheDir holds Git checkouts, shared by every Application of a repository.
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
	metadataClient, err := metadata.NewForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	watcher := drift.NewWatcher(metadataClient, applier.RESTMapper(),
		apply.ManagedByLabel+"="+apply.DefaultFieldManager, apply.DefaultFieldManager)
	if err := mgr.Add(watcher); err != nil {
		return err
	}
	// Served on the manager's /metrics endpoint.
	rec, err := metrics.NewRecorder(ctrlmetrics.Registry)
	if err != nil {
		return err
	}
	r := &ApplicationReconciler{
		Client: mgr.GetClient(),
		Reader: mgr.GetAPIReader(),
		// Secrets are read directly rather than cached: weir watches only
		// what it manages.
		Loader:   &desired.Loader{Reader: mgr.GetAPIReader(), Fetcher: source.NewFetcher(opts.CacheDir), Metrics: rec},
		Applier:  applier,
		Health:   health.NewChecker(applier.Client(), applier.RESTMapper()),
		Recorder: mgr.GetEventRecorderFor("weir"),
		Drift:    watcher,
		Drifted:  watcher.Events(),
		Refresh:  opts.Refresh,
		Metrics:  rec,
	}
	return r.SetupWithManager(mgr, opts.Concurrency)
}
