package analysis

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"weir.dev/weir/api/v1alpha1"
)

func TestArgValuesPrecedence(t *testing.T) {
	declared := []v1alpha1.AnalysisArgument{
		{Name: "a", Value: ptr.To("template")},
		{Name: "b", Value: ptr.To("template")},
		{Name: "c", Value: ptr.To("template")},
		{Name: "d"},
	}
	step := []v1alpha1.AnalysisArg{{Name: "b", Value: "step"}, {Name: "c", Value: "step"}, {Name: "d", Value: "step"}}
	passed := map[string]string{"c": "passed", "namespace": "shop"}
	got, err := argValues("t", declared, step, passed)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "template", "b": "step", "c": "passed", "d": "step", "namespace": "shop"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("arg %s = %q, want %q", k, got[k], v)
		}
	}
	_, err = argValues("checks", []v1alpha1.AnalysisArgument{{Name: "service"}}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), `analysis template "checks": argument "service" has no value`) {
		t.Fatalf("missing argument: err = %v", err)
	}
}

func TestRenderFillsArguments(t *testing.T) {
	a := NewAnalyzer(nil)
	values := map[string]string{"ns": "shop", "svc": "web-canary", "min": "0.95", "token": "{{secret.api.token}}", "image": "curl:8"}
	web, err := a.render("t", v1alpha1.Metric{
		Name:             "web",
		SuccessCondition: "result.rate >= {{args.min}}",
		Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{
			URL:     "http://{{args.svc}}.{{ args.ns }}/stats",
			Headers: []v1alpha1.WebHeader{{Name: "Authorization", Value: "Bearer {{args.token}}"}},
			Body:    `{"service":"{{args.svc}}"}`,
		}},
	}, values)
	if err != nil {
		t.Fatal(err)
	}
	w := web.metric.Provider.Web
	if w.URL != "http://web-canary.shop/stats" || w.Body != `{"service":"web-canary"}` ||
		w.Headers[0].Value != "Bearer {{secret.api.token}}" || web.metric.SuccessCondition != "result.rate >= 0.95" {
		t.Fatalf("rendered %+v, condition %q", w, web.metric.SuccessCondition)
	}
	if web.name != "t/web" || web.kind != kindWeb {
		t.Errorf("name %q kind %q", web.name, web.kind)
	}

	job, err := a.render("t", v1alpha1.Metric{Name: "smoke", Provider: v1alpha1.MetricProvider{Job: &v1alpha1.JobMetric{Spec: batchv1.JobSpec{
		BackoffLimit: ptr.To[int32](0),
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "check", Image: "{{args.image}}", Args: []string{"http://{{args.svc}}/healthz"},
		}}}},
	}}}}, values)
	if err != nil {
		t.Fatal(err)
	}
	c := job.metric.Provider.Job.Spec.Template.Spec.Containers[0]
	if c.Image != "curl:8" || c.Args[0] != "http://web-canary/healthz" || *job.metric.Provider.Job.Spec.BackoffLimit != 0 {
		t.Fatalf("rendered job container %+v", c)
	}
}

func TestRenderErrors(t *testing.T) {
	prom := v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Address: "http://p", Query: "up{job=\"{{args.job}}\"}"}}
	tests := []struct {
		name   string
		metric v1alpha1.Metric
		want   string
	}{
		{name: "an argument without a value",
			metric: v1alpha1.Metric{Name: "m", SuccessCondition: "result > 0", Provider: prom},
			want:   `analysis template "t", metric "m": {{args.job}} has no value`},
		{name: "two providers",
			metric: v1alpha1.Metric{Name: "m", SuccessCondition: "true", Provider: v1alpha1.MetricProvider{
				Prometheus: &v1alpha1.PrometheusMetric{}, Web: &v1alpha1.WebMetric{}}},
			want: "set exactly one of provider.prometheus, provider.web and provider.job"},
		{name: "no provider", metric: v1alpha1.Metric{Name: "m", SuccessCondition: "true"},
			want: "set exactly one"},
		{name: "a condition that does not compile",
			metric: v1alpha1.Metric{Name: "m", SuccessCondition: "result >>> 1", Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{URL: "http://x"}}},
			want:   `analysis template "t": metric "m": successCondition "result >>> 1"`},
	}
	a := NewAnalyzer(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.render("t", tt.metric, map[string]string{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestStartNamesAMissingBuiltin(t *testing.T) {
	a := NewAnalyzer(nil)
	_, err := a.Start(t.Context(), testRollout(), "step-1", 1, v1alpha1.AnalysisStep{
		Templates: []v1alpha1.AnalysisTemplateRef{{Name: "istio-success", Builtin: true}},
	}, nil, t0)
	if err == nil || !strings.Contains(err.Error(), `built-in analysis template "istio-success" does not exist; there are envoy-gateway-request-latency`) {
		t.Fatalf("err = %v", err)
	}
}

func TestJobName(t *testing.T) {
	ro := testRollout()
	run := &v1alpha1.AnalysisRunStatus{Name: "step-2", StartedAt: metav1.NewTime(t0)}
	name := jobName(ro, run, "smoke/Run_Tests", 3)
	if !strings.HasPrefix(name, "web-step-2-run-tests-3-") || name != jobName(ro, run, "smoke/Run_Tests", 3) {
		t.Fatalf("jobName = %q, or not deterministic", name)
	}
	later := &v1alpha1.AnalysisRunStatus{Name: "step-2", StartedAt: metav1.NewTime(t0.Add(time.Hour))}
	if jobName(ro, later, "smoke/Run_Tests", 3) == name {
		t.Error("a rerun of the step reuses the Job names of the first run")
	}
	long := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("a-very-long-rollout-name", 4), UID: "u"}}
	if n := jobName(long, run, "t/"+strings.Repeat("metric", 10), 12); len(n) > 63 || strings.Contains(n, "--") {
		t.Errorf("long jobName %q (%d characters)", n, len(n))
	}
}
