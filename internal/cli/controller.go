package cli

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"weir.dev/weir/internal/controller"
)

// controllerFlags configure `weir controller`.
type controllerFlags struct {
	metricsAddr, probeAddr string
	leaderElect            bool
	leaderNamespace        string
	cacheDir               string
	concurrency            int
	qps                    float32
	burst                  int
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
	flags.BoolVar(&f.leaderElect, "leader-elect", false, "elect a leader so that only one replica reconciles")
	flags.StringVar(&f.leaderNamespace, "leader-election-namespace", "", "namespace of the leader-election Lease (default: the pod's)")
	flags.StringVar(&f.cacheDir, "cache-dir", filepath.Join(os.TempDir(), "weir-sources"), "directory for Git checkouts and Helm charts")
	flags.IntVar(&f.concurrency, "concurrency", 4, "Applications synced at once")
	flags.Float32Var(&f.qps, "kube-api-qps", 50, "requests per second to the API server, sustained")
	flags.IntVar(&f.burst, "kube-api-burst", 300, "requests to the API server in a burst")
	return cmd
}

func runController(cmd *cobra.Command, cluster *clusterFlags, f *controllerFlags) error {
	cfg, err := cluster.restConfig()
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = f.qps, f.burst
	ctrl.SetLogger(newLogger(cmd.ErrOrStderr()))
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  newScheme(),
		Metrics:                 metricsserver.Options{BindAddress: f.metricsAddr},
		HealthProbeBindAddress:  f.probeAddr,
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        "weir-controller.weir.dev",
		LeaderElectionNamespace: f.leaderNamespace,
	})
	if err != nil {
		return err
	}
	if err := controller.Setup(mgr, controller.Options{CacheDir: f.cacheDir, Concurrency: f.concurrency}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	return mgr.Start(cmd.Context())
}
