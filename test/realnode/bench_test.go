package realnode

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/testenv"
)

// nodeComponents are the node's processes whose memory node-RSS-MiB adds up.
var nodeComponents = []string{"containerd", "kubelet", "kube-proxy", "coredns"}

// BenchmarkRealNodeStart starts a cluster with a real node: ns/op is the
// whole start, node-s the part from the node's first process to the node
// Ready with CoreDNS serving, pod-ready-s the time from creating a pod on
// it to the pod Ready, node-RSS-MiB the memory of containerd, the kubelet,
// kube-proxy and CoreDNS with that pod running, pod-RSS-MiB the pod's
// processes (its server and the sandbox's pause).
func BenchmarkRealNodeStart(b *testing.B) {
	bins := testenv.RealNodeTurn(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		dir, err := os.MkdirTemp("", "weir-node-")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c, err := localcluster.Start(ctx, localcluster.Options{Binaries: bins, Dir: dir, RealNode: true, WaitForNode: true})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(secondsSince(b, pidOf(c, "node-namespace")), "node-s")
		measurePod(b, ctx, realCluster{c, bins})
		if err := c.Stop(); err != nil {
			b.Fatal(err)
		}
		_ = os.RemoveAll(dir)
	}
}

// measurePod reports how long a hello pod takes to be Ready, and the memory
// of the node and of the pod then.
func measurePod(b *testing.B, ctx context.Context, c realCluster) {
	loadHelloImage(b, ctx, c)
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	createHello(b, ctx, client, metav1.NamespaceDefault, 1)
	waitAvailable(b, ctx, client, metav1.NamespaceDefault, "app=hello", 1)
	b.ReportMetric(time.Since(start).Seconds(), "pod-ready-s")
	var node, pod float64
	for _, name := range nodeComponents {
		node += rssMiB(pidOf(c.Cluster, name))
	}
	for _, pid := range podPIDs("") {
		pod += rssMiB(pid)
	}
	b.ReportMetric(node, "node-RSS-MiB")
	b.ReportMetric(pod, "pod-RSS-MiB")
}

func pidOf(c *localcluster.Cluster, name string) int {
	for _, p := range c.Processes {
		if p.Name == name {
			return p.PID
		}
	}
	return 0
}

// secondsSince returns how long ago process pid started.
func secondsSince(b *testing.B, pid int) float64 {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	// starttime, in clock ticks after boot, is the 20th field after the
	// command name.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	ticks, err := strconv.ParseFloat(fields[19], 64)
	if err != nil {
		b.Fatal(err)
	}
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		b.Fatal(err)
	}
	now, err := strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	if err != nil {
		b.Fatal(err)
	}
	const userHZ = 100 // sysconf(_SC_CLK_TCK) on Linux
	return now - ticks/userHZ
}

// rssMiB is the resident memory of pid.
func rssMiB(pid int) float64 {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// podPIDs are the processes in the kubelet's cgroups of the pod whose UID
// is uid, or of every pod when uid is empty (of the memory hierarchy under
// cgroup v1, of the one hierarchy under v2).
func podPIDs(uid string) []int {
	var pids []int
	for _, root := range []string{"/sys/fs/cgroup/memory/kubepods", "/sys/fs/cgroup/kubepods"} {
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.Name() != "cgroup.procs" || !strings.Contains(path, "/pod"+uid) {
				return nil
			}
			data, _ := os.ReadFile(path)
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil {
					pids = append(pids, pid)
				}
			}
			return nil
		})
		if len(pids) > 0 {
			break
		}
	}
	return pids
}
