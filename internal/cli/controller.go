package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"weir.dev/weir/internal/apply"
	remote "weir.dev/weir/internal/cluster"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/driftguard"
	"weir.dev/weir/internal/identity"
	"weir.dev/weir/internal/isolate"
	"weir.dev/weir/internal/pageout"
	"weir.dev/weir/internal/server"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/source/helmrepo"
	"weir.dev/weir/internal/urgent"
)

// Leader election: the generated Role grants the Lease in weir-system, where
// config/ installs weir; another --leader-election-namespace needs its own.
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;create;update,namespace=weir-system,roleName=weir-leader-election

// leaderElectionID names the Lease the replicas of `weir controller` elect a
// leader with.
const leaderElectionID = "weir-controller.weir.dev"

// controllerFlags configure `weir controller`.
type controllerFlags struct {
	metricsAddr, probeAddr string
	pprofAddr              string
	leaderElect            bool
	leaderNamespace        string
	cacheDir               string
	concurrency            int
	qps                    float32
	burst                  int
	webhookAddr            string
	webhookSecret          string
	sources                source.Options
	charts                 helmrepo.Options
	renderMemoryBytes      int64
	analysisAllowedHosts   []string
	takeOverManagers       []string
	tenancy                identity.Policy
	driftPrevention        driftguard.Options
	clusters               remote.Options
}

func newControllerCommand(cluster *clusterFlags) *cobra.Command {
	f := &controllerFlags{}
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run the controller that keeps Applications in sync with Git",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runController(cmd, cluster, f)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&f.metricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint; 0 disables it")
	flags.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "address of the /healthz and /readyz endpoints; 0 disables them")
	flags.StringVar(&f.pprofAddr, "pprof-bind-address", "0", "address of Go's profiles (/debug/pprof/heap, /debug/pprof/profile, ...), for a developer; 0 disables them")
	flags.BoolVar(&f.leaderElect, "leader-elect", false, "elect a leader so that only one replica reconciles")
	flags.StringVar(&f.leaderNamespace, "leader-election-namespace", "", "namespace of the leader-election Lease (default: the pod's)")
	flags.StringVar(&f.cacheDir, "cache-dir", filepath.Join(os.TempDir(), "weir-sources"), "directory for Git checkouts and Helm charts")
	flags.IntVar(&f.concurrency, "concurrency", controller.DefaultConcurrency, "Applications synced at once")
	flags.Float32Var(&f.qps, "kube-api-qps", 0, "requests per second to the API server, sustained; 0 leaves the pace to the API server's Priority and Fairness when it has it (and 200 when it does not), a negative value sets no limit")
	flags.IntVar(&f.burst, "kube-api-burst", fallbackBurst, "requests to the API server in a burst, with a --kube-api-qps limit")
	flags.StringVar(&f.webhookAddr, "webhook-bind-address", ":9292", "address of the push webhook receiver (/hooks/github, /hooks/gitlab, /hooks/gitea, /hooks/generic); 0 disables it")
	flags.StringSliceVar(&f.analysisAllowedHosts, "analysis-allowed-hosts", nil, "hosts that Prometheus and web analysis metrics may reach, as names, addresses or *.domain (default: any host)")
	flags.StringSliceVar(&f.takeOverManagers, "take-over-managers", nil, "field managers whose fields weir takes over when it applies an object they wrote, besides "+strings.Join(apply.DefaultTakeOverManagers, ", "))
	flags.BoolVar(&f.driftPrevention.PreventByDefault, "prevent-drift", false, "have the API server refuse changes to the objects of Applications that leave spec.sync.preventDrift unset, by anyone but weir and the break-glass groups")
	flags.StringSliceVar(&f.driftPrevention.BreakGlassGroups, "break-glass-group", []string{driftguard.DefaultBreakGlassGroup}, "groups whose members may change the objects of Applications that prevent drift (repeat, or separate with commas)")
	flags.StringVar(&f.webhookSecret, "webhook-secret", "", "namespace/name of the Secret whose \"token\" key webhooks must be signed with; without it the receiver is off")
	flags.StringVar(&f.tenancy.DefaultServiceAccount, "default-service-account", "", "ServiceAccount, of each Application's or ApplicationSet's namespace, that weir impersonates for those that name none (default: weir's own identity, with which an ApplicationSet's clusters generator fails)")
	flags.BoolVar(&f.tenancy.NoCrossNamespaceRefs, "no-cross-namespace-refs", false, "refuse Applications and Rollouts that name another namespace than their own")
	flags.DurationVar(&f.clusters.Timeout, "remote-cluster-timeout", remote.DefaultTimeout, "longest a request to a remote cluster may take (watches aside); a cluster that does not answer in time is ClusterUnreachable")
	flags.Float32Var(&f.clusters.QPS, "remote-cluster-qps", remote.DefaultQPS, "requests per second to each remote cluster, sustained")
	flags.IntVar(&f.clusters.Burst, "remote-cluster-burst", remote.DefaultBurst, "requests to each remote cluster in a burst")
	addSourceFlags(flags, &f.sources)
	f.renderMemoryBytes = isolate.DefaultMaxMemoryBytes
	flags.Var(byteSize{&f.renderMemoryBytes}, "render-memory-limit", "memory each render may use in its child process, Go heap and added address space (a Kubernetes quantity); a render that needs more fails")
	f.charts.MaxCacheBytes = helmrepo.DefaultMaxCacheBytes
	flags.Var(byteSize{&f.charts.MaxCacheBytes}, "max-chart-cache-bytes", "size the cache of Helm charts from chart repositories is kept under, by removing the least recently used (a Kubernetes quantity)")
	return cmd
}

// addSourceFlags adds the flags that bound Git sources to flags.
func addSourceFlags(flags *pflag.FlagSet, o *source.Options) {
	o.Checkout = source.Limits{MaxBytes: source.DefaultMaxCheckoutBytes, MaxFiles: source.DefaultMaxCheckoutFiles}
	o.MaxCacheBytes = source.DefaultMaxCacheBytes
	flags.DurationVar(&o.ListingReuse, "git-listing-reuse", 10*time.Minute, "longest time Applications of one repository share a listing of its refs (each takes one at most half its interval old; a push webhook or `weir sync` asks for a new one); 0 lists for every Application")
	flags.BoolVar(&o.AllowFileSources, "allow-file-sources", false, "let Applications name Git repositories on the controller's disk (file:// URLs and paths); for local trials only")
	flags.Var(byteSize{&o.Checkout.MaxBytes}, "max-checkout-bytes", "largest total size of the files of one Git checkout (a Kubernetes quantity)")
	flags.IntVar(&o.Checkout.MaxFiles, "max-checkout-files", source.DefaultMaxCheckoutFiles, "most files, directories and links in one Git checkout")
	flags.Var(byteSize{&o.MaxCacheBytes}, "max-cache-bytes", "size the cache of Git repositories is kept under, by removing the least recently used (a Kubernetes quantity)")
	flags.DurationVar(&o.Timeout, "fetch-timeout", source.DefaultTimeout, "longest a Git fetch, or a revert pushed to Git, may take; also how long a fetch waits for another of the same repository")
}

// byteSize is a flag holding a number of bytes, written as a Kubernetes
// quantity ("128Mi", "2G", "1048576").
type byteSize struct{ n *int64 }

func (b byteSize) String() string {
	if b.n == nil {
		return "0"
	}
	return resource.NewQuantity(*b.n, resource.BinarySI).String()
}

func (b byteSize) Set(s string) error {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return err
	}
	if q.Sign() <= 0 {
		return fmt.Errorf("%s is not a positive size", s)
	}
	*b.n = q.Value()
	return nil
}

func (byteSize) Type() string { return "quantity" }

// urgentHold is the longest a routine request waits for drift heals under
// way (see package urgent): a heal takes two or three round trips.
const urgentHold = 250 * time.Millisecond

func runController(cmd *cobra.Command, cluster *clusterFlags, f *controllerFlags) error {
	cfg, err := cluster.restConfig()
	if err != nil {
		return err
	}
	log := newLogger(cmd.ErrOrStderr())
	ctrl.SetLogger(log)
	klog.SetLogger(log) // client-go's leader election logs through klog
	if err := setRateLimit(cmd.Context(), cfg, f.qps, f.burst); err != nil {
		return err
	}
	gate := urgent.New(urgentHold)
	cfg.Wrap(gate.Wrap)
	if cfg.QPS < 0 {
		log.Info("API requests are paced by the API server's Priority and Fairness, not by weir")
	} else {
		log.Info("API requests are limited by weir", "qps", cfg.QPS, "burst", cfg.Burst)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  newScheme(),
		Metrics:                 metricsserver.Options{BindAddress: f.metricsAddr},
		HealthProbeBindAddress:  f.probeAddr,
		PprofBindAddress:        f.pprofAddr,
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        leaderElectionID,
		LeaderElectionNamespace: f.leaderNamespace,
		// A replica that is stopped (SIGTERM, a rolling update) gives the
		// Lease up once its reconciles have ended, so that another takes
		// over at once instead of after the lease duration.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return err
	}
	opts := controller.Options{CacheDir: f.cacheDir, Concurrency: f.concurrency, Sources: f.sources, Charts: f.charts,
		RenderMemoryBytes: f.renderMemoryBytes}
	opts.AnalysisAllowedHosts = f.analysisAllowedHosts
	opts.TakeOverManagers = f.takeOverManagers
	opts.Tenancy = f.tenancy
	opts.DriftPrevention = f.driftPrevention
	opts.Clusters = f.clusters
	opts.Urgent = gate
	opts.Fetcher = source.NewFetcher(f.cacheDir, f.sources)
	if err := setupWebhook(mgr, f, &opts); err != nil {
		return err
	}
	if err := controller.Setup(mgr, opts); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	// Everything from here on runs from a small part of the binary that
	// start-up touched whole.
	if err := pageout.BinaryPages(); err != nil {
		log.Info("the pages of weir's binary that only its start needed stay resident", "reason", err.Error())
	}
	return mgr.Start(cmd.Context())
}

// setupWebhook adds the push webhook receiver to mgr, on every replica, and
// connects it to the reconciler through opts.Refresh.
func setupWebhook(mgr ctrl.Manager, f *controllerFlags, opts *controller.Options) error {
	if f.webhookAddr == "0" || f.webhookAddr == "" {
		return nil
	}
	if f.webhookSecret == "" {
		mgr.GetLogger().Info("the push webhook receiver is off: --webhook-secret is not set")
		return nil
	}
	secret, err := parseObjectKey(f.webhookSecret)
	if err != nil {
		return fmt.Errorf("--webhook-secret: %w", err)
	}
	refresh := make(chan event.GenericEvent)
	opts.Refresh = refresh
	return server.Setup(mgr, server.Options{BindAddress: f.webhookAddr, Secret: secret, Refresh: refresh,
		Invalidate: opts.Fetcher.Invalidate})
}

// parseObjectKey reads "namespace/name".
func parseObjectKey(s string) (client.ObjectKey, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(s)
	if err == nil && (ns == "" || name == "") {
		err = fmt.Errorf("%q is not namespace/name", s)
	}
	return client.ObjectKey{Namespace: ns, Name: name}, err
}
