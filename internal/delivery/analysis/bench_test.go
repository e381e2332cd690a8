package analysis

import (
	"context"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"weir.dev/weir/api/v1alpha1"
)

// constant is a provider that measures the same value at no cost, so that
// the benchmark measures the judge and the status update alone.
type constant struct{ obs observation }

func (c constant) measure(context.Context, request) (observation, error) { return c.obs, nil }

// BenchmarkAdvance is one Advance of a run of three metrics that are all
// due: three CEL judgements and their status updates, no network.
func BenchmarkAdvance(b *testing.B) {
	a := NewAnalyzer(nil)
	a.providers = map[providerKind]provider{kindPrometheus: constant{mustObserve(b, scalar(0.99))}}
	forever := func(m *v1alpha1.Metric) { m.Count = ptr.To[int32](1 << 30) }
	specs := renderAll(b, a,
		prometheusMetric("success-rate", forever),
		prometheusMetric("latency", func(m *v1alpha1.Metric) {
			forever(m)
			m.SuccessCondition, m.FailureCondition = "result < 500.0", "result > 1000.0"
		}),
		prometheusMetric("errors", func(m *v1alpha1.Metric) {
			forever(m)
			m.SuccessCondition, m.FailureCondition = "", "result < 0.5"
		}))
	run := newRun(specs)
	ro := testRollout()
	ctx := context.Background()
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.advance(ctx, ro, run, specs, now); err != nil {
			b.Fatal(err)
		}
		now = now.Add(time.Minute)
	}
	if run.Phase != v1alpha1.AnalysisRunning || run.Metrics[2].Successful == 0 {
		b.Fatalf("run %s: %+v", run.Phase, run.Metrics)
	}
}
