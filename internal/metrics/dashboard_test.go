package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// dashboard is the Grafana dashboard shipped with weir.
const dashboard = "../../config/grafana/weir.json"

func TestTheDashboardQueriesOnlyMetricsWeirExports(t *testing.T) {
	r, reg := newRecorder(t)
	r.ObserveApplication(&weirv1.Application{})
	r.ObserveRollout(&weirv1.Rollout{})
	r.WebhookRequest("github", OutcomeAccepted)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, f := range families {
		exported[f.GetName()] = true
		if f.GetType().String() == "HISTOGRAM" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				exported[f.GetName()+suffix] = true
			}
		}
	}
	queried := dashboardMetrics(t)
	if len(queried) == 0 {
		t.Fatal("the dashboard queries no metric")
	}
	for name := range queried {
		if !exported[name] {
			t.Errorf("the dashboard queries %s, which weir does not export", name)
		}
	}
	for _, want := range []string{"weir_application_synced", "weir_application_healthy", "weir_rollout_phase", "weir_rollout_step", "weir_rollout_weight"} {
		if !queried[want] {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}

// grafanaVariable is one of the range variables Grafana puts in a
// query, which PromQL parses only as a duration.
var grafanaVariable = regexp.MustCompile(`\$__rate_interval|\$__interval|\$__range`)

// labelValues is a template variable's query label_values(metric, label).
var labelValues = regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)`)

// dashboardMetrics are the metric names of every PromQL expression and
// template query of the dashboard.
func dashboardMetrics(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", dashboard, err)
	}
	names := map[string]bool{}
	walk(doc, func(key, value string) {
		switch {
		case key == "expr":
			expr, err := parser.NewParser(parser.Options{}).ParseExpr(grafanaVariable.ReplaceAllString(value, "5m"))
			if err != nil {
				t.Errorf("%s: expression %q: %v", dashboard, value, err)
				return
			}
			parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
				if vs, ok := node.(*parser.VectorSelector); ok && vs.Name != "" {
					names[vs.Name] = true
				}
				return nil
			})
		case key == "query" && strings.Contains(value, "label_values("):
			for _, m := range labelValues.FindAllStringSubmatch(value, -1) {
				names[m[1]] = true
			}
		}
	})
	return names
}

// walk calls f with every string field of v and its key.
func walk(v any, f func(key, value string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok {
				f(k, s)
			} else {
				walk(x, f)
			}
		}
	case []any:
		for _, x := range v {
			walk(x, f)
		}
	}
}
