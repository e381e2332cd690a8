package analysis

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/weir/api/v1alpha1"
)

// Defaults of a metric, as the API documents them.
const (
	defaultCount                 = 1
	defaultConsecutiveErrorLimit = 4
	// errorRetryInterval is the longest wait after a measurement the
	// provider could not take, so that a passing glitch costs little time.
	errorRetryInterval = 10 * time.Second
)

func interval(m *v1alpha1.Metric) time.Duration { return m.IntervalOrDefault() }

func initialDelay(m *v1alpha1.Metric) time.Duration { return m.InitialDelayOrDefault() }

func count(m *v1alpha1.Metric) int32 {
	if m.Count != nil && *m.Count > 0 {
		return *m.Count
	}
	return defaultCount
}

func consecutiveErrorLimit(m *v1alpha1.Metric) int32 {
	if m.ConsecutiveErrorLimit != nil {
		return *m.ConsecutiveErrorLimit
	}
	return defaultConsecutiveErrorLimit
}

// finished reports whether a phase is a verdict.
func finished(p v1alpha1.AnalysisPhase) bool {
	return p != v1alpha1.AnalysisRunning && p != ""
}

// taken counts the measurements that count towards Count; errors do not.
func taken(r *v1alpha1.MetricResult) int32 {
	return r.Successful + r.Failed + r.Inconclusive
}

// index is the number of the next (or the in-flight) measurement of a
// metric: every measurement ever finished, errors included.
func index(r *v1alpha1.MetricResult) int32 {
	return taken(r) + r.Error
}

// last returns the newest measurement, or nil.
func last(r *v1alpha1.MetricResult) *v1alpha1.Measurement {
	if len(r.Measurements) == 0 {
		return nil
	}
	return &r.Measurements[len(r.Measurements)-1]
}

// inFlight returns the measurement still being taken (a Job that runs), or nil.
func inFlight(r *v1alpha1.MetricResult) *v1alpha1.Measurement {
	if l := last(r); l != nil && l.Phase == v1alpha1.AnalysisRunning {
		return l
	}
	return nil
}

// nextDue is when the next measurement of a metric is due: InitialDelay
// after the run started for the first, Interval after the last one for the
// others, and sooner after an error.
func nextDue(m *v1alpha1.Metric, r *v1alpha1.MetricResult, started time.Time) time.Time {
	l := last(r)
	if l == nil {
		return started.Add(initialDelay(m))
	}
	if l.Phase == v1alpha1.AnalysisError {
		return l.At.Add(min(interval(m), errorRetryInterval))
	}
	return l.At.Add(interval(m))
}

// statusTime is t as the status stores it: metav1.Time keeps whole seconds,
// so a run in memory reads the same as one read back from the API server.
func statusTime(t time.Time) metav1.Time {
	return metav1.NewTime(t.Truncate(time.Second))
}

// record adds a measurement to a metric, replacing the one in flight if
// any, counts it, and keeps the newest MaxMeasurements.
func record(r *v1alpha1.MetricResult, m v1alpha1.Measurement) {
	if f := inFlight(r); f != nil {
		*f = m
	} else {
		r.Measurements = append(r.Measurements, m)
		if n := len(r.Measurements); n > v1alpha1.MaxMeasurements {
			r.Measurements = append(r.Measurements[:0], r.Measurements[n-v1alpha1.MaxMeasurements:]...)
		}
	}
	switch m.Phase {
	case v1alpha1.AnalysisSuccessful:
		r.Successful++
		r.ConsecutiveErrors = 0
	case v1alpha1.AnalysisFailed:
		r.Failed++
		r.ConsecutiveErrors = 0
	case v1alpha1.AnalysisInconclusive:
		r.Inconclusive++
		r.ConsecutiveErrors = 0
	case v1alpha1.AnalysisError:
		r.Error++
		r.ConsecutiveErrors++
	}
}

// assess gives a metric's phase from its counts: Failed beyond FailureLimit,
// Error beyond ConsecutiveErrorLimit, Inconclusive beyond InconclusiveLimit,
// Successful once Count measurements are in, else Running.
func assess(m *v1alpha1.Metric, r *v1alpha1.MetricResult) v1alpha1.AnalysisPhase {
	switch {
	case r.Failed > m.FailureLimit:
		return v1alpha1.AnalysisFailed
	case r.ConsecutiveErrors > consecutiveErrorLimit(m):
		return v1alpha1.AnalysisError
	case r.Inconclusive > m.InconclusiveLimit:
		return v1alpha1.AnalysisInconclusive
	case taken(r) >= count(m) && inFlight(r) == nil:
		return v1alpha1.AnalysisSuccessful
	default:
		return v1alpha1.AnalysisRunning
	}
}

// assessRun gives a run's phase and message from its metrics: Failed as soon
// as one metric failed or errored, Running while any runs, then Inconclusive
// if one is, else Successful. The message names the deciding metric and the
// value it measured.
func assessRun(run *v1alpha1.AnalysisRunStatus, short func(name string) string) (v1alpha1.AnalysisPhase, string) {
	var running bool
	var inconclusive *v1alpha1.MetricResult
	for i := range run.Metrics {
		r := &run.Metrics[i]
		switch r.Phase {
		case v1alpha1.AnalysisFailed, v1alpha1.AnalysisError:
			return v1alpha1.AnalysisFailed, verdict(r, short(r.Name))
		case v1alpha1.AnalysisInconclusive:
			if inconclusive == nil {
				inconclusive = r
			}
		case v1alpha1.AnalysisRunning, "":
			running = true
		}
	}
	switch {
	case running:
		return v1alpha1.AnalysisRunning, ""
	case inconclusive != nil:
		return v1alpha1.AnalysisInconclusive, verdict(inconclusive, short(inconclusive.Name))
	case len(run.Metrics) == 1:
		return v1alpha1.AnalysisSuccessful, verdict(&run.Metrics[0], short(run.Metrics[0].Name))
	default:
		return v1alpha1.AnalysisSuccessful, fmt.Sprintf("all %d metrics successful", len(run.Metrics))
	}
}

// verdict says why a finished metric has its phase. The deciding
// measurement is always the newest: a metric stops at the one that decides.
func verdict(r *v1alpha1.MetricResult, name string) string {
	l := last(r)
	what := "no measurement"
	if l != nil {
		what = describe(l)
	}
	switch r.Phase {
	case v1alpha1.AnalysisFailed:
		msg := fmt.Sprintf("metric %q failed: %s", name, what)
		if r.Failed > 1 {
			msg += fmt.Sprintf("; %d measurements failed", r.Failed)
		}
		return msg
	case v1alpha1.AnalysisError:
		return fmt.Sprintf("metric %q failed: %s in a row could not be taken, the last: %s", name, plural(r.ConsecutiveErrors, "measurement"), what)
	case v1alpha1.AnalysisInconclusive:
		msg := fmt.Sprintf("metric %q inconclusive: %s", name, what)
		if r.Inconclusive > 1 {
			msg += fmt.Sprintf("; %d measurements inconclusive", r.Inconclusive)
		}
		return msg
	default:
		return fmt.Sprintf("metric %q %s: %s", name, lower(r.Phase), what)
	}
}

// describe puts a measurement in words: "result 0.62 (failureCondition ...)".
func describe(m *v1alpha1.Measurement) string {
	switch {
	case m.Value == "":
		return m.Message
	case m.Message == "":
		return "result " + m.Value
	default:
		return fmt.Sprintf("result %s (%s)", m.Value, m.Message)
	}
}

func lower(p v1alpha1.AnalysisPhase) string {
	switch p {
	case v1alpha1.AnalysisSuccessful:
		return "successful"
	case v1alpha1.AnalysisRunning:
		return "running"
	default:
		return string(p)
	}
}

func plural(n int32, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
