package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// healthServer serves {"successRate": …} with a value the benchmark sets,
// for web metrics that need no scrape.
type healthServer struct {
	srv  *httptest.Server
	good atomic.Bool
	// badSince is when the first bad answer since the value turned bad
	// was served: the moment a failing measurement was taken.
	badSince atomic.Pointer[time.Time]
}

func newHealthServer(b *testing.B) *healthServer {
	h := &healthServer{}
	h.good.Store(true)
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rate := 0.2
		if h.good.Load() {
			rate = 0.99
		} else if h.badSince.Load() == nil {
			now := time.Now()
			h.badSince.Store(&now)
		}
		fmt.Fprintf(w, `{"successRate": %g}`, rate)
	}))
	b.Cleanup(h.srv.Close)
	return h
}

// BenchmarkAbortToStable measures how long a bad release keeps traffic: a
// canary with 20% of the HTTPRoute's traffic and an analysis measuring
// every second. It reports, over b.N releases, the median and worst time
// from the failing measurement (the health endpoint's first bad answer)
// until the HTTPRoute sends all traffic to stable, and from the moment the
// endpoint turned bad (which adds the wait for the next measurement, up to
// the interval).
func BenchmarkAbortToStable(b *testing.B) {
	installGatewayAPI(b)
	health := newHealthServer(b)
	steps := `      - setWeight: 20
      - analysis:
          templates: [{name: success-rate}]
`
	s := given(b, map[string]string{
		"web.yaml":      fixture.Deployment("web", 4, "shop:0"),
		"svc.yaml":      fixture.Service("web"),
		"route.yaml":    httpRoute,
		"rollout.yaml":  canaryRollout(steps, gatewayRouting, false),
		"analysis.yaml": successRateTemplate(fromWeb(health.srv.URL), 600),
	})
	s.whenApplication(nil)
	s.thenApplied(s.repo.Head())
	var latencies, sinceBad []time.Duration
	b.ResetTimer()
	for i := range b.N {
		health.good.Store(true)
		health.badSince.Store(nil)
		s.commit(fmt.Sprintf("release %d", i+1), map[string]string{"web.yaml": fixture.Deployment("web", 4, fmt.Sprintf("shop:%d", i+1))})
		s.thenRollout("analysing at 20%", func(ro *weirv1.Rollout) bool {
			return ro.Status.Phase == weirv1.RolloutProgressing && ro.Status.CurrentStep == 1 && ro.Status.CanaryWeight == 20 && len(ro.Status.Analyses) == 1
		})
		start := time.Now()
		health.good.Store(false)
		testenv.Eventually(b, time.Minute, "all traffic on stable", func(context.Context) error {
			if w := s.canaryWeight(); w != 0 {
				return fmt.Errorf("the canary still has weight %d", w)
			}
			return nil
		})
		sinceBad = append(sinceBad, time.Since(start))
		latencies = append(latencies, time.Since(*health.badSince.Load()))
		s.thenRollout("aborted", func(ro *weirv1.Rollout) bool { return ro.Status.Phase == weirv1.RolloutAborted })
	}
	slices.Sort(latencies)
	slices.Sort(sinceBad)
	b.ReportMetric(float64(latencies[len(latencies)/2].Milliseconds()), "p50-ms-failure-to-stable")
	b.ReportMetric(float64(latencies[len(latencies)-1].Milliseconds()), "max-ms-failure-to-stable")
	b.ReportMetric(float64(sinceBad[len(sinceBad)/2].Milliseconds()), "p50-ms-bad-to-stable")
}

// canaryWeight is web-canary's weight in the HTTPRoute's first rule.
func (s *story) canaryWeight() int64 {
	rules := s.route()["spec"].(map[string]any)["rules"].([]any)
	return weightOf(rules[0].(map[string]any)["backendRefs"], func(ref map[string]any) bool { return ref["name"] == "web-canary" })
}

// BenchmarkActiveRollouts measures what running rollouts cost the
// controller: 20 Applications, each with a canary at 25% of its replicas,
// measuring a web metric every second for the whole rollout. It reports the
// heap and the CPU share (of one core) per active rollout, over the same
// figures with the 20 Applications at rest before the releases.
func BenchmarkActiveRollouts(b *testing.B) {
	const apps = 20
	health := newHealthServer(b)
	rollout := canaryRollout("      - setWeight: 25\n      - pause: {}\n", "", false) +
		"  analysis: {templates: [{name: success-rate}]}\n"
	for range b.N {
		var stories []*story
		for range apps {
			s := given(b, map[string]string{
				"web.yaml":      fixture.Deployment("web", 4, "shop:1"),
				"svc.yaml":      fixture.Service("web"),
				"rollout.yaml":  rollout,
				"analysis.yaml": successRateTemplate(fromWeb(health.srv.URL), 100000),
			})
			s.whenApplication(nil)
			stories = append(stories, s)
		}
		for _, s := range stories {
			s.thenApplied(s.repo.Head())
		}
		heapIdle, cpuIdle := heapInUse(), cpuShareAtRest(b, 30*time.Second)
		for _, s := range stories {
			s.commit("release 2", map[string]string{"web.yaml": fixture.Deployment("web", 4, "shop:2")})
		}
		for _, s := range stories {
			s.thenPausedAt(1, 25)
		}
		heapActive, cpuActive := heapInUse(), cpuShareAtRest(b, 30*time.Second)
		b.ReportMetric((heapActive-heapIdle)/apps*1024, "KiB-heap-per-rollout")
		b.ReportMetric((cpuActive-cpuIdle)/apps*100, "%-cpu-per-rollout")
		b.ReportMetric(cpuActive*100, "%-cpu-20-active")
	}
}

// heapInUse is the live heap after a collection, in MiB.
func heapInUse() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}
