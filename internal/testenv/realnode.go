package testenv

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"weir.dev/weir/internal/localcluster"
)

// realNodeTurnFile is locked by the test process whose turn it is to run
// the machine's one real node.
var realNodeTurnFile = filepath.Join(os.TempDir(), "weir-real-node-turn.lock")

// realNodeTurn counts the tests of this process that hold the turn, so
// that a test may start a second real-node cluster in its turn.
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
	realNodeTurn.Lock()
	defer realNodeTurn.Unlock()
	if realNodeTurn.holders == 0 {
		f, err := os.OpenFile(realNodeTurnFile, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			_ = f.Close()
			t.Fatalf("wait for the real node's turn (%s): %v", realNodeTurnFile, err)
		}
		realNodeTurn.file = f
	}
	realNodeTurn.holders++
	// Registered first, so that it runs after the cleanups that stop the
	// test's clusters.
	t.Cleanup(func() {
		realNodeTurn.Lock()
		defer realNodeTurn.Unlock()
		if realNodeTurn.holders--; realNodeTurn.holders == 0 {
			_ = realNodeTurn.file.Close()
		}
	})
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
