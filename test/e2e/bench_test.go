package e2e

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// fiftyObjects is an app of 50 objects: 10 Deployments, 10 Services and 30
// ConfigMaps, in 10 files; gen changes every ConfigMap's value.
func fiftyObjects(gen int) map[string]string {
	files := map[string]string{}
	for i := range 10 {
		name := fmt.Sprintf("svc-%d", i)
		docs := []string{deployment(name, 1, "nginx:1.27"), service(name)}
		for j := range 3 {
			docs = append(docs, configMap(fmt.Sprintf("%s-cfg-%d", name, j), "gen", fmt.Sprint(gen)))
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
// reports the controller's live heap once they are all Ready.
func BenchmarkControllerMemory100Apps(b *testing.B) {
	for range b.N {
		repo := testenv.NewGitRepo(b)
		for path, content := range fiftyObjects(0) {
			repo.Write(path, content)
		}
		sha := repo.Commit("fifty objects")
		c := testenv.Client(b, weirv1.AddToScheme)
		var apps []*story
		for range 100 {
			s := &story{t: b, repo: repo, ns: testenv.Namespace(b), c: c}
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
	}
}
