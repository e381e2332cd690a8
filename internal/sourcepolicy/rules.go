package sourcepolicy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Rules are the SourcePolicies that bind the Applications of one
// namespace. The zero Rules allow everything.
type Rules struct {
	policies []weirv1.SourcePolicy
}

// Select returns the Rules of the policies whose namespaceSelector matches
// the labels of a namespace. A selector that does not parse is an error
// naming its policy: the policy is neither skipped nor applied.
func Select(policies []weirv1.SourcePolicy, namespaceLabels labels.Set) (Rules, error) {
	var selected []weirv1.SourcePolicy
	for _, p := range policies {
		sel, err := selector(&p)
		if err != nil {
			return Rules{}, err
		}
		if sel.Matches(namespaceLabels) {
			selected = append(selected, p)
		}
	}
	slices.SortFunc(selected, func(a, b weirv1.SourcePolicy) int { return cmp.Compare(a.Name, b.Name) })
	return Rules{policies: selected}, nil
}

// selector is the policy's namespaceSelector; an empty one selects every
// namespace.
func selector(p *weirv1.SourcePolicy) (labels.Selector, error) {
	if p.Spec.NamespaceSelector == nil {
		return labels.Everything(), nil
	}
	sel, err := metav1.LabelSelectorAsSelector(p.Spec.NamespaceSelector)
	if err != nil {
		return nil, fmt.Errorf("SourcePolicy %s: spec.namespaceSelector: %w", p.Name, err)
	}
	return sel, nil
}

// Empty reports whether no policy binds the namespace.
func (r Rules) Empty() bool { return len(r.policies) == 0 }

// Spec checks what the Application's spec names before anything is
// fetched: its Git repository, its chart repository, its destination
// namespace and Helm release namespace. The error is a *Refusal.
func (r Rules) Spec(app *weirv1.Application) error {
	if err := r.url(app.Spec.Source.URL, "spec.source.url", gitRepositories); err != nil {
		return err
	}
	if h := app.Spec.Render.Helm; h != nil && h.ChartRef != nil {
		if err := r.url(h.ChartRef.Repository, "spec.render.helm.chartRef.repository", chartRepositories); err != nil {
			return err
		}
	}
	if err := r.namespace(app.DestinationNamespace(), "spec.destination.namespace", app.Namespace); err != nil {
		return err
	}
	if h := app.Spec.Render.Helm; h != nil && h.Namespace != "" {
		return r.namespace(h.Namespace, "spec.render.helm.namespace", app.Namespace)
	}
	return nil
}

// Objects checks the namespace of every namespaced object of a rendered
// set, once the objects have their namespaces (apply's Normalize).
// Cluster-scoped objects, and objects without a namespace, are not
// checked. The error is a *Refusal.
func (r Rules) Objects(app *weirv1.Application, objs []*unstructured.Unstructured) error {
	for _, obj := range objs {
		ns := obj.GetNamespace()
		if ns == "" {
			continue
		}
		if p := r.refusing(ns, app.Namespace); p != nil {
			return &Refusal{Policy: p.Name, Field: "metadata.namespace of " + describe(obj), Value: ns, Allowed: p.Spec.DestinationNamespaces}
		}
	}
	return nil
}

// url checks a repository URL against the patterns list picks of every policy.
func (r Rules) url(raw, field string, list func(*weirv1.SourcePolicySpec) []string) error {
	var normal string
	for _, p := range r.policies {
		patterns := list(&p.Spec)
		if len(patterns) == 0 {
			continue
		}
		if normal == "" {
			var err error
			if normal, err = NormalizeURL(raw); err != nil {
				return &Refusal{Policy: p.Name, Field: field, Why: err.Error()}
			}
		}
		if !slices.ContainsFunc(patterns, func(pat string) bool { return matchURL(pat, normal) }) {
			return &Refusal{Policy: p.Name, Field: field, Value: normal, Allowed: patterns}
		}
	}
	return nil
}

// namespace checks a namespace that field holds against every policy's
// destinationNamespaces.
func (r Rules) namespace(ns, field, own string) error {
	if p := r.refusing(ns, own); p != nil {
		return &Refusal{Policy: p.Name, Field: field, Value: ns, Allowed: p.Spec.DestinationNamespaces}
	}
	return nil
}

// refusing is the first policy whose destinationNamespaces do not allow
// ns; nil when all do.
func (r Rules) refusing(ns, own string) *weirv1.SourcePolicy {
	for i, p := range r.policies {
		patterns := p.Spec.DestinationNamespaces
		if len(patterns) > 0 && !slices.ContainsFunc(patterns, func(pat string) bool { return matchNamespace(pat, ns, own) }) {
			return &r.policies[i]
		}
	}
	return nil
}

func gitRepositories(s *weirv1.SourcePolicySpec) []string   { return s.GitRepositories }
func chartRepositories(s *weirv1.SourcePolicySpec) []string { return s.ChartRepositories }

// describe names an object as messages do: "apps/Deployment shop/web".
func describe(obj *unstructured.Unstructured) string {
	gvk := obj.GroupVersionKind()
	return weirv1.ObjectRef{Group: gvk.Group, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}.String()
}

// Refusal is a value of an Application that a SourcePolicy does not allow.
type Refusal struct {
	// Policy is the SourcePolicy's name.
	Policy string
	// Field is where the value is: "spec.source.url", "metadata.namespace
	// of apps/Deployment shop/web".
	Field string
	// Value is what the field holds; a URL in its normal form, without
	// credentials. Empty when Why says the value could not be read.
	Value string
	// Why the value could not be read, when it could not.
	Why string
	// Allowed are the policy's patterns for the field.
	Allowed []string
}

func (e *Refusal) Error() string {
	if e.Why != "" {
		return fmt.Sprintf("%s cannot be checked against SourcePolicy %s: %s", e.Field, e.Policy, e.Why)
	}
	return fmt.Sprintf("%s: %q is not allowed by SourcePolicy %s (allowed: %s)", e.Field, e.Value, e.Policy, strings.Join(e.Allowed, ", "))
}
