package e2e

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	typedappsv1 "k8s.io/client-go/kubernetes/typed/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// fiftyObjects is an app of 50 objects: 10 Deployments, 10 Services and 30
// ConfigMaps, in 10 files; gen changes every ConfigMap's value.
func fiftyObjects(gen int) map[string]string {
	files := map[string]string{}
	for i := range 10 {
		name := fmt.Sprintf("svc-%d", i)
		docs := []string{fixture.Deployment(name, 1, "nginx:1.27"), fixture.Service(name)}
		for j := range 3 {
			docs = append(docs, fixture.ConfigMap(fmt.Sprintf("%s-cfg-%d", name, j), "gen", fmt.Sprint(gen)))
		}
		files[name+".yaml"] = strings.Join(docs, "---\n")
	}
	return files
}

// BenchmarkCommitToApplied50 measures a commit's way into the cluster for a
// 50-object app: `weir sync` after the commit, until the Application is
// Ready at it.
func BenchmarkCommitToApplied50(b *testing.B) {
	s := given(b, fiftyObjects(0))
	s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Sync.Interval = &metav1.Duration{Duration: time.Hour} })
	s.thenApplied(s.repo.Head())
	b.ResetTimer()
	for i := range b.N {
		sha := s.commit(fmt.Sprintf("gen %d", i+1), fiftyObjects(i+1))
		s.weir("sync", "shop")
		s.thenApplied(sha)
	}
}

// BenchmarkControllerMemory100Apps syncs 100 apps of 50 objects each and
// reports the controller's live heap once they are all Ready. It returns
// once their namespaces are gone, so that the benchmarks after it do not
// share the controller and the API server with 5,000 objects.
func BenchmarkControllerMemory100Apps(b *testing.B) {
	c := testenv.Client(b, weirv1.AddToScheme)
	var namespaces []string
	b.Cleanup(func() { awaitNamespacesGone(b, c, namespaces) }) // runs after the namespaces' own cleanups
	for range b.N {
		repo := testenv.NewGitRepo(b)
		for path, content := range fiftyObjects(0) {
			repo.Write(path, content)
		}
		sha := repo.Commit("fifty objects")
		var apps []*story
		for range 100 {
			s := &story{t: b, repo: repo, ns: testenv.Namespace(b), c: c}
			namespaces = append(namespaces, s.ns)
			s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Sync.Interval = &metav1.Duration{Duration: time.Minute} })
			apps = append(apps, s)
		}
		start := time.Now()
		for _, s := range apps {
			s.thenApplied(sha)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s-to-all-ready")
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		b.ReportMetric(float64(m.HeapInuse)/(1<<20), "MiB-heap-inuse")
		b.ReportMetric(cpuShareAtRest(b, 60*time.Second)*100, "%-cpu-at-rest")
	}
}

// awaitNamespacesGone waits until the namespaces are deleted.
func awaitNamespacesGone(b *testing.B, c client.Client, namespaces []string) {
	testenv.Eventually(b, 5*time.Minute, "the benchmark's namespaces deleted", func(ctx context.Context) error {
		for _, ns := range namespaces {
			err := c.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
			if err == nil {
				return fmt.Errorf("namespace %s is still there", ns)
			}
			if client.IgnoreNotFound(err) != nil {
				return err
			}
		}
		return nil
	})
}

// cpuShareAtRest is the share of one core the test process (the controller,
// at rest: polling Git, checking health, watching) uses over d.
func cpuShareAtRest(b *testing.B, d time.Duration) float64 {
	before := cpuTime(b)
	time.Sleep(d)
	return (cpuTime(b) - before).Seconds() / d.Seconds()
}

func cpuTime(b *testing.B) time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		b.Fatal(err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

// BenchmarkDriftToHealed scales a managed Deployment 100 times, as kubectl
// does (the scale subresource), and reports how long weir takes to put
// Git's replica count back: the 50th and 99th percentiles. Each edit waits
// for the previous healing sync to finish (its health check waits for the
// pods to scale down), so that it measures one heal, not a queue of them.
func BenchmarkDriftToHealed(b *testing.B) {
	s := given(b, driftFiles)
	s.whenApplication(watchOnly(true))
	s.thenApplied(s.repo.Head())
	deployments := kubernetes.NewForConfigOrDie(testenv.Config(b)).AppsV1().Deployments(s.ns)
	ctx := testenv.Context(b, time.Hour)
	var latencies []time.Duration
	b.ResetTimer()
	for range b.N {
		for range 100 {
			latencies = append(latencies, driftAndHeal(b, ctx, deployments))
			s.waitFor("the healing sync finished", func(app *weirv1.Application) bool {
				return apimeta.FindStatusCondition(app.Status.Conditions, weirv1.ReconcilingCondition) == nil
			})
		}
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Milliseconds()), "p99-ms")
}

// driftAndHeal scales web to 5 and returns the time until it is back at 2.
func driftAndHeal(b *testing.B, ctx context.Context, deployments typedappsv1.DeploymentInterface) time.Duration {
	start := time.Now()
	scaled, err := deployments.Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"replicas":5}}`),
		metav1.PatchOptions{FieldManager: "kubectl"}, "scale")
	if err != nil {
		b.Fatal(err)
	}
	w, err := deployments.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=web", ResourceVersion: scaled.ResourceVersion})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if d, ok := ev.Object.(*appsv1.Deployment); ok && *d.Spec.Replicas == 2 {
			return time.Since(start)
		}
	}
	b.Fatal("the watch ended before web was healed")
	return 0
}
