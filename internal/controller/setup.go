package controller

import (
	"path/filepath"
	"slices"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/approval"
	"weir.dev/weir/internal/cluster"
	"weir.dev/weir/internal/delivery"
	"weir.dev/weir/internal/delivery/analysis"
	"weir.dev/weir/internal/desired"
	"weir.dev/weir/internal/drift"
	"weir.dev/weir/internal/driftguard"
	"weir.dev/weir/internal/fleet"
	"weir.dev/weir/internal/gitwrite"
	"weir.dev/weir/internal/health"
	"weir.dev/weir/internal/identity"
	"weir.dev/weir/internal/imageupdate"
	"weir.dev/weir/internal/isolate"
	"weir.dev/weir/internal/metrics"
	"weir.dev/weir/internal/notify"
	"weir.dev/weir/internal/policy"
	"weir.dev/weir/internal/promotion"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/source/helmrepo"
	"weir.dev/weir/internal/sourcepolicy"
	"weir.dev/weir/internal/urgent"
)

// DefaultConcurrency is how many Applications sync at once by default: a
// sync spends much of its time waiting for workloads to become available,
// and on two cores 8 workers brought 100 Applications of 20 objects to
// Ready in 28.6 s, 4 in 32.3 s and 16 in 27.6 s, each sync then taking
// three times as long for the shared CPU.
const DefaultConcurrency = 8

// Options configure the controllers.
type Options struct {
	// CacheDir holds Git checkouts, shared by every Application of a
	// repository, and (in charts/) Helm charts pulled from chart
	// repositories.
	CacheDir string
	// Concurrency is how many Applications sync at once; zero means
	// DefaultConcurrency.
	Concurrency int
	// Sources bound Git fetches, checkouts and their cache, and say
	// whether Applications may name repositories on the controller's
	// disk (file://); the zero value takes the source package's defaults
	// and refuses them. Reverts in Git reach repositories alike.
	Sources source.Options
	// Charts bound the cache of Helm charts pulled from chart
	// repositories, and each request to them.
	Charts helmrepo.Options
	// RenderMemoryBytes bounds the memory of each render's child process;
	// zero means isolate.DefaultMaxMemoryBytes.
	RenderMemoryBytes int64
	// Fetcher, when set, is the Git source shared with other parts of the
	// process (the webhook receiver invalidates its listings); nil makes
	// one of CacheDir and Sources.
	Fetcher *source.Fetcher
	// Refresh carries Applications to reconcile at once (see
	// ApplicationReconciler.Refresh); nil when nothing sends any.
	Refresh <-chan event.GenericEvent
	// AnalysisAllowedHosts are the hosts analysis metrics may reach
	// (analysis.WithAllowedHosts); none allows every host.
	AnalysisAllowedHosts []string
	// TakeOverManagers are field managers whose fields weir takes over, in
	// addition to apply.DefaultTakeOverManagers (see
	// apply.Options.TakeOverManagers).
	TakeOverManagers []string
	// Tenancy says whom weir impersonates for Applications that name no
	// ServiceAccount, and whether references may leave a namespace.
	Tenancy identity.Policy
	// DriftPrevention is the default of spec.sync.preventDrift and who
	// may change protected objects by hand.
	DriftPrevention driftguard.Options
	// Clusters bound the requests to each remote cluster.
	Clusters cluster.Options
	// Urgent, when set, sends the requests of drift heals ahead of the
	// routine ones; its Wrap must be on the config mgr was made from.
	Urgent *urgent.Gate
}

// Setup builds the stages and registers weir's reconcilers with mgr.
func Setup(mgr ctrl.Manager, opts Options) error {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	applier, err := apply.NewManager(mgr.GetConfig(), apply.Options{
		TakeOverManagers: slices.Concat(apply.DefaultTakeOverManagers, opts.TakeOverManagers),
	})
	if err != nil {
		return err
	}
	drifted := make(chan event.GenericEvent, eventBuffer)
	watcher, err := newDriftWatcher(mgr.GetConfig(), applier)
	if err != nil {
		return err
	}
	if err := mgr.Add(watcher); err != nil {
		return err
	}
	if err := mgr.Add(forwardDrift(watcher, drifted)); err != nil {
		return err
	}
	// Served on the manager's /metrics endpoint.
	rec, err := metrics.NewRecorder(ctrlmetrics.Registry)
	if err != nil {
		return err
	}
	loader, err := newLoader(mgr, opts, rec)
	if err != nil {
		return err
	}
	stages := &stageBuilder{mgr: mgr, applier: applier, loader: loader, opts: opts,
		reverter: gitwrite.NewReverter(filepath.Join(opts.CacheDir, "revert"), source.RemoteOptions{
			Timeout:          opts.Sources.Timeout,
			AllowFileSources: opts.Sources.AllowFileSources,
		}),
		recorder:     mgr.GetEventRecorderFor("weir"),
		applications: cluster.Applications{Reader: mgr.GetClient()},
	}
	identities, err := identity.NewCache(mgr.GetConfig(), identity.DefaultCacheSize, stages.build)
	if err != nil {
		return err
	}
	released, syncRequests := make(chan event.GenericEvent, eventBuffer), make(chan event.GenericEvent, eventBuffer)
	// Only weir's own cluster's Rollouts are in its metrics.
	remote := &remoteBuilder{mgr: mgr, stages: stages, drifted: drifted,
		rollouts:       RolloutReconciler{Tenancy: opts.Tenancy, SyncRequests: syncRequests},
		rolloutOptions: controller.Options{MaxConcurrentReconciles: opts.Concurrency, Logger: mgr.GetLogger()}}
	clusters := cluster.NewRegistry(mgr.GetAPIReader(), opts.Clusters, remote.build)
	if err := mgr.Add(clusters); err != nil {
		return err
	}
	// The policy and bindings are read from the manager's cache: a
	// reconcile that changes nothing costs no request.
	guard := driftguard.NewGuard(mgr.GetClient(), mgr.GetAPIReader(), opts.DriftPrevention)
	if err := mgr.Add(guard); err != nil {
		return err
	}
	// ClusterSyncPolicies, Namespaces and ConfigMaps are read directly at
	// each sync: weir watches only what it manages, and a policy changed a
	// moment ago applies at once. The cache of the policies, which
	// SyncPolicyReconciler watches, only spares the list when there is none.
	engine := policy.NewEngine()
	policies := &sourcepolicy.Reader{Cache: mgr.GetClient(), Namespaces: mgr.GetAPIReader()}
	r := &ApplicationReconciler{
		Client:       mgr.GetClient(),
		Reader:       mgr.GetAPIReader(),
		Loader:       loader,
		Identities:   identities,
		Clusters:     clusters,
		Urgent:       opts.Urgent,
		Tenancy:      opts.Tenancy,
		Recorder:     stages.recorder,
		Drift:        watcher,
		Drifted:      drifted,
		Applied:      drift.NewApplied(),
		Guard:        guard,
		Refresh:      opts.Refresh,
		Metrics:      rec,
		Released:     released,
		SyncRequests: syncRequests,
		Policies:     policies,
		SyncPolicies: &policy.Checker{Reader: mgr.GetAPIReader(), Known: mgr.GetClient(), Engine: engine},
	}
	if err := r.SetupWithManager(mgr, opts.Concurrency); err != nil {
		return err
	}
	if err := setupNotifications(mgr); err != nil {
		return err
	}
	if err := (&SyncPolicyReconciler{Client: mgr.GetClient(), Engine: engine, Refused: syncRequests}).SetupWithManager(mgr); err != nil {
		return err
	}
	images := &ImageUpdateReconciler{
		Client:   mgr.GetClient(),
		Updater:  &imageupdate.Updater{Secrets: mgr.GetAPIReader(), Git: stages.reverter, Credentials: loader},
		Recorder: stages.recorder,
	}
	if err := images.SetupWithManager(mgr); err != nil {
		return err
	}
	pipelines := &PipelineReconciler{
		Client: mgr.GetClient(),
		Promoter: &promotion.Promoter{Reader: mgr.GetAPIReader(), Workloads: workloads{identities: identities, clusters: clusters, tenancy: opts.Tenancy},
			Git: stages.reverter, Credentials: loader,
			Source: loader.Fetcher, Recorder: stages.recorder, Approvals: approval.NewGate(mgr.GetClient(), mgr.GetAPIReader())},
	}
	if err := pipelines.SetupWithManager(mgr); err != nil {
		return err
	}
	generator, err := newSetGenerator(mgr, opts, loader, policies)
	if err != nil {
		return err
	}
	sets := &ApplicationSetReconciler{Client: mgr.GetClient(), Generator: generator}
	if err := sets.SetupWithManager(mgr); err != nil {
		return err
	}
	rollouts := &RolloutReconciler{
		Client:       mgr.GetClient(),
		Reader:       mgr.GetAPIReader(),
		Applications: stages.applications,
		Identities:   identities,
		Tenancy:      opts.Tenancy,
		Released:     released,
		SyncRequests: syncRequests,
		Metrics:      rec,
	}
	return rollouts.SetupWithManager(mgr, opts.Concurrency)
}

// newSetGenerator runs ApplicationSets' generators: Git through loader,
// checked against policies, and cluster Secrets listed as each set's
// ServiceAccount, uncached.
func newSetGenerator(mgr ctrl.Manager, opts Options, loader *desired.Loader, policies *sourcepolicy.Reader) (*fleet.Generator, error) {
	readers, err := identity.NewCache(mgr.GetConfig(), identity.DefaultCacheSize, func(cfg *rest.Config) (client.Reader, error) {
		return client.New(cfg, client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	})
	if err != nil {
		return nil, err
	}
	return &fleet.Generator{Secrets: readers, Tenancy: opts.Tenancy, Fetcher: loader.Fetcher, Credentials: loader,
		Policies: setSources{policies}}, nil
}

// stageBuilder builds the stages that act on the cluster as one identity.
type stageBuilder struct {
	mgr      ctrl.Manager
	applier  *apply.Manager
	loader   *desired.Loader
	opts     Options
	reverter *gitwrite.Reverter
	recorder record.EventRecorder
	// applications reads the Applications of the cluster the stages act
	// on, for its Rollouts (cluster.Applications).
	applications client.Reader
}

// build returns the stages that send their requests with cfg: the apply
// manager (sharing weir's mapper), health, and delivery's holder and
// driver.
func (b *stageBuilder) build(cfg *rest.Config) (Stages, error) {
	applier, err := b.applier.As(cfg)
	if err != nil {
		return Stages{}, err
	}
	// Delivery reads and writes Deployments, Services and routers one at a
	// time, uncached: weir watches only what it manages.
	direct, err := client.New(cfg, client.Options{Scheme: b.mgr.GetScheme(), Mapper: applier.RESTMapper()})
	if err != nil {
		return Stages{}, err
	}
	return Stages{
		Applier:  applier,
		Health:   health.NewChecker(applier.Client(), applier.RESTMapper()),
		Delivery: &delivery.Holder{Reader: direct, Writer: direct, DryRun: applier},
		Driver: &delivery.Driver{
			Client:       direct,
			Applications: b.applications,
			Analyzer:     analysis.NewAnalyzer(direct, analysis.WithAllowedHosts(b.opts.AnalysisAllowedHosts...)),
			Reverter:     b.reverter,
			Credentials:  b.loader,
			Recorder:     b.recorder,
		},
		Reader: direct,
	}, nil
}

// eventBuffer is how many requests between the reconcilers may wait; more
// are dropped, and the periodic requeues make up for them.
const eventBuffer = 1024

// newDriftWatcher watches the objects weir applied on the cluster cfg
// reaches, whose kinds applier maps.
func newDriftWatcher(cfg *rest.Config, applier *apply.Manager) (*drift.Watcher, error) {
	// Watch events are small and many watches stay open: an uncompressed
	// stream spares each its inflate window (32 KiB and more).
	cfg = rest.CopyConfig(cfg)
	cfg.DisableCompression = true
	metadataClient, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	reviews, err := authorizationclient.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return drift.NewWatcher(metadataClient, applier.RESTMapper(),
		apply.ManagedByLabel+"="+apply.DefaultFieldManager, apply.DefaultFieldManager,
		drift.AllNamespacesAllowed(reviews.SelfSubjectAccessReviews())), nil
}

// newLoader reads desired state from Git and chart repositories.
func newLoader(mgr ctrl.Manager, opts Options, rec *metrics.Recorder) (*desired.Loader, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(mgr.GetConfig())
	if err != nil {
		return nil, err
	}
	fetcher := opts.Fetcher
	if fetcher == nil {
		fetcher = source.NewFetcher(opts.CacheDir, opts.Sources)
	}
	return &desired.Loader{
		// Secrets are read directly rather than cached: weir watches only
		// what it manages.
		Reader:  mgr.GetAPIReader(),
		Fetcher: fetcher,
		// Every render runs in a child process of this binary, bounded
		// in memory and killed on timeout.
		Renderer:  &isolate.Renderer{MaxMemoryBytes: opts.RenderMemoryBytes},
		Renders:   desired.NewRenderCache(desired.DefaultRenderCacheBytes),
		Charts:    helmrepo.NewPuller(filepath.Join(opts.CacheDir, "charts"), opts.Charts),
		Discovery: dc,
		Metrics:   rec,
	}, nil
}

// setupNotifications routes the Events weir records to the Notifications
// that select them, on a queue of its own.
func setupNotifications(mgr ctrl.Manager) error {
	clientset, err := kubernetes.NewForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	log := mgr.GetLogger().WithName("notify")
	queue := notify.NewQueue(notify.DefaultCapacity)
	queue.Log = log
	router := &notify.Router{Notifications: mgr.GetClient(), Objects: mgr.GetAPIReader(),
		Limiter: notify.NewLimiter(clock.RealClock{}, notify.DefaultWindow), Queue: queue}
	if err := mgr.Add(queue); err != nil {
		return err
	}
	return mgr.Add(&notify.Watcher{Client: clientset, Router: router, Log: log})
}
