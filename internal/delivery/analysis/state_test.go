package analysis

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"weir.dev/weir/api/v1alpha1"
)

// scripted is a fake provider for the state logic: each measurement of a
// metric returns the next of its script.
type scripted struct {
	script map[string][]step
	calls  map[string]int
}

type step struct {
	obs observation
	err error
}

func (s *scripted) measure(_ context.Context, req request) (observation, error) {
	n := s.calls[req.spec.name]
	s.calls[req.spec.name]++
	steps := s.script[req.spec.name]
	if n >= len(steps) {
		return observation{}, errors.New("script exhausted")
	}
	return steps[n].obs, steps[n].err
}

// num is a measured number; nan is what Prometheus gives for 0/0.
func num(v float64) step { o, _ := observePrometheus(scalar(v)); return step{obs: o} }
func nan() step          { return num(math.NaN()) }
func fail(msg string) step {
	return step{err: errors.New(msg)}
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func testRollout() *v1alpha1.Rollout {
	return &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", UID: "uid-1"}}
}

// prometheusMetric is a metric measured by the scripted provider.
func prometheusMetric(name string, edit func(*v1alpha1.Metric)) v1alpha1.Metric {
	m := v1alpha1.Metric{
		Name:             name,
		Interval:         &metav1.Duration{Duration: time.Minute},
		SuccessCondition: "result >= 0.95",
		Provider:         v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Address: "http://prometheus", Query: "q"}},
	}
	if edit != nil {
		edit(&m)
	}
	return m
}

func testAnalyzer(t testing.TB, script map[string][]step) (*Analyzer, *scripted) {
	t.Helper()
	a := NewAnalyzer(nil)
	s := &scripted{script: script, calls: map[string]int{}}
	a.providers[kindPrometheus] = s
	delete(a.providers, kindJob) // no cluster here
	return a, s
}

func renderAll(t testing.TB, a *Analyzer, metrics ...v1alpha1.Metric) []metricSpec {
	t.Helper()
	var specs []metricSpec
	for _, m := range metrics {
		s, err := a.render("checks", m, nil)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, s)
	}
	return specs
}

func newRun(specs []metricSpec) *v1alpha1.AnalysisRunStatus {
	run := &v1alpha1.AnalysisRunStatus{Name: "step-1", Phase: v1alpha1.AnalysisRunning, StartedAt: metav1.NewTime(t0)}
	for _, s := range specs {
		run.Metrics = append(run.Metrics, v1alpha1.MetricResult{Name: s.name, Phase: v1alpha1.AnalysisRunning})
	}
	return run
}

// TestAdvanceJudgesOneMetric runs one metric through its script, calling
// Advance whenever it asks to be called, and checks the verdict.
func TestAdvanceJudgesOneMetric(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*v1alpha1.Metric)
		script  []step
		phase   v1alpha1.AnalysisPhase
		counts  [4]int32 // successful, failed, inconclusive, error
		message string
		calls   int
	}{{
		name:    "count measurements, all good",
		edit:    func(m *v1alpha1.Metric) { m.Count = ptr.To[int32](3) },
		script:  []step{num(0.99), num(0.97), num(1)},
		phase:   v1alpha1.AnalysisSuccessful,
		counts:  [4]int32{3, 0, 0, 0},
		message: `metric "success-rate" successful: result 1 (successCondition "result >= 0.95")`,
		calls:   3,
	}, {
		name:    "one failure fails a metric without failureLimit",
		edit:    func(m *v1alpha1.Metric) { m.Count = ptr.To[int32](3) },
		script:  []step{num(0.99), num(0.62)},
		phase:   v1alpha1.AnalysisFailed,
		counts:  [4]int32{1, 1, 0, 0},
		message: `metric "success-rate" failed: result 0.62 (successCondition "result >= 0.95" is false)`,
		calls:   2,
	}, {
		name: "failureCondition alone, as in the issue",
		edit: func(m *v1alpha1.Metric) {
			m.SuccessCondition, m.FailureCondition = "", "result < 0.95"
		},
		script:  []step{num(0.62)},
		phase:   v1alpha1.AnalysisFailed,
		counts:  [4]int32{0, 1, 0, 0},
		message: `metric "success-rate" failed: result 0.62 (failureCondition "result < 0.95")`,
		calls:   1,
	}, {
		name: "failureLimit tolerates failures until exceeded",
		edit: func(m *v1alpha1.Metric) {
			m.Count, m.FailureLimit = ptr.To[int32](5), 1
		},
		script:  []step{num(0.5), num(0.99), num(0.4)},
		phase:   v1alpha1.AnalysisFailed,
		counts:  [4]int32{1, 2, 0, 0},
		message: `metric "success-rate" failed: result 0.4 (successCondition "result >= 0.95" is false); 2 measurements failed`,
		calls:   3,
	}, {
		name: "failures within failureLimit still succeed",
		edit: func(m *v1alpha1.Metric) {
			m.Count, m.FailureLimit = ptr.To[int32](3), 1
		},
		script: []step{num(0.5), num(0.99), num(0.99)},
		phase:  v1alpha1.AnalysisSuccessful,
		counts: [4]int32{2, 1, 0, 0},
		calls:  3,
	}, {
		name:    "NaN (0/0, no traffic) is inconclusive, never a pass",
		edit:    func(m *v1alpha1.Metric) { m.SuccessCondition = "result >= 0.95 || result != result" },
		script:  []step{nan()},
		phase:   v1alpha1.AnalysisInconclusive,
		counts:  [4]int32{0, 0, 1, 0},
		message: `metric "success-rate" inconclusive: result NaN (no data: the query returned NaN, as 0/0 does when there is no traffic)`,
		calls:   1,
	}, {
		name:    "an empty vector is inconclusive",
		script:  []step{{obs: mustObserve(t, emptyVector())}},
		phase:   v1alpha1.AnalysisInconclusive,
		counts:  [4]int32{0, 0, 1, 0},
		message: `metric "success-rate" inconclusive: no data: the query returned an empty vector`,
		calls:   1,
	}, {
		name: "inconclusiveLimit tolerates no data until exceeded",
		edit: func(m *v1alpha1.Metric) {
			m.Count, m.InconclusiveLimit = ptr.To[int32](4), 1
		},
		script: []step{nan(), num(0.99), nan()},
		phase:  v1alpha1.AnalysisInconclusive,
		counts: [4]int32{1, 0, 2, 0},
		calls:  3,
	}, {
		name: "neither condition holds: inconclusive",
		edit: func(m *v1alpha1.Metric) {
			m.SuccessCondition, m.FailureCondition = "result >= 0.95", "result < 0.9"
		},
		script:  []step{num(0.92)},
		phase:   v1alpha1.AnalysisInconclusive,
		counts:  [4]int32{0, 0, 1, 0},
		message: `metric "success-rate" inconclusive: result 0.92 (neither successCondition "result >= 0.95" nor failureCondition "result < 0.9" holds)`,
		calls:   1,
	}, {
		name:    "more consecutive errors than the limit (default 4) fail the metric",
		script:  []step{fail("e1"), fail("e2"), fail("e3"), fail("e4"), fail("connection refused")},
		phase:   v1alpha1.AnalysisError,
		counts:  [4]int32{0, 0, 0, 5},
		message: `metric "success-rate" failed: 5 measurements in a row could not be taken, the last: connection refused`,
		calls:   5,
	}, {
		name: "errors do not count towards count, and a measurement resets the run of errors",
		edit: func(m *v1alpha1.Metric) {
			m.Count, m.ConsecutiveErrorLimit = ptr.To[int32](2), ptr.To[int32](1)
		},
		script: []step{fail("e1"), num(0.99), fail("e2"), num(0.99)},
		phase:  v1alpha1.AnalysisSuccessful,
		counts: [4]int32{2, 0, 0, 2},
		calls:  4,
	}, {
		name:   "consecutiveErrorLimit 0 fails at the first error",
		edit:   func(m *v1alpha1.Metric) { m.ConsecutiveErrorLimit = ptr.To[int32](0) },
		script: []step{fail("boom")},
		phase:  v1alpha1.AnalysisError,
		counts: [4]int32{0, 0, 0, 1},
		calls:  1,
	}, {
		name:    "a condition that cannot be evaluated is an error",
		edit:    func(m *v1alpha1.Metric) { m.ConsecutiveErrorLimit = ptr.To[int32](0) },
		script:  []step{{obs: observation{result: "text", value: `"text"`}}},
		phase:   v1alpha1.AnalysisError,
		counts:  [4]int32{0, 0, 0, 1},
		message: `the last: result "text" (evaluate "result >= 0.95": no such overload`,
		calls:   1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, s := testAnalyzer(t, map[string][]step{"checks/success-rate": tt.script})
			specs := renderAll(t, a, prometheusMetric("success-rate", tt.edit))
			run := newRun(specs)
			now := t0
			for i := 0; ; i++ {
				if i > 50 {
					t.Fatal("the run never finished")
				}
				wait, err := a.advance(t.Context(), testRollout(), run, specs, now)
				if err != nil {
					t.Fatal(err)
				}
				if wait == 0 {
					break
				}
				now = now.Add(wait)
			}
			r := run.Metrics[0]
			if got := [4]int32{r.Successful, r.Failed, r.Inconclusive, r.Error}; got != tt.counts {
				t.Errorf("counts (successful, failed, inconclusive, error) = %v, want %v", got, tt.counts)
			}
			if r.Phase != tt.phase {
				t.Errorf("metric phase = %s, want %s", r.Phase, tt.phase)
			}
			wantRun := map[v1alpha1.AnalysisPhase]v1alpha1.AnalysisPhase{v1alpha1.AnalysisError: v1alpha1.AnalysisFailed}[tt.phase]
			if wantRun == "" {
				wantRun = tt.phase
			}
			if run.Phase != wantRun {
				t.Errorf("run phase = %s, want %s", run.Phase, wantRun)
			}
			if !strings.Contains(run.Message, tt.message) {
				t.Errorf("run message = %q, want it to contain %q", run.Message, tt.message)
			}
			if s.calls["checks/success-rate"] != tt.calls {
				t.Errorf("%d measurements taken, want %d", s.calls["checks/success-rate"], tt.calls)
			}
		})
	}
}

func TestAdvanceSchedule(t *testing.T) {
	a, s := testAnalyzer(t, map[string][]step{"checks/m": {fail("down"), num(1), num(1), num(1)}})
	specs := renderAll(t, a, prometheusMetric("m", func(m *v1alpha1.Metric) {
		m.InitialDelay = &metav1.Duration{Duration: 30 * time.Second}
		m.Count = ptr.To[int32](3)
	}))
	run := newRun(specs)
	steps := []struct {
		at    time.Duration // after t0
		wait  time.Duration
		calls int
	}{
		{at: 0, wait: 30 * time.Second, calls: 0}, // initial delay
		{at: 29*time.Second + 900*time.Millisecond, wait: 100 * time.Millisecond, calls: 0},
		{at: 30 * time.Second, wait: 10 * time.Second, calls: 1}, // error: retry after 10s
		{at: 40 * time.Second, wait: time.Minute, calls: 2},      // measured
		{at: 40 * time.Second, wait: time.Minute, calls: 2},      // again at once: nothing is due
		{at: 100*time.Second + 500*time.Millisecond, wait: time.Minute - 500*time.Millisecond, calls: 3},
		{at: 10 * time.Minute, wait: 0, calls: 4}, // late: one measurement, not several
	}
	for _, st := range steps {
		wait, err := a.advance(t.Context(), testRollout(), run, specs, t0.Add(st.at))
		if err != nil {
			t.Fatal(err)
		}
		if wait != st.wait || s.calls["checks/m"] != st.calls {
			t.Fatalf("at +%s: wait %s after %d measurements, want %s after %d", st.at, wait, s.calls["checks/m"], st.wait, st.calls)
		}
	}
	if run.Phase != v1alpha1.AnalysisSuccessful {
		t.Errorf("run phase = %s: %s", run.Phase, run.Message)
	}
}

// TestAdvanceResumesFromStatus starts from a status as a restarted
// controller reads it back: measurements taken before, whole seconds.
func TestAdvanceResumesFromStatus(t *testing.T) {
	a, s := testAnalyzer(t, map[string][]step{"checks/m": {num(0.5)}})
	specs := renderAll(t, a, prometheusMetric("m", func(m *v1alpha1.Metric) {
		m.Count, m.FailureLimit = ptr.To[int32](3), 1
	}))
	lastAt := t0.Add(2 * time.Minute)
	run := &v1alpha1.AnalysisRunStatus{Name: "step-1", Phase: v1alpha1.AnalysisRunning, StartedAt: metav1.NewTime(t0),
		Metrics: []v1alpha1.MetricResult{{
			Name: "checks/m", Phase: v1alpha1.AnalysisRunning, Successful: 1, Failed: 1,
			Measurements: []v1alpha1.Measurement{
				{Phase: v1alpha1.AnalysisFailed, Value: "0.2", At: metav1.NewTime(t0.Add(time.Minute))},
				{Phase: v1alpha1.AnalysisSuccessful, Value: "0.99", At: metav1.NewTime(lastAt)},
			},
		}},
	}
	wait, err := a.advance(t.Context(), testRollout(), run, specs, lastAt.Add(20*time.Second))
	if err != nil || wait != 40*time.Second || s.calls["checks/m"] != 0 {
		t.Fatalf("before due: wait %s, %d measurements, %v; want 40s, none", wait, s.calls["checks/m"], err)
	}
	if _, err := a.advance(t.Context(), testRollout(), run, specs, lastAt.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if run.Phase != v1alpha1.AnalysisFailed || run.Metrics[0].Failed != 2 || len(run.Metrics[0].Measurements) != 3 {
		t.Fatalf("run = %s %q, metric %+v", run.Phase, run.Message, run.Metrics[0])
	}
}

func TestAdvanceKeepsTheNewestMeasurements(t *testing.T) {
	var script []step
	for i := range 15 {
		script = append(script, num(0.95+float64(i)/1000))
	}
	a, _ := testAnalyzer(t, map[string][]step{"checks/m": script})
	specs := renderAll(t, a, prometheusMetric("m", func(m *v1alpha1.Metric) { m.Count = ptr.To[int32](15) }))
	run := newRun(specs)
	for now := t0; ; {
		wait, err := a.advance(t.Context(), testRollout(), run, specs, now)
		if err != nil {
			t.Fatal(err)
		}
		if wait == 0 {
			break
		}
		now = now.Add(wait)
	}
	r := run.Metrics[0]
	if r.Successful != 15 || len(r.Measurements) != v1alpha1.MaxMeasurements {
		t.Fatalf("successful %d, %d measurements kept; want 15, %d", r.Successful, len(r.Measurements), v1alpha1.MaxMeasurements)
	}
	if first, last := r.Measurements[0].Value, r.Measurements[9].Value; first != "0.955" || last != "0.964" {
		t.Errorf("kept %s..%s, want the newest, 0.955..0.964", first, last)
	}
}

func TestRunVerdictOverMetrics(t *testing.T) {
	tests := []struct {
		name    string
		scripts map[string][]step
		phase   v1alpha1.AnalysisPhase
		message string
	}{{
		name:    "all succeed",
		scripts: map[string][]step{"checks/a": {num(1)}, "checks/b": {num(1)}, "checks/c": {num(1)}},
		phase:   v1alpha1.AnalysisSuccessful,
		message: "all 3 metrics successful",
	}, {
		name:    "one fails at once while the others run: the run fails early",
		scripts: map[string][]step{"checks/a": {num(1)}, "checks/b": {num(0.1)}, "checks/c": {num(1)}},
		phase:   v1alpha1.AnalysisFailed,
		message: `metric "b" failed: result 0.1`,
	}, {
		name:    "one inconclusive, the others succeed",
		scripts: map[string][]step{"checks/a": {num(1), num(1)}, "checks/b": {num(1), nan()}, "checks/c": {num(1), num(1)}},
		phase:   v1alpha1.AnalysisInconclusive,
		message: `metric "b" inconclusive: result NaN`,
	}, {
		name:    "a failure outranks an inconclusive metric",
		scripts: map[string][]step{"checks/a": {nan()}, "checks/b": {num(1), num(0.2)}, "checks/c": {num(1), num(1)}},
		phase:   v1alpha1.AnalysisFailed,
		message: `metric "b" failed: result 0.2`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := testAnalyzer(t, tt.scripts)
			two := func(m *v1alpha1.Metric) { m.Count = ptr.To[int32](int32(len(tt.scripts["checks/"+m.Name]))) }
			specs := renderAll(t, a, prometheusMetric("a", two), prometheusMetric("b", two), prometheusMetric("c", two))
			run := newRun(specs)
			for now := t0; ; {
				wait, err := a.advance(t.Context(), testRollout(), run, specs, now)
				if err != nil {
					t.Fatal(err)
				}
				if wait == 0 {
					break
				}
				now = now.Add(wait)
			}
			if run.Phase != tt.phase || !strings.Contains(run.Message, tt.message) {
				t.Fatalf("run = %s %q, want %s containing %q", run.Phase, run.Message, tt.phase, tt.message)
			}
			for _, r := range run.Metrics {
				if !finished(r.Phase) {
					t.Errorf("metric %s still %s after the run ended", r.Name, r.Phase)
				}
			}
		})
	}
}

func TestMetricRemovedFromTemplateIsInconclusive(t *testing.T) {
	a, _ := testAnalyzer(t, map[string][]step{"checks/a": {num(1)}})
	specs := renderAll(t, a, prometheusMetric("a", nil))
	run := newRun(specs)
	run.Metrics = append(run.Metrics, v1alpha1.MetricResult{Name: "checks/gone", Phase: v1alpha1.AnalysisRunning})
	if _, err := a.advance(t.Context(), testRollout(), run, specs, t0); err != nil {
		t.Fatal(err)
	}
	if run.Phase != v1alpha1.AnalysisInconclusive || !strings.Contains(run.Message, `metric "gone" inconclusive: the metric is no longer in its template`) {
		t.Fatalf("run = %s %q", run.Phase, run.Message)
	}
}

func TestStopEndsARunningRun(t *testing.T) {
	a, _ := testAnalyzer(t, map[string][]step{"checks/a": {num(1)}})
	specs := renderAll(t, a, prometheusMetric("a", func(m *v1alpha1.Metric) { m.Count = ptr.To[int32](3) }))
	run := newRun(specs)
	if _, err := a.advance(t.Context(), testRollout(), run, specs, t0); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(t.Context(), testRollout(), run); err != nil {
		t.Fatal(err)
	}
	if run.Phase != v1alpha1.AnalysisInconclusive || run.Message != "stopped before a verdict" || run.Metrics[0].Phase != v1alpha1.AnalysisInconclusive {
		t.Fatalf("after Stop: run %s %q, metric %s", run.Phase, run.Message, run.Metrics[0].Phase)
	}
	if run.Metrics[0].Successful != 1 {
		t.Errorf("Stop changed the counts: %+v", run.Metrics[0])
	}
}
