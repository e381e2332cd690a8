package analysis

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// exporter is a test service's /metrics: at each scrape, every service
// serves the requests the test set for it, so that rates are steady.
type exporter struct {
	mu       sync.Mutex
	traffic  map[string]map[string]float64 // service -> status code -> requests per scrape
	requests *prometheus.CounterVec
	handler  http.Handler
}

func newExporter() *exporter {
	reg := prometheus.NewRegistry()
	e := &exporter{
		traffic: map[string]map[string]float64{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "Requests served, by service and status code.",
		}, []string{"service", "code"}),
	}
	reg.MustRegister(e.requests)
	e.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return e
}

// serve sets the requests per scrape a service answers with each code.
func (e *exporter) serve(service string, perCode map[string]float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.traffic[service] = perCode
	for code := range perCode {
		e.requests.WithLabelValues(service, code).Add(0)
	}
}

func (e *exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	for service, perCode := range e.traffic {
		for code, n := range perCode {
			e.requests.WithLabelValues(service, code).Add(n)
		}
	}
	e.mu.Unlock()
	e.handler.ServeHTTP(w, r)
}

// successRate is the metric an application team writes: the share of
// requests that did not fail, from a counter by status code.
func successRate(count int32) v1alpha1.Metric {
	return v1alpha1.Metric{
		Name:             "success-rate",
		Interval:         &metav1.Duration{Duration: time.Second},
		Count:            ptr.To(count),
		FailureCondition: "result < 0.95",
		Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{
			Address: "{{args.prometheus}}",
			Query: `sum(rate(http_requests_total{service="{{args.service}}", code!~"5.."}[5s]))
/ sum(rate(http_requests_total{service="{{args.service}}"}[5s]))`,
		}},
	}
}

func TestPrometheusMetricAgainstARealPrometheus(t *testing.T) {
	exp := newExporter()
	exp.serve("good", map[string]float64{"200": 99, "500": 1})
	exp.serve("bad", map[string]float64{"200": 62, "503": 38})
	exp.serve("idle", map[string]float64{"200": 0, "500": 0}) // the series exist, without traffic: 0/0
	srv := httptest.NewServer(exp)
	defer srv.Close()
	promURL := testenv.StartPrometheus(t, srv.URL)

	ns := testenv.Namespace(t)
	c := clusterClient(t)
	ctx := testenv.Context(t, 3*time.Minute)
	createTemplate(t, c, ns, "rates", []v1alpha1.AnalysisArgument{{Name: "prometheus"}, {Name: "service"}}, successRate(2))
	waitForRate(ctx, t, promURL, "good")

	a := NewAnalyzer(c)
	ro := testRollout()
	ro.Namespace = ns
	tests := []struct {
		service string
		phase   v1alpha1.AnalysisPhase
		message string
	}{
		{service: "good", phase: v1alpha1.AnalysisSuccessful, message: `metric "success-rate" successful: result 0.99 (failureCondition "result < 0.95" is false)`},
		{service: "bad", phase: v1alpha1.AnalysisFailed, message: `metric "success-rate" failed: result 0.62 (failureCondition "result < 0.95")`},
		{service: "idle", phase: v1alpha1.AnalysisInconclusive, message: `metric "success-rate" inconclusive: result NaN (no data: the query returned NaN`},
		{service: "nobody", phase: v1alpha1.AnalysisInconclusive, message: `metric "success-rate" inconclusive: no data: the query returned an empty vector`},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			args := map[string]string{"prometheus": promURL, "service": tt.service}
			run := runToVerdict(ctx, t, a, ro, stepOf("rates"), args)
			if run.Phase != tt.phase || !strings.HasPrefix(run.Message, tt.message) {
				t.Fatalf("run = %s %q, want %s %q", run.Phase, run.Message, tt.phase, tt.message)
			}
		})
	}

	t.Run("Prometheus unreachable", func(t *testing.T) {
		m := successRate(1)
		m.ConsecutiveErrorLimit = ptr.To[int32](1)
		createTemplate(t, c, ns, "unreachable", []v1alpha1.AnalysisArgument{{Name: "prometheus"}, {Name: "service"}}, m)
		run := runToVerdict(ctx, t, a, ro, stepOf("unreachable"), map[string]string{"prometheus": closedAddress(t), "service": "good"})
		want := `metric "success-rate" failed: 2 measurements in a row could not be taken, the last: prometheus query at http://127.0.0.1:`
		if run.Phase != v1alpha1.AnalysisFailed || !strings.HasPrefix(run.Message, want) {
			t.Fatalf("run = %s %q", run.Phase, run.Message)
		}
	})

	t.Run("built-in queries run", func(t *testing.T) {
		args := map[string]string{}
		for k, v := range builtinArgs {
			args[k] = v
		}
		args["prometheus-address"] = promURL
		for _, name := range Builtins() {
			specs, err := a.resolve(ctx, ro, v1alpha1.AnalysisStep{Templates: []v1alpha1.AnalysisTemplateRef{{Name: name, Builtin: true}}}, args)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range specs {
				obs, err := a.providers[kindPrometheus].measure(ctx, request{ro: ro, spec: &s, now: time.Now()})
				if err != nil {
					t.Errorf("%s: %v", s.name, err)
				} else if obs.phase != v1alpha1.AnalysisInconclusive {
					t.Errorf("%s: %+v, want no data from a Prometheus without mesh metrics", s.name, obs)
				}
			}
		}
	})
}

// waitForRate waits until Prometheus has scraped enough to compute a
// service's rate.
func waitForRate(ctx context.Context, t testing.TB, promURL, service string) {
	t.Helper()
	pc, err := api.NewClient(api.Config{Address: promURL})
	if err != nil {
		t.Fatal(err)
	}
	q := fmt.Sprintf(`sum(rate(http_requests_total{service=%q}[5s]))`, service)
	testenv.Eventually(t, time.Minute, "Prometheus has a rate for "+service, func(ctx context.Context) error {
		v, _, err := promv1.NewAPI(pc).Query(ctx, q, time.Now())
		if err != nil {
			return err
		}
		if vec, ok := v.(model.Vector); !ok || len(vec) != 1 || vec[0].Value == 0 || math.IsNaN(float64(vec[0].Value)) {
			return fmt.Errorf("%s = %v", q, v)
		}
		return nil
	})
}

// closedAddress is the URL of a port where nothing listens.
func closedAddress(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}
