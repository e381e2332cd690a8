package sourcepolicy

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

func TestMatchURL(t *testing.T) {
	for _, tc := range []struct {
		pattern, url string
		want         bool
	}{
		{"https://github.com/acme/*", "https://github.com/acme/shop", true},
		{"https://github.com/acme/*", "https://github.com/acme/team/shop", false},
		{"https://github.com/acme/*", "https://github.com/acmecorp/shop", false},
		{"https://github.com/acme/*", "ssh://github.com/acme/shop", false},
		{"*://github.com/acme/*", "ssh://github.com/acme/shop", true},
		{"https://github.com/acme/**", "https://github.com/acme/team/shop", true},
		{"https://github.com/acme/**", "https://github.com/acme", true},
		{"https://github.com/acme/**", "https://github.com/acmecorp/shop", false},
		{"https://github.com/acme/**", "https://github.com", false},
		{"https://*.example.com/**", "https://git.example.com/a/b", true},
		{"https://*.example.com/**", "https://example.com.evil.example/a", false},
		{"https://*.example.com/**", "https://git.example.com:8443/a", false},
		// Patterns are read as URLs are written.
		{"HTTPS://GitHub.com/acme/shop.git/", "https://github.com/acme/shop", true},
		{"https://github.com/acme/shop", "https://github.com/acme/shop-fork", false},
		{"https://github.com/acme/[", "https://github.com/acme/[", false},
	} {
		if got := matchURL(tc.pattern, tc.url); got != tc.want {
			t.Errorf("matchURL(%q, %q) = %v, want %v", tc.pattern, tc.url, got, tc.want)
		}
	}
}

func TestMatchNamespace(t *testing.T) {
	for _, tc := range []struct {
		pattern, namespace string
		want               bool
	}{
		{"$(namespace)", "team-a", true},
		{"$(namespace)", "team-b", false},
		{"$(namespace)-*", "team-a-web", true},
		{"$(namespace)-*", "team-a", false},
		{"team-*", "team-b", true},
		{"*", "kube-system", true},
	} {
		if got := matchNamespace(tc.pattern, tc.namespace, "team-a"); got != tc.want {
			t.Errorf("matchNamespace(%q, %q) = %v, want %v", tc.pattern, tc.namespace, got, tc.want)
		}
	}
}

// policies are two SourcePolicies of a cluster with tenants: one for every
// namespace, one for the tenants' namespaces.
var policies = []weirv1.SourcePolicy{
	{
		ObjectMeta: metav1.ObjectMeta{Name: "tenants"},
		Spec: weirv1.SourcePolicySpec{
			NamespaceSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{"tenant": "yes"}},
			GitRepositories:       []string{"https://git.example.com/tenants/**"},
			DestinationNamespaces: []string{"$(namespace)", "$(namespace)-*"},
		},
	},
	{
		ObjectMeta: metav1.ObjectMeta{Name: "everyone"},
		Spec: weirv1.SourcePolicySpec{
			GitRepositories:   []string{"https://git.example.com/**", "ssh://git.example.com/**"},
			ChartRepositories: []string{"oci://ghcr.io/acme/*"},
		},
	},
}

func TestRulesSpec(t *testing.T) {
	tenant, other := labels.Set{"tenant": "yes"}, labels.Set{}
	app := func(url string, edit func(*weirv1.ApplicationSpec)) *weirv1.Application {
		a := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop"}}
		a.Spec.Source.URL = url
		if edit != nil {
			edit(&a.Spec)
		}
		return a
	}
	chart := func(repo string) func(*weirv1.ApplicationSpec) {
		return func(s *weirv1.ApplicationSpec) {
			s.Render.Helm = &weirv1.HelmSpec{ChartRef: &weirv1.HelmChartRef{Repository: repo}}
		}
	}
	for _, tc := range []struct {
		name      string
		labels    labels.Set
		app       *weirv1.Application
		want      *Refusal // nil: allowed
		wantValue string
	}{
		{"a tenant's own repository", tenant, app("https://git.example.com/tenants/team-a/shop.git", nil), nil, ""},
		{"outside the tenants' tree", tenant, app("https://git.example.com/platform/infra", nil),
			&Refusal{Policy: "tenants", Field: "spec.source.url"}, "https://git.example.com/platform/infra"},
		{"out of the tree by ..", tenant, app("https://git.example.com/tenants/../platform/infra", nil),
			&Refusal{Policy: "tenants", Field: "spec.source.url"}, "https://git.example.com/platform/infra"},
		{"another host for everyone", other, app("git@github.com:evil/shop.git", nil),
			&Refusal{Policy: "everyone", Field: "spec.source.url"}, "ssh://github.com/evil/shop"},
		{"credentials are never shown", other, app("https://x:s3cret@github.com/evil/shop", nil),
			&Refusal{Policy: "everyone", Field: "spec.source.url"}, "https://github.com/evil/shop"},
		{"an scp-like address for everyone", other, app("git@GIT.example.com:platform/infra", nil), nil, ""},
		{"an unreadable URL", other, app("https://git.example.com/x?y", nil),
			&Refusal{Policy: "everyone", Field: "spec.source.url"}, ""},
		{"an allowed chart", other, app("https://git.example.com/a", chart("oci://ghcr.io/acme/web")), nil, ""},
		{"a chart from elsewhere", other, app("https://git.example.com/a", chart("https://charts.evil.example/")),
			&Refusal{Policy: "everyone", Field: "spec.render.helm.chartRef.repository"}, "https://charts.evil.example"},
		{"another tenant's namespace", tenant, app("https://git.example.com/tenants/a", func(s *weirv1.ApplicationSpec) {
			s.Destination.Namespace = "team-b"
		}), &Refusal{Policy: "tenants", Field: "spec.destination.namespace"}, "team-b"},
		{"a namespace of the tenant's own", tenant, app("https://git.example.com/tenants/a", func(s *weirv1.ApplicationSpec) {
			s.Destination.Namespace = "team-a-web"
		}), nil, ""},
		{"a Helm release elsewhere", tenant, app("https://git.example.com/tenants/a", func(s *weirv1.ApplicationSpec) {
			s.Render.Helm = &weirv1.HelmSpec{Namespace: "kube-system"}
		}), &Refusal{Policy: "tenants", Field: "spec.render.helm.namespace"}, "kube-system"},
		{"another namespace, no tenant", other, app("https://git.example.com/a", func(s *weirv1.ApplicationSpec) {
			s.Destination.Namespace = "kube-system"
		}), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := Select(policies, tc.labels)
			if err != nil {
				t.Fatal(err)
			}
			checkRefusal(t, rules.Spec(tc.app), tc.want, tc.wantValue)
		})
	}
}

func TestRulesObjects(t *testing.T) {
	app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop"}}
	object := func(kind, namespace string) *unstructured.Unstructured {
		obj := &unstructured.Unstructured{}
		obj.SetAPIVersion("v1")
		obj.SetKind(kind)
		obj.SetNamespace(namespace)
		obj.SetName("x")
		return obj
	}
	rules, err := Select(policies, labels.Set{"tenant": "yes"})
	if err != nil {
		t.Fatal(err)
	}
	allowed := []*unstructured.Unstructured{object("ConfigMap", "team-a"), object("ConfigMap", "team-a-web"), object("Namespace", "")}
	if err := rules.Objects(app, allowed); err != nil {
		t.Errorf("objects in the tenant's namespaces refused: %v", err)
	}
	err = rules.Objects(app, append(allowed, object("Secret", "team-b")))
	checkRefusal(t, err, &Refusal{Policy: "tenants", Field: "metadata.namespace of Secret team-b/x"}, "team-b")
	if want := `metadata.namespace of Secret team-b/x: "team-b" is not allowed by SourcePolicy tenants (allowed: $(namespace), $(namespace)-*)`; err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
}

func TestNoPolicyAllowsEverything(t *testing.T) {
	app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop"}}
	app.Spec.Source.URL = "not a URL at all?"
	app.Spec.Destination.Namespace = "kube-system"
	if err := (Rules{}).Spec(app); err != nil {
		t.Errorf("no policy refused %v", err)
	}
}

func TestAMalformedSelectorIsAnError(t *testing.T) {
	bad := weirv1.SourcePolicy{ObjectMeta: metav1.ObjectMeta{Name: "bad"}, Spec: weirv1.SourcePolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Sometimes"}}},
	}}
	if _, err := Select([]weirv1.SourcePolicy{bad}, nil); err == nil {
		t.Error("a policy whose selector does not parse was ignored")
	}
}

func checkRefusal(t *testing.T, err error, want *Refusal, value string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("refused: %v", err)
		}
		return
	}
	refusal := (*Refusal)(nil)
	if !errors.As(err, &refusal) {
		t.Fatalf("got %v, want a refusal of %s by %s", err, want.Field, want.Policy)
	}
	if refusal.Policy != want.Policy || refusal.Field != want.Field || refusal.Value != value {
		t.Errorf("refused %s %q by %s, want %s %q by %s", refusal.Field, refusal.Value, refusal.Policy, want.Field, value, want.Policy)
	}
}
