package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// providerKind names the provider of a metric; conditions are compiled for it.
type providerKind string

const (
	kindPrometheus providerKind = "prometheus"
	kindWeb        providerKind = "web"
	kindJob        providerKind = "job"
)

// metricSpec is one metric of a run with its arguments filled in and its
// conditions compiled.
type metricSpec struct {
	// name is "template/metric", the MetricResult's name.
	name string
	// template is the name of the template it comes from.
	template string
	kind     providerKind
	// metric has every {{args.NAME}} replaced; {{secret.NAME.KEY}} is left
	// for the web provider to fill at measurement time.
	metric     v1alpha1.Metric
	conditions conditions
}

// argPattern matches {{args.NAME}}; NAME may hold letters, digits, '_', '-' and '.'.
var argPattern = regexp.MustCompile(`\{\{\s*args\.([A-Za-z0-9_.\-]+)\s*\}\}`)

// resolve reads the step's templates and returns their metrics rendered with
// the arguments, in template order.
func (a *Analyzer) resolve(ctx context.Context, ro *v1alpha1.Rollout, spec v1alpha1.AnalysisStep, args map[string]string) ([]metricSpec, error) {
	if len(spec.Templates) == 0 {
		return nil, fmt.Errorf("analysis of rollout %s/%s names no template", ro.Namespace, ro.Name)
	}
	var specs []metricSpec
	seen := map[string]bool{}
	for _, ref := range spec.Templates {
		tmpl, err := a.template(ctx, ro.Namespace, ref)
		if err != nil {
			return nil, err
		}
		values, err := argValues(ref.Name, tmpl.Args, spec.Args, args)
		if err != nil {
			return nil, err
		}
		for _, m := range tmpl.Metrics {
			ms, err := a.render(ref.Name, m, values)
			if err != nil {
				return nil, err
			}
			if seen[ms.name] {
				return nil, fmt.Errorf("analysis template %q: metric %q appears twice in the analysis", ref.Name, m.Name)
			}
			seen[ms.name] = true
			specs = append(specs, ms)
		}
	}
	return specs, nil
}

// template returns a built-in template or reads an AnalysisTemplate.
func (a *Analyzer) template(ctx context.Context, namespace string, ref v1alpha1.AnalysisTemplateRef) (*v1alpha1.AnalysisTemplateSpec, error) {
	if ref.Builtin {
		return builtinTemplate(ref.Name)
	}
	var t v1alpha1.AnalysisTemplate
	err := a.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, &t)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("analysis template %q not found in namespace %q", ref.Name, namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("read analysis template %s/%s: %w", namespace, ref.Name, err)
	}
	return &t.Spec, nil
}

// argValues merges the template's defaults, the step's args and the
// controller's args, later ones winning, and checks that every argument the
// template declares without a default has a value.
func argValues(template string, declared []v1alpha1.AnalysisArgument, step []v1alpha1.AnalysisArg, passed map[string]string) (map[string]string, error) {
	values := make(map[string]string, len(declared)+len(step)+len(passed))
	for _, d := range declared {
		if d.Value != nil {
			values[d.Name] = *d.Value
		}
	}
	for _, s := range step {
		values[s.Name] = s.Value
	}
	for k, v := range passed {
		values[k] = v
	}
	for _, d := range declared {
		if _, ok := values[d.Name]; !ok {
			return nil, fmt.Errorf("analysis template %q: argument %q has no value: pass it in the analysis step's args", template, d.Name)
		}
	}
	return values, nil
}

// render fills in a metric's arguments, checks that exactly one provider is
// set, and compiles its conditions.
func (a *Analyzer) render(template string, m v1alpha1.Metric, values map[string]string) (metricSpec, error) {
	ms := metricSpec{name: template + "/" + m.Name, template: template}
	where := fmt.Sprintf("analysis template %q, metric %q", template, m.Name)
	if m.Name == "" {
		return ms, fmt.Errorf("analysis template %q: a metric has no name", template)
	}
	r := renderer{values: values}
	m = *m.DeepCopy()
	m.SuccessCondition = r.text(m.SuccessCondition)
	m.FailureCondition = r.text(m.FailureCondition)
	kind, err := r.provider(&m.Provider)
	if err != nil {
		return ms, fmt.Errorf("%s: %w", where, err)
	}
	if len(r.missing) > 0 {
		return ms, fmt.Errorf("%s: %s has no value: declare it in the template or pass it in the step's args", where, strings.Join(sortedKeys(r.missing), ", "))
	}
	ms.kind, ms.metric = kind, m
	if ms.conditions, err = a.programs.compile(kind, m.Name, m.SuccessCondition, m.FailureCondition); err != nil {
		return ms, fmt.Errorf("analysis template %q: %w", template, err)
	}
	return ms, nil
}

// renderer replaces {{args.NAME}} in strings and records the names that
// have no value.
type renderer struct {
	values  map[string]string
	missing map[string]bool
}

func (r *renderer) text(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return argPattern.ReplaceAllStringFunc(s, func(match string) string {
		name := argPattern.FindStringSubmatch(match)[1]
		v, ok := r.values[name]
		if !ok {
			if r.missing == nil {
				r.missing = map[string]bool{}
			}
			r.missing["{{args."+name+"}}"] = true
			return match
		}
		return v
	})
}

// provider renders the one provider that is set and says which it is.
func (r *renderer) provider(p *v1alpha1.MetricProvider) (providerKind, error) {
	var kinds []providerKind
	if pm := p.Prometheus; pm != nil {
		kinds = append(kinds, kindPrometheus)
		pm.Address, pm.Query = r.text(pm.Address), r.text(pm.Query)
	}
	if w := p.Web; w != nil {
		kinds = append(kinds, kindWeb)
		w.URL, w.Method, w.Body, w.JSONPath = r.text(w.URL), r.text(w.Method), r.text(w.Body), r.text(w.JSONPath)
		for i := range w.Headers {
			w.Headers[i].Value = r.text(w.Headers[i].Value)
		}
	}
	if j := p.Job; j != nil {
		kinds = append(kinds, kindJob)
		spec, err := r.jobSpec(j.Spec)
		if err != nil {
			return "", err
		}
		j.Spec = spec
	}
	if len(kinds) != 1 {
		return "", fmt.Errorf("set exactly one of provider.prometheus, provider.web and provider.job")
	}
	return kinds[0], nil
}

// jobSpec replaces arguments in every string of a Job spec.
func (r *renderer) jobSpec(spec batchv1.JobSpec) (batchv1.JobSpec, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return spec, err
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return spec, err
	}
	if data, err = json.Marshal(r.walk(doc)); err != nil {
		return spec, err
	}
	var out batchv1.JobSpec
	if err := json.Unmarshal(data, &out); err != nil {
		return spec, fmt.Errorf("job spec after filling in arguments: %w", err)
	}
	return out, nil
}

func (r *renderer) walk(v any) any {
	switch t := v.(type) {
	case string:
		return r.text(t)
	case map[string]any:
		for k, e := range t {
			t[k] = r.walk(e)
		}
	case []any:
		for i, e := range t {
			t[i] = r.walk(e)
		}
	}
	return v
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
