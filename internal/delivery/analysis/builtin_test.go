package analysis

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"weir.dev/weir/api/v1alpha1"
)

// builtinArgs are what weir passes plus what a user adds for the built-ins.
var builtinArgs = map[string]string{
	"prometheus-address": "http://prometheus:9090",
	"namespace":          "shop",
	"rollout":            "web",
	"service":            "web",
	"canary-service":     "web-canary",
	"stable-service":     "web-stable",
	"canary-hash":        "5d4f8c7b9",
	"stable-hash":        "7c9d6b5f4",
	"canary-deployment":  "web-canary",
	"httproute":          "web",
}

func TestBuiltinsRenderToValidPromQL(t *testing.T) {
	names := Builtins()
	for _, mesh := range []string{"istio", "linkerd", "nginx", "envoy-gateway"} {
		for _, metric := range []string{"request-success-rate", "request-latency"} {
			if !contains(names, mesh+"-"+metric) {
				t.Errorf("no built-in template %s-%s", mesh, metric)
			}
		}
	}
	a := NewAnalyzer(nil)
	p := parser.NewParser(parser.Options{})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			specs, err := a.resolve(t.Context(), testRollout(), v1alpha1.AnalysisStep{
				Templates: []v1alpha1.AnalysisTemplateRef{{Name: name, Builtin: true}},
			}, builtinArgs)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range specs {
				q := s.metric.Provider.Prometheus.Query
				if strings.Contains(q, "{{") {
					t.Fatalf("query still holds a placeholder:\n%s", q)
				}
				if _, err := p.ParseExpr(q); err != nil {
					t.Fatalf("query is not valid PromQL: %v\n%s", err, q)
				}
				if s.metric.Provider.Prometheus.Address != "http://prometheus:9090" || s.metric.SuccessCondition == "" {
					t.Errorf("address %q, successCondition %q", s.metric.Provider.Prometheus.Address, s.metric.SuccessCondition)
				}
			}
		})
	}
}

func TestBuiltinsNameTheArgumentTheyMiss(t *testing.T) {
	a := NewAnalyzer(nil)
	_, err := a.Start(t.Context(), testRollout(), "step-1", 1, v1alpha1.AnalysisStep{
		Templates: []v1alpha1.AnalysisTemplateRef{{Name: "istio-request-success-rate", Builtin: true}},
	}, map[string]string{"namespace": "shop", "canary-service": "web-canary"}, t0)
	if err == nil || !strings.Contains(err.Error(), `analysis template "istio-request-success-rate": argument "prometheus-address" has no value`) {
		t.Fatalf("err = %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
