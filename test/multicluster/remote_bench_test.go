package multicluster

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
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

// BenchmarkRemoteRolloutsIdleMemory measures what driving the Rollouts
// of a remote cluster costs the controller at rest: the growth of this
// process's RSS and Go heap in use when an Application that syncs a
// Deployment and a Service to a remote cluster adds a Rollout of the
// Deployment, which starts the cluster's Rollout controller and the cache
// it watches them through, each read after a rest of idleWait and a forced
// GC.
//
//	go test -run '^$' -bench RemoteRolloutsIdleMemory -benchtime 1x ./test/multicluster
func BenchmarkRemoteRolloutsIdleMemory(b *testing.B) {
	for range b.N {
		remote := testenv.Remote(b, 0)
		installWeirCRDs(b, remote)
		s := givenRemote(b, remote, map[string]string{
			"web.yaml": fixture.Deployment("web", 1, "registry.example/web:1"),
			"svc.yaml": fixture.Service("web"),
		})
		s.whenApplication("remote", nil)
		s.thenApplied(s.repo.Head(), 2*time.Minute)
		rssBefore, heapBefore := idleMemory(b)
		sha := s.commit("a Rollout", map[string]string{"rollout.yaml": canaryRollout("      - setWeight: 50\n", "")})
		s.thenApplied(sha, 2*time.Minute)
		s.thenRolloutIdle("registry.example/web:1")
		rssAfter, heapAfter := idleMemory(b)
		b.ReportMetric(rssAfter-rssBefore, "RSS-MiB")
		b.ReportMetric(heapAfter-heapBefore, "heap-MiB")
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

// spreadApplications is how many Applications BenchmarkRemoteClustersRSS
// spreads over weir's cluster and the remote ones.
const spreadApplications = 100

// BenchmarkRemoteClustersRSS measures the controller's RSS and Go heap at
// rest with 100 Applications of a Deployment and a ConfigMap spread
// evenly over weir's own cluster and the two remote ones, and the time
// from their creation until all are Ready.
//
//	go test -run '^$' -bench RemoteClustersRSS -benchtime 1x -timeout 30m ./test/multicluster
func BenchmarkRemoteClustersRSS(b *testing.B) {
	for range b.N {
		ns := testenv.Namespace(b)
		local := testenv.Client(b, weirv1.AddToScheme)
		clusters := []string{""}
		for i := range remoteClusters {
			remote := testenv.Remote(b, i)
			name := fmt.Sprintf("remote-%d", i)
			registerCluster(b, ns, name, remote, nil)
			createRemoteNamespace(b, remoteClient(b, remote), ns)
			clusters = append(clusters, name)
		}
		repo := testenv.NewGitRepo(b)
		for i := range spreadApplications {
			repo.Write(fmt.Sprintf("apps/%d/deployment.yaml", i), fixture.Deployment(fmt.Sprintf("web-%d", i), 1, "registry.example/web:1"))
			repo.Write(fmt.Sprintf("apps/%d/settings.yaml", i), fixture.ConfigMap(fmt.Sprintf("settings-%d", i), "color", "blue"))
		}
		repo.Commit("100 apps")
		started := time.Now()
		for i := range spreadApplications {
			app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("app-%d", i)}}
			app.Spec.Source = weirv1.GitSource{URL: repo.URL(), Path: fmt.Sprintf("apps/%d", i)}
			if cluster := clusters[i%len(clusters)]; cluster != "" {
				app.Spec.Destination.Cluster = &weirv1.ClusterReference{SecretRef: weirv1.LocalObjectReference{Name: cluster}}
			}
			if err := local.Create(b.Context(), app); err != nil {
				b.Fatal(err)
			}
		}
		testenv.Eventually(b, 20*time.Minute, "every Application Ready", func(ctx context.Context) error {
			var apps weirv1.ApplicationList
			if err := local.List(ctx, &apps, client.InNamespace(ns)); err != nil {
				return err
			}
			ready := 0
			for _, app := range apps.Items {
				if conditionStatus(&app, weirv1.ReadyCondition) == metav1.ConditionTrue {
					ready++
				}
			}
			if ready < spreadApplications {
				return fmt.Errorf("%d of %d Ready", ready, spreadApplications)
			}
			return nil
		})
		b.ReportMetric(time.Since(started).Seconds(), "all-ready-s")
		rss, heap := idleMemory(b)
		b.ReportMetric(rss, "RSS-MiB")
		b.ReportMetric(heap, "heap-MiB")
	}
}
