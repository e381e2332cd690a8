package multicluster

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// idleWait is how long the controller rests before its memory is read.
const idleWait = 10 * time.Second

// BenchmarkRemoteClusterIdleRSS measures what each remote cluster that
// weir watches costs the controller at rest: the growth of this process's
// RSS and Go heap in use (the controller runs in it) when an Application
// of a Deployment, a Service and a ConfigMap syncs to each of the remote
// clusters, over the same with one such Application on weir's own
// cluster, each read after a rest of idleWait and a forced GC.
//
//	go test -run '^$' -bench RemoteClusterIdleRSS -benchtime 1x ./test/multicluster
func BenchmarkRemoteClusterIdleRSS(b *testing.B) {
	files := map[string]string{
		"deployment.yaml": fixture.Deployment("web", 1, "registry.example/web:1"),
		"service.yaml":    fixture.Service("web"),
		"settings.yaml":   fixture.ConfigMap("settings", "color", "blue"),
	}
	for range b.N {
		local := givenLocal(b, files)
		local.whenApplication("", nil)
		local.thenApplied(local.repo.Git("rev-parse", "HEAD"), 2*time.Minute)
		rssBefore, heapBefore := idleMemory(b)
		for i := range remoteClusters {
			s := givenRemote(b, testenv.Remote(b, i), files)
			s.whenApplication("remote", nil)
			s.thenApplied(s.repo.Git("rev-parse", "HEAD"), 2*time.Minute)
		}
		rssAfter, heapAfter := idleMemory(b)
		b.ReportMetric((rssAfter-rssBefore)/remoteClusters, "RSS-MiB/cluster")
		b.ReportMetric((heapAfter-heapBefore)/remoteClusters, "heap-MiB/cluster")
		b.ReportMetric(rssAfter, "RSS-MiB")
	}
}

// idleMemory returns this process's RSS and Go heap in use, in MiB, after
// a rest and a forced GC.
func idleMemory(b *testing.B) (rss, heap float64) {
	b.Helper()
	time.Sleep(idleWait)
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return rssMiB(b), float64(ms.HeapInuse) / (1 << 20)
}

// rssMiB is this process's resident set size in MiB.
func rssMiB(b *testing.B) float64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal(fmt.Errorf("no VmRSS in /proc/self/status"))
	return 0
}
