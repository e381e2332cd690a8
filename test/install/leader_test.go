package install

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// TestLeaderHandOver runs two replicas of `weir controller` that elect a
// leader: only the leader syncs. Stopped with SIGTERM, as Kubernetes stops
// a pod, the leader exits cleanly and gives the Lease up on its way out,
// and the other replica takes over and applies the next commit.
func TestLeaderHandOver(t *testing.T) {
	install(t)
	bin := buildWeir(t)
	leaseNamespace := testenv.Namespace(t)
	c := testenv.Client(t, weirv1.AddToScheme, coordinationv1.AddToScheme)
	replicas := []*replica{
		startReplica(t, bin, "replica-a", leaseNamespace),
		startReplica(t, bin, "replica-b", leaseNamespace),
	}
	leader, follower := awaitLeader(t, replicas)
	holder := leaseHolder(t, c, leaseNamespace)

	repo := newAppRepo(t)
	ns := testenv.Namespace(t)
	app := newApplication(t, c, ns, repo.URL(), "")
	first := repo.Head()
	awaitApplication(t, c, app, readyAt(first))
	if !leader.logged(`msg="sync started"`, "namespace="+ns, first) {
		t.Errorf("the leader, %s, did not log the sync of %s", leader.name, first)
	}
	if follower.logged(`msg="sync started"`, "namespace="+ns) {
		t.Errorf("the follower, %s, synced although it is not the leader", follower.name)
	}

	leader.stop(t)
	if now := leaseHolder(t, c, leaseNamespace); now == holder {
		t.Errorf("the Lease still names the stopped leader %q: it was not released", holder)
	}
	repo.Write("release.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-release\ndata:\n  version: \"2\"\n")
	second := repo.Commit("release 2")
	testenv.Eventually(t, time.Minute, follower.name+" takes the Lease over", func(context.Context) error {
		return follower.expectLogged(`msg="Successfully acquired lease"`)
	})
	awaitApplication(t, c, app, readyAt(second))
	if !follower.logged(`msg="sync started"`, "namespace="+ns, second) {
		t.Errorf("the new leader, %s, did not log the sync of %s", follower.name, second)
	}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shop-release"}, &corev1.ConfigMap{}); err != nil {
		t.Errorf("the ConfigMap of the second commit: %v", err)
	}
}

// buildWeir builds the weir command into a temporary directory.
func buildWeir(t *testing.T) string {
	t.Helper()
	return testenv.BuildWeir(t)
}

// replica is a `weir controller` process with its log in a file.
type replica struct {
	name    string
	logFile string
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error // of the exit, once exited is closed
}

// startReplica starts `weir controller` as a cluster administrator, with
// leader election in namespace leaseNamespace and its own Git cache. The
// process is killed when the test ends, and its log shown if it failed.
func startReplica(t *testing.T, bin, name, leaseNamespace string) *replica {
	t.Helper()
	return startProcess(t, bin, name, "--leader-elect", "--leader-election-namespace="+leaseNamespace)
}

// startProcess starts `weir controller` as a cluster administrator with
// its own Git cache and the extra flags; see startReplica.
func startProcess(t *testing.T, bin, name string, flags ...string) *replica {
	t.Helper()
	dir := t.TempDir()
	r := &replica{name: name, logFile: filepath.Join(dir, "weir.log"), exited: make(chan struct{})}
	log, err := os.Create(r.logFile)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--kubeconfig=" + testenv.Cluster(t).Kubeconfig, "controller",
		"--metrics-bind-address=0", "--health-probe-bind-address=0", "--webhook-bind-address=0",
		"--allow-file-sources", "--cache-dir=" + filepath.Join(dir, "cache")}, flags...)
	r.cmd = exec.Command(bin, args...)
	r.cmd.Stdout, r.cmd.Stderr = log, log
	if err := r.cmd.Start(); err != nil {
		log.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		r.err = r.cmd.Wait()
		log.Close()
		close(r.exited)
	}()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill() // fails once it has exited
		<-r.exited
		if t.Failed() {
			t.Logf("log of %s:\n%s", name, r.log())
		}
	})
	return r
}

// stop sends SIGTERM and waits until the process exits, which it must do
// cleanly.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", r.name, err)
	}
	select {
	case <-r.exited:
		if r.err != nil {
			t.Errorf("%s exited with %v after SIGTERM", r.name, r.err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("%s has not exited a minute after SIGTERM", r.name)
	}
}

// kill sends SIGKILL, as a node that dies would, and waits for the exit.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatalf("SIGKILL %s: %v", r.name, err)
	}
	<-r.exited
}

func (r *replica) log() string {
	data, err := os.ReadFile(r.logFile)
	if err != nil {
		return err.Error()
	}
	return string(data)
}

// logged reports whether one line of the log holds all parts.
func (r *replica) logged(parts ...string) bool {
	return slices.ContainsFunc(strings.Split(r.log(), "\n"), func(line string) bool {
		return !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) })
	})
}

// expectLogged is logged as an error for Eventually.
func (r *replica) expectLogged(parts ...string) error {
	if !r.logged(parts...) {
		return fmt.Errorf("%s has not logged %q", r.name, parts)
	}
	return nil
}

// awaitLeader waits until one of two replicas is elected and returns it
// and the other.
func awaitLeader(t *testing.T, replicas []*replica) (leader, follower *replica) {
	t.Helper()
	testenv.Eventually(t, time.Minute, "a leader elected", func(context.Context) error {
		for i, r := range replicas {
			if r.logged(`msg="Successfully acquired lease"`) {
				leader, follower = r, replicas[1-i]
				return nil
			}
		}
		return errors.New("no replica has acquired the Lease")
	})
	return leader, follower
}

// leaseHolder returns who holds weir's leader-election Lease in ns.
func leaseHolder(t *testing.T, c client.Client, ns string) string {
	t.Helper()
	lease := &coordinationv1.Lease{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "weir-controller.weir.dev"}, lease); err != nil {
		t.Fatalf("get the leader-election Lease: %v", err)
	}
	if lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}
