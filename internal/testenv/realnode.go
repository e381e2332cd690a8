package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"weir.dev/weir/internal/localcluster"
)

// realNodeTurnFile is locked (flock) by the process whose turn it is to
// run the machine's one real node: a test binary, or hack/quickstart.sh.
var realNodeTurnFile = filepath.Join(os.TempDir(), "weir-real-node-turn.lock")

// realNodeTurn counts the holders of the turn in this process (tests, and
// MainRealNode for a whole package), so that one may start a second
// real-node cluster in the turn of another.
var realNodeTurn struct {
	sync.Mutex
	holders int
	file    *os.File
}

// RealNodeTurn waits until no test of another package runs a real node,
// keeps the turn until t ends (so that t may stop its cluster and check
// what is left before another node starts), and returns the binaries of a
// cluster with a real node, built if need be. It skips t under -short and
// where the machine cannot run a real node (not root, packages missing),
// unless CI is set: CI installs what a real node needs.
func RealNodeTurn(t testing.TB) localcluster.Binaries {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a cluster with a real node")
	}
	if err := localcluster.CheckRealNodeHost(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	takeRealNodeTurn(t)
	opts, err := localcluster.DefaultBuildOptions(".")
	if err != nil {
		t.Fatal(err)
	}
	opts.RealNode, opts.Log = true, os.Stderr
	bins, err := localcluster.Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return bins
}

func takeRealNodeTurn(t testing.TB) {
	t.Helper()
	if err := holdRealNodeTurn(); err != nil {
		t.Fatal(err)
	}
	// Registered first, so that it runs after the cleanups that stop the
	// test's clusters.
	t.Cleanup(releaseRealNodeTurn)
}

// holdRealNodeTurn waits for the real node's turn, unless this process
// holds it already, and counts one more holder.
func holdRealNodeTurn() error {
	realNodeTurn.Lock()
	defer realNodeTurn.Unlock()
	if realNodeTurn.holders == 0 {
		f, err := os.OpenFile(realNodeTurnFile, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			_ = f.Close()
			return fmt.Errorf("wait for the real node's turn (%s): %w", realNodeTurnFile, err)
		}
		realNodeTurn.file = f
	}
	realNodeTurn.holders++
	return nil
}

// releaseRealNodeTurn counts one holder less, and gives the turn up after
// the last.
func releaseRealNodeTurn() {
	realNodeTurn.Lock()
	defer realNodeTurn.Unlock()
	if realNodeTurn.holders--; realNodeTurn.holders == 0 {
		_ = realNodeTurn.file.Close()
	}
}

// startRealNodeCluster starts the package's cluster with a real node for
// MainRealNode, in the real node's turn.
func startRealNodeCluster(ctx context.Context) (func(), string, error) {
	if err := localcluster.CheckRealNodeHost(); err != nil {
		if os.Getenv("CI") != "" {
			return nil, "", err
		}
		return nil, err.Error(), nil
	}
	if err := holdRealNodeTurn(); err != nil {
		return nil, "", err
	}
	stop, err := startRealNodeInTurn(ctx)
	if err != nil {
		releaseRealNodeTurn()
		return nil, "", err
	}
	return func() {
		stop()
		releaseRealNodeTurn()
	}, "", nil
}

func startRealNodeInTurn(ctx context.Context) (func(), error) {
	opts, err := localcluster.DefaultBuildOptions(".")
	if err != nil {
		return nil, err
	}
	opts.RealNode, opts.Log = true, os.Stderr
	if env.binaries, err = localcluster.Build(ctx, opts); err != nil {
		return nil, err
	}
	// Not a long temporary path: containerd's socket paths must stay short.
	dir, err := os.MkdirTemp("", "weir-node-")
	if err != nil {
		return nil, err
	}
	env.cluster, err = localcluster.Start(ctx, localcluster.Options{Binaries: env.binaries, Dir: dir, RealNode: true, WaitForNode: true})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return func() {
		stopCluster()
		_ = os.RemoveAll(dir)
	}, nil
}

// RealNode starts a cluster with a real node for t (see RealNodeTurn),
// stopped when t ends, and returns it with its binaries. Pods reach the
// real node by localcluster.RealNodeLabel and its toleration; images are
// loaded with Cluster.LoadImage.
func RealNode(t testing.TB) (*localcluster.Cluster, localcluster.Binaries) {
	t.Helper()
	bins := RealNodeTurn(t)
	// Not t.TempDir: containerd's socket paths must stay short.
	dir, err := os.MkdirTemp("", "weir-node-")
	if err != nil {
		t.Fatal(err)
	}
	c, err := localcluster.Start(context.Background(), localcluster.Options{Binaries: bins, Dir: dir, RealNode: true, WaitForNode: true})
	if err != nil {
		_ = os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop the cluster with a real node: %v", err)
		}
		_ = os.RemoveAll(dir)
	})
	return c, bins
}
