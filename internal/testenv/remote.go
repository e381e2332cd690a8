package testenv

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"weir.dev/weir/internal/localcluster"
)

// remoteReadyTimeout bounds the start of each extra control plane: several
// start at once on a busy machine.
const remoteReadyTimeout = 5 * time.Minute

// remotes are the extra control planes MainWithRemotes started.
var remotes []*localcluster.Cluster

// MainWithRemotes is Main with n more control planes (about 600 MB each),
// started in parallel with the package's own, for tests of weir syncing to
// other clusters; Remote returns them. They are stopped after the tests.
func MainWithRemotes(m *testing.M, n int, setups ...Setup) {
	refuseRenderWorker()
	flag.Parse()
	if testing.Short() || n <= 0 {
		Main(m, setups...)
		return
	}
	started := make(chan error, 1)
	go func() {
		var err error
		remotes, err = startClusters(context.Background(), n)
		started <- err
	}()
	// Main starts the package's own cluster meanwhile; the setups run
	// after the remotes are up.
	Main(m, append([]Setup{awaitRemotes(started)}, setups...)...)
}

// awaitRemotes is a Setup that waits for the remotes, and stops them at
// teardown.
func awaitRemotes(started <-chan error) Setup {
	return func(*rest.Config) (func(), error) {
		err := <-started
		stop := func() {
			for _, c := range remotes {
				if err := c.Stop(); err != nil {
					fmt.Fprintln(os.Stderr, "testenv: stop a remote control plane:", err)
				}
			}
		}
		if err != nil {
			stop()
			return nil, fmt.Errorf("start the remote control planes: %w", err)
		}
		return stop, nil
	}
}

// startClusters starts n control planes at once, with the package's
// binaries, and stops them all if one fails.
func startClusters(ctx context.Context, n int) ([]*localcluster.Cluster, error) {
	opts, err := localcluster.DefaultBuildOptions(".")
	if err != nil {
		return nil, err
	}
	binaries, err := localcluster.Build(ctx, opts)
	if err != nil {
		return nil, err
	}
	clusters := make([]*localcluster.Cluster, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			clusters[i], errs[i] = localcluster.Start(ctx, localcluster.Options{Binaries: binaries, ReadyTimeout: remoteReadyTimeout})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, c := range clusters {
			if c != nil {
				err = errors.Join(err, c.Stop())
			}
		}
		return nil, err
	}
	return clusters, nil
}

// Remote returns the i-th control plane that MainWithRemotes started,
// skipping the test when there is none.
func Remote(t testing.TB, i int) *localcluster.Cluster {
	t.Helper()
	Cluster(t)
	if i >= len(remotes) {
		t.Skipf("needs remote control plane %d; TestMain started %d", i, len(remotes))
	}
	return remotes[i]
}

// StartCluster starts a control plane of the test's own (to stop its API
// server, say), stopped when the test ends.
func StartCluster(t testing.TB) *localcluster.Cluster {
	t.Helper()
	Cluster(t)
	c, err := localcluster.Start(t.Context(), localcluster.Options{Binaries: env.binaries, ReadyTimeout: remoteReadyTimeout})
	if err != nil {
		t.Fatalf("start a control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop the control plane: %v", err)
		}
	})
	return c
}

// Kubeconfig returns a kubeconfig for c's admin with every credential
// inline (CA, client certificate and key), as a Secret that registers c
// as a remote cluster holds it.
func Kubeconfig(t testing.TB, c *localcluster.Cluster) []byte {
	t.Helper()
	read := func(path string) []byte {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	const name = "remote"
	kc := clientcmdapi.NewConfig()
	kc.Clusters[name] = &clientcmdapi.Cluster{Server: c.Config.Host, CertificateAuthorityData: read(c.Config.CAFile)}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: read(c.Config.CertFile), ClientKeyData: read(c.Config.KeyFile)}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	kc.CurrentContext = name
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
