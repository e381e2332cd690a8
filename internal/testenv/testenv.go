// Package testenv gives integration tests a real Kubernetes control plane,
// like controller-runtime's envtest: one local cluster per test package,
// started from TestMain, and a fresh namespace for each test.
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		ns := testenv.Namespace(t)
//		c := testenv.Client(t)
//		...
//	}
package testenv

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/internal/localcluster"
)

// renderWorkerEnv is the environment variable with which package isolate
// starts a render worker. Package isolate imports render, whose tests use
// testenv, so testenv only refuses it.
const renderWorkerEnv = "WEIR_RENDER_WORKER"

// env is the package's shared cluster. Tests in one package share it the way
// envtest suites do; Main sets it before any test runs.
var env struct {
	cluster  *localcluster.Cluster
	binaries localcluster.Binaries
	// skip says why there is no cluster, for the tests that need one.
	skip string
}

// Setup runs once the cluster is up, before the tests (to start a
// controller, say); the returned teardown runs after them.
type Setup func(cfg *rest.Config) (teardown func(), err error)

// Main builds (or finds cached) control-plane binaries, starts a cluster,
// runs setups and the package's tests, and stops the cluster. With -short,
// no cluster is started and tests that need one are skipped.
func Main(m *testing.M, setups ...Setup) {
	refuseRenderWorker()
	flag.Parse()
	os.Exit(run(m, startCluster, setups))
}

// MainRealNode is Main with a cluster that has a real node (see RealNode),
// shared by the package's tests: it waits for the real node's turn and
// keeps it until the tests end. Where the machine cannot run a real node
// (not root, packages missing), no cluster is started and tests that need
// one are skipped, unless CI is set: CI installs what a real node needs.
func MainRealNode(m *testing.M, setups ...Setup) {
	refuseRenderWorker()
	flag.Parse()
	os.Exit(run(m, startRealNodeCluster, setups))
}

// refuseRenderWorker exits when the test binary was started by
// isolate.Renderer to render, which a TestMain that does not call
// isolate.ServeIfWorker first cannot do.
func refuseRenderWorker() {
	if os.Getenv(renderWorkerEnv) != "" {
		fmt.Fprintln(os.Stderr, "testenv: started as a render worker, but TestMain does not call isolate.ServeIfWorker before testenv.Main")
		os.Exit(2)
	}
}

// clusterStarter starts the package's cluster and returns how to stop it,
// or a nil stop and the reason there is none.
type clusterStarter func(ctx context.Context) (stop func(), skip string, err error)

func run(m *testing.M, start clusterStarter, setups []Setup) int {
	if testing.Short() {
		env.skip = "not started under -short"
		return m.Run()
	}
	stop, skip, err := start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv: start the local control plane:", err)
		return 1
	}
	if stop == nil {
		env.skip = skip
		return m.Run()
	}
	defer stop()
	for _, setup := range setups {
		teardown, err := setup(rest.CopyConfig(env.cluster.Config))
		if err != nil {
			fmt.Fprintln(os.Stderr, "testenv: setup:", err)
			return 1
		}
		defer teardown()
	}
	return m.Run()
}

// startCluster starts a cluster of kwok nodes.
func startCluster(ctx context.Context) (func(), string, error) {
	opts, err := localcluster.DefaultBuildOptions(".")
	if err == nil {
		opts.Log = os.Stderr
		env.binaries, err = localcluster.Build(ctx, opts)
	}
	if err == nil {
		env.cluster, err = localcluster.Start(ctx, localcluster.Options{Binaries: env.binaries})
	}
	if err != nil {
		return nil, "", err
	}
	return stopCluster, "", nil
}

func stopCluster() {
	if err := env.cluster.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: stop the local control plane:", err)
	}
}

// Cluster returns the package's running cluster, skipping the test under -short.
func Cluster(t testing.TB) *localcluster.Cluster {
	t.Helper()
	if env.cluster == nil {
		why := env.skip
		if why == "" {
			why = "testenv.Main not called"
		}
		t.Skip("needs the local control plane: " + why)
	}
	return env.cluster
}

// Binaries returns the control-plane binaries the cluster runs.
func Binaries(t testing.TB) localcluster.Binaries {
	Cluster(t)
	return env.binaries
}

// Config returns an admin client configuration for the cluster.
func Config(t testing.TB) *rest.Config {
	t.Helper()
	return rest.CopyConfig(Cluster(t).Config)
}

// Scheme holds the built-in Kubernetes types; tests add their own to a copy.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// Client returns an admin controller-runtime client for the cluster, with
// the built-in types and any added by addToScheme.
func Client(t testing.TB, addToScheme ...func(*runtime.Scheme) error) client.Client {
	t.Helper()
	scheme := Scheme()
	for _, add := range addToScheme {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	c, err := client.New(Config(t), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Namespace creates a namespace for the test and deletes it when the test ends.
func Namespace(t testing.TB) string {
	t.Helper()
	c := Client(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	if err := c.Create(context.Background(), ns); err != nil {
		t.Fatalf("create test namespace: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Delete(ctx, ns)
	})
	return ns.Name
}

// Context returns a context that ends with the test or after timeout.
func Context(t testing.TB, timeout time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}
