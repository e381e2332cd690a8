package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// weir's own permissions for analysis, for Applications that run as weir:
// AnalysisTemplates are read one at a time, never listed or watched. Jobs
// (get, list, create, delete) are granted with what an Application applies
// in its namespace.
// +kubebuilder:rbac:groups=weir.dev,resources=analysistemplates,verbs=get
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Analyzer runs the analysis of Rollouts: it resolves templates and
// arguments, takes the measurements that are due, and judges them. It keeps
// no state of its own beyond caches: everything a run needs to resume lives
// in its v1alpha1.AnalysisRunStatus. It is safe for concurrent use.
type Analyzer struct {
	client    client.Client
	programs  *programs
	providers map[providerKind]provider
	jobPoll   time.Duration
}

// Option configures an Analyzer.
type Option func(*options)

type options struct {
	httpClient   *http.Client
	allowedHosts []string
	jobPoll      time.Duration
}

// WithHTTPClient sets the HTTP client of Prometheus and web metrics (for
// proxies or custom CAs); the default is a client with Go's defaults and a
// timeout of two minutes. Each measurement is bounded by its metric's
// timeout either way, and by two minutes at most.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.httpClient = c }
}

// WithJobPollInterval sets how often Advance asks to be called back while a
// Job measurement runs; the default is five seconds.
func WithJobPollInterval(d time.Duration) Option {
	return func(o *options) { o.jobPoll = d }
}

// NewAnalyzer returns an Analyzer that reads AnalysisTemplates and Secrets,
// and creates, reads and deletes Jobs, with c. Secrets are read only for web
// headers that name one; give a client that does not cache Secrets (see
// client.CacheOptions.DisableFor) unless watching all of them is intended.
func NewAnalyzer(c client.Client, opts ...Option) *Analyzer {
	o := options{httpClient: &http.Client{Timeout: maxMeasureTimeout}, jobPoll: 5 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	o.httpClient = guardHosts(o.httpClient, o.allowedHosts)
	p, err := newPrograms()
	if err != nil {
		panic(err) // the environments are fixed: this is a bug, not an input
	}
	return &Analyzer{
		client:   c,
		programs: p,
		jobPoll:  o.jobPoll,
		providers: map[providerKind]provider{
			kindPrometheus: newPrometheusProvider(o.httpClient),
			kindWeb:        newWebProvider(c, o.httpClient),
			kindJob:        newJobProvider(c),
		},
	}
}

// Start checks that every template the step names exists (an
// AnalysisTemplate in the Rollout's namespace, or a built-in one), that
// every argument without a default has a value, and that every condition
// compiles, and returns a new run in phase Running. Errors name the missing
// template or argument, or the metric and expression that do not compile.
func (a *Analyzer) Start(ctx context.Context, ro *v1alpha1.Rollout, name string, step int32, spec v1alpha1.AnalysisStep, args map[string]string, now time.Time) (v1alpha1.AnalysisRunStatus, error) {
	specs, err := a.resolve(ctx, ro, spec, args)
	if err != nil {
		return v1alpha1.AnalysisRunStatus{}, fmt.Errorf("start analysis %q of rollout %s/%s: %w", name, ro.Namespace, ro.Name, err)
	}
	run := v1alpha1.AnalysisRunStatus{
		Name:      name,
		Step:      step,
		Phase:     v1alpha1.AnalysisRunning,
		StartedAt: statusTime(now),
		Metrics:   make([]v1alpha1.MetricResult, 0, len(specs)),
	}
	for _, s := range specs {
		run.Metrics = append(run.Metrics, v1alpha1.MetricResult{Name: s.name, Phase: v1alpha1.AnalysisRunning})
	}
	return run, nil
}

// Advance takes every measurement that is due at now, updates run (metrics,
// counts, phase, and a Message naming the deciding metric and the value it
// measured), and returns how long until the next measurement is due, or 0
// once the run has a verdict. It derives what is due from run alone, so it
// may be called at any time, repeatedly, and after a restart. A measurement
// the provider cannot take is recorded as an Error, not returned; an error
// is returned when the templates cannot be resolved, the Job of a
// measurement in flight cannot be read, or ctx ends.
func (a *Analyzer) Advance(ctx context.Context, ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRunStatus, spec v1alpha1.AnalysisStep, args map[string]string, now time.Time) (time.Duration, error) {
	if finished(run.Phase) {
		return 0, nil
	}
	specs, err := a.resolve(ctx, ro, spec, args)
	if err != nil {
		return 0, fmt.Errorf("analysis %q of rollout %s/%s: %w", run.Name, ro.Namespace, ro.Name, err)
	}
	return a.advance(ctx, ro, run, specs, now)
}

// advance is Advance once the templates are resolved.
func (a *Analyzer) advance(ctx context.Context, ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRunStatus, specs []metricSpec, now time.Time) (time.Duration, error) {
	if finished(run.Phase) {
		return 0, nil
	}
	for _, s := range specs {
		if metricResult(run, s.name) == nil {
			run.Metrics = append(run.Metrics, v1alpha1.MetricResult{Name: s.name, Phase: v1alpha1.AnalysisRunning})
		}
	}
	wait := time.Duration(math.MaxInt64)
	for i := range specs {
		r := metricResult(run, specs[i].name)
		if finished(r.Phase) {
			continue
		}
		w, err := a.advanceMetric(ctx, ro, run, &specs[i], r, now)
		if err != nil {
			return 0, fmt.Errorf("analysis %q of rollout %s/%s: %w", run.Name, ro.Namespace, ro.Name, err)
		}
		if r.Phase == v1alpha1.AnalysisRunning {
			wait = min(wait, max(w, time.Millisecond))
		}
	}
	endRemoved(run, specs, now)
	run.Phase, run.Message = assessRun(run, shortNames(run))
	if !finished(run.Phase) {
		return wait, nil
	}
	// A run decided early (a metric failed) still has metrics running:
	// cancel what they have in flight.
	if err := a.stopProviders(ctx, ro, run); err != nil {
		return 0, err
	}
	endRunning(run, "the run ended: "+run.Message)
	return 0, nil
}

// advanceMetric checks on a measurement in flight or takes one that is due,
// and returns how long until the metric needs attention again.
func (a *Analyzer) advanceMetric(ctx context.Context, ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRunStatus, s *metricSpec, r *v1alpha1.MetricResult, now time.Time) (time.Duration, error) {
	req := request{ro: ro, run: run, spec: s, index: index(r), now: now}
	var obs observation
	var err error
	flying := inFlight(r)
	switch due := nextDue(&s.metric, r, run.StartedAt.Time); {
	case flying != nil:
		res, ok := a.providers[s.kind].(resumer)
		if !ok {
			err = fmt.Errorf("a measurement is in flight, but %s metrics are taken at once: was the template changed?", s.kind)
			break
		}
		if obs, err = res.resume(ctx, req); err != nil {
			// Reading the Job failed, not the measurement: keep it in
			// flight and let the caller retry.
			return 0, fmt.Errorf("metric %s: %w", s.name, err)
		}
	case now.Before(due):
		return due.Sub(now), nil
	default:
		obs, err = a.providers[s.kind].measure(ctx, req)
	}
	if ctx.Err() != nil {
		return 0, ctx.Err() // not the metric's fault: measure again next time
	}
	if flying != nil && err == nil && obs.phase == v1alpha1.AnalysisRunning {
		return a.jobPoll, nil // still running; keep the time it started
	}
	m := measurement(s, obs, err, now)
	record(r, m)
	r.Phase = assess(&s.metric, r)
	if log := logr.FromContextOrDiscard(ctx).V(1); log.Enabled() {
		log.Info("analysis measurement", "rollout", ro.Name, "run", run.Name,
			"metric", s.name, "phase", m.Phase, "value", m.Value, "metricPhase", r.Phase)
	}
	if inFlight(r) != nil {
		return a.jobPoll, nil
	}
	return nextDue(&s.metric, r, run.StartedAt.Time).Sub(now), nil
}

// maxMessage bounds the text a measurement keeps in the status.
const maxMessage = 512

// measurement judges an observation into the measurement the status keeps.
func measurement(s *metricSpec, obs observation, err error, now time.Time) v1alpha1.Measurement {
	m := v1alpha1.Measurement{At: statusTime(now), Value: truncate(obs.value, maxMessage)}
	switch {
	case err != nil:
		m.Phase, m.Message = v1alpha1.AnalysisError, err.Error()
	case obs.phase != "":
		m.Phase, m.Message = obs.phase, obs.message
	default:
		var why string
		m.Phase, why, err = s.conditions.judge(obs.result)
		m.Message = why
		if err != nil {
			m.Message = err.Error()
		}
	}
	m.Message = truncate(redact(m.Message, obs.secrets), maxMessage)
	return m
}

// Stop ends a run early (an abort, or a promotion that does not wait): it
// deletes the Jobs the run started and ends the metrics still running. A
// run without a verdict becomes Inconclusive, "stopped before a verdict".
// Stopping a stopped or finished run changes nothing.
func (a *Analyzer) Stop(ctx context.Context, ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRunStatus) error {
	if err := a.stopProviders(ctx, ro, run); err != nil {
		return err
	}
	endRunning(run, "stopped before a verdict")
	if !finished(run.Phase) {
		run.Phase, run.Message = v1alpha1.AnalysisInconclusive, "stopped before a verdict"
	}
	return nil
}

func (a *Analyzer) stopProviders(ctx context.Context, ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRunStatus) error {
	var errs []error
	for _, p := range a.providers {
		if res, ok := p.(resumer); ok {
			errs = append(errs, res.stop(ctx, ro, run))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop analysis %q of rollout %s/%s: %w", run.Name, ro.Namespace, ro.Name, err)
	}
	return nil
}

// endRunning makes the metrics still running Inconclusive, and a
// measurement in flight with them; neither is counted.
func endRunning(run *v1alpha1.AnalysisRunStatus, why string) {
	for i := range run.Metrics {
		r := &run.Metrics[i]
		if finished(r.Phase) {
			continue
		}
		if f := inFlight(r); f != nil {
			f.Phase, f.Message = v1alpha1.AnalysisInconclusive, why
		}
		r.Phase = v1alpha1.AnalysisInconclusive
	}
}

// endRemoved makes a running metric that is no longer in its template
// Inconclusive, which pauses the rollout for a person to look, rather than
// leaving it running forever or failing a release over a template edit.
func endRemoved(run *v1alpha1.AnalysisRunStatus, specs []metricSpec, now time.Time) {
	current := make(map[string]bool, len(specs))
	for _, s := range specs {
		current[s.name] = true
	}
	for i := range run.Metrics {
		r := &run.Metrics[i]
		if finished(r.Phase) || current[r.Name] {
			continue
		}
		record(r, v1alpha1.Measurement{Phase: v1alpha1.AnalysisInconclusive, At: statusTime(now),
			Message: "the metric is no longer in its template"})
		r.Phase = v1alpha1.AnalysisInconclusive
	}
}

func metricResult(run *v1alpha1.AnalysisRunStatus, name string) *v1alpha1.MetricResult {
	for i := range run.Metrics {
		if run.Metrics[i].Name == name {
			return &run.Metrics[i]
		}
	}
	return nil
}

// shortNames names metrics in messages by their name in the template, or
// by "template/metric" when two templates of the run share a metric name.
func shortNames(run *v1alpha1.AnalysisRunStatus) func(string) string {
	seen := make(map[string]int, len(run.Metrics))
	for _, r := range run.Metrics {
		seen[metricPart(r.Name)]++
	}
	return func(name string) string {
		if short := metricPart(name); seen[short] == 1 {
			return short
		}
		return name
	}
}

func metricPart(name string) string {
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
