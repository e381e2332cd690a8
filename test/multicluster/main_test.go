// Package multicluster tells the stories of one weir and several clusters:
// the package's control plane runs weir, two more are remote clusters
// that Applications name by their kubeconfig Secrets.
package multicluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/cluster"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/isolate"
	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/harness"
)

// controllerLog collects everything the controller logs, so that tests can
// assert that no credential ever reaches it.
var controllerLog harness.LogBuffer

// remoteClusters is how many control planes TestMain starts beside weir's.
const remoteClusters = 2

func TestMain(m *testing.M) {
	// The controller renders in this binary, re-executed.
	isolate.ServeIfWorker()
	testenv.MainWithRemotes(m, remoteClusters, installCRDs, startController)
}

// installCRDs installs every CRD of weir: each of its controllers waits
// for its kind to be served, and the manager stops when one waits too
// long.
func installCRDs(cfg *rest.Config) (func(), error) {
	files, err := filepath.Glob("../../config/crd/bases/*.yaml")
	if err != nil {
		return nil, err
	}
	return func() {}, testenv.InstallCRDFiles(cfg, files...)
}

// startController runs weir's controllers against the package's own
// control plane, as `weir controller` does.
func startController(cfg *rest.Config) (func(), error) {
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(&controllerLog, nil)))
	scheme := testenv.Scheme()
	if err := weirv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, err
	}
	cacheDir, err := os.MkdirTemp("", "weir-multicluster-sources-")
	if err != nil {
		return nil, err
	}
	sources := source.Options{AllowFileSources: true, Timeout: 30 * time.Second}
	// A remote cluster that never answers is given up on within the
	// tests' waits.
	clusters := cluster.Options{Timeout: 5 * time.Second}
	if err := controller.Setup(mgr, controller.Options{CacheDir: cacheDir, Sources: sources, Clusters: clusters}); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "multicluster: the controller stopped:", err)
		}
	}()
	return func() {
		cancel()
		<-done
		_ = os.RemoveAll(cacheDir)
	}, nil
}

// registerCluster creates, in namespace ns, the Secret named name that
// registers remote as a cluster: its kubeconfig under "value", with
// labels.
func registerCluster(t testing.TB, ns, name string, remote *localcluster.Cluster, labels map[string]string) {
	t.Helper()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Data:       map[string][]byte{weirv1.ClusterKubeconfigKey: testenv.Kubeconfig(t, remote)},
	}
	if err := testenv.Client(t).Create(t.Context(), secret); err != nil {
		t.Fatalf("register cluster %s: %v", name, err)
	}
}

// remoteClient is an admin client of remote, with weir's types.
func remoteClient(t testing.TB, remote *localcluster.Cluster) client.Client {
	t.Helper()
	scheme := testenv.Scheme()
	if err := weirv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(rest.CopyConfig(remote.Config), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
