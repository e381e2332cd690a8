package traffic

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// TestGatewayAPIRouter runs the same story on the HTTPRoute CRD of
// Gateway API's standard channel, its experimental channel, and one
// without requestMirror.percent (as before v1.2).
func TestGatewayAPIRouter(t *testing.T) {
	dir := filepath.Join(testenv.ModuleDir(t, "sigs.k8s.io/gateway-api"), "config", "crd")
	const file = "gateway.networking.k8s.io_httproutes.yaml"
	t.Run("standard", func(t *testing.T) {
		replaceCRD(t, filepath.Join(dir, "standard", file), nil, nil)
		gatewayStory(t)
	})
	t.Run("experimental", func(t *testing.T) {
		replaceCRD(t, filepath.Join(dir, "experimental", file), nil, nil)
		gatewayStory(t)
	})
	t.Run("without mirror percent", func(t *testing.T) {
		replaceCRD(t, filepath.Join(dir, "standard", file), withoutMirrorPercent, mirrorPercentRefused)
		f := newFixture(t)
		f.create("httproute.yaml")
		r := f.router(f.rollout(gatewayRouting("web")), f.sides())
		wantUnsupported(t, "SetMirror(50)", r.SetMirror(f.ctx, 50))
		f.must("SetMirror(100), which needs no percent", r.SetMirror(f.ctx, 100))
		f.must("Reset", r.Reset(f.ctx))
	})
}

func gatewayStory(t *testing.T) {
	f := newFixture(t)
	created := f.create("httproute.yaml")
	r := f.router(f.rollout(gatewayRouting("web")), f.sides())
	read := func() *unstructured.Unstructured { return f.get(created.GroupVersionKind(), "web") }
	f.must("Check", r.Check(f.ctx))

	for _, w := range []int32{0, 25} {
		f.must(fmt.Sprint("SetWeight ", w), r.SetWeight(f.ctx, w))
		if got, want := backendWeights(read(), 1), fmt.Sprintf("web-stable=%d web-canary=%d", 100-w, w); got != want {
			t.Errorf("after SetWeight(%d): primary rule backends %s, want %s", w, got, want)
		}
	}
	version := read().GetResourceVersion()
	f.must("SetWeight 25 again", r.SetWeight(f.ctx, 25))
	if v := read().GetResourceVersion(); v != version {
		t.Errorf("SetWeight(25) twice wrote the HTTPRoute twice (resourceVersion %s, then %s)", version, v)
	}

	f.must("SetHeaderRoute", r.SetHeaderRoute(f.ctx, &v1alpha1.HeaderRoute{Matches: []v1alpha1.RequestMatch{{Header: "X-Canary", Value: "yes"}}}))
	f.must("SetHeaderRoute again", r.SetHeaderRoute(f.ctx, &v1alpha1.HeaderRoute{Matches: []v1alpha1.RequestMatch{
		{Header: "X-Canary", Value: "yes"}, {Cookie: "canary", Value: "on"},
	}}))
	rules := at(read().Object, "spec", "rules").([]any)
	if len(rules) != 3 {
		t.Fatalf("after SetHeaderRoute: %d rules, want admin, primary and weir's header rule:\n%s", len(rules), yamlOf(rules))
	}
	sameYAML(t, "header rule", rules[2], fromYAML(t, `
name: weir-header-primary
matches:
- path: {type: PathPrefix, value: /}
  headers:
  - {name: X-Canary, type: Exact, value: "yes"}
- path: {type: PathPrefix, value: /}
  headers:
  - {name: cookie, type: RegularExpression, value: '^(?:.*;\s*)?canary=on(?:;.*)?$'}
filters:
- type: RequestHeaderModifier
  requestHeaderModifier:
    add: [{name: x-via, value: shop}]
backendRefs:
- {group: "", kind: Service, name: web-canary, port: 80, weight: 1}
`))

	f.must("SetMirror 50", r.SetMirror(f.ctx, 50))
	sameYAML(t, "primary rule's filters with a mirror", at(read().Object, "spec", "rules", 1, "filters"), fromYAML(t, `
- type: RequestHeaderModifier
  requestHeaderModifier:
    add: [{name: x-via, value: shop}]
- type: RequestMirror
  requestMirror:
    backendRef: {group: "", kind: Service, name: web-canary, port: 80}
    percent: 50
`))
	if filters := at(read().Object, "spec", "rules", 2, "filters").([]any); len(filters) != 1 {
		t.Errorf("the header rule mirrors too: %s", yamlOf(filters))
	}
	f.must("SetMirror 0", r.SetMirror(f.ctx, 0))
	if filters := at(read().Object, "spec", "rules", 1, "filters").([]any); len(filters) != 1 {
		t.Errorf("SetMirror(0) left filters %s", yamlOf(filters))
	}
	f.must("SetMirror 100", r.SetMirror(f.ctx, 100))

	f.must("SetWeight 100", r.SetWeight(f.ctx, 100))
	if got := backendWeights(read(), 1); got != "web-stable=0 web-canary=100" {
		t.Errorf("after SetWeight(100): %s", got)
	}

	f.must("Reset", r.Reset(f.ctx))
	after := read()
	want := created.DeepCopy()
	backends := at(want.Object, "spec", "rules", 1, "backendRefs").([]any)
	backends[0].(map[string]any)["weight"] = int64(100)
	canary := copyMap(backends[0].(map[string]any))
	canary["name"], canary["weight"] = "web-canary", int64(0)
	at(want.Object, "spec", "rules", 1).(map[string]any)["backendRefs"] = append(backends, canary)
	sameYAML(t, "spec after Reset (all to stable, the canary backend at 0, nothing else of weir's)", after.Object["spec"], want.Object["spec"])
	sameYAML(t, "annotations after Reset", after.GetAnnotations(), created.GetAnnotations())

	gatewayCheckErrors(t, f)
}

func gatewayCheckErrors(t *testing.T, f *fixture) {
	missing := f.router(unsaved(gatewayRouting("nope")), f.sides())
	wantErr(t, "Check of a missing HTTPRoute", missing.Check(f.ctx), "HTTPRoute "+f.ns+"/nope not found")
	wantErr(t, "SetWeight on a missing HTTPRoute", missing.SetWeight(f.ctx, 10), "HTTPRoute "+f.ns+"/nope not found")

	other := f.sides()
	other.StableService = "shop-stable"
	noStable := f.router(unsaved(gatewayRouting("web")), other)
	wantErr(t, "Check of an HTTPRoute without the stable Service", noStable.Check(f.ctx),
		"HTTPRoute "+f.ns+"/web has no rule whose backendRefs include Service "+f.ns+"/shop-stable")

	r := f.router(unsaved(gatewayRouting("web")), f.sides())
	wantErr(t, "SetWeight(101)", r.SetWeight(f.ctx, 101), "101")
	wantErr(t, "a header route with a bad regex", r.SetHeaderRoute(f.ctx, &v1alpha1.HeaderRoute{
		Matches: []v1alpha1.RequestMatch{{Header: "x", Regex: "("}}}), "HTTPRoute "+f.ns+"/web", "regex")
}

// mirrorPercentRefused says whether the HTTPRoute schema in force has lost
// requestMirror.percent: a strict dry-run create with it fails.
func mirrorPercentRefused(ctx context.Context, c client.Client) bool {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: probe, namespace: default}
spec:
  rules:
  - filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: a, port: 80}, percent: 5}
`), &u.Object); err != nil {
		panic(err)
	}
	err := c.Create(ctx, u, client.DryRunAll, client.FieldValidation("Strict"))
	return err != nil && strings.Contains(err.Error(), "percent")
}

func gatewayRouting(route string) *v1alpha1.TrafficRouting {
	return &v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{HTTPRoute: route}}
}

// unsaved is a Rollout "web" with the router that is not in the cluster.
func unsaved(routing *v1alpha1.TrafficRouting) *v1alpha1.Rollout {
	ro := &v1alpha1.Rollout{}
	ro.Name = "web"
	ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{Service: "web", TrafficRouting: routing}
	return ro
}

// backendWeights lists "name=weight" of the backendRefs of rule i.
func backendWeights(u *unstructured.Unstructured, i int) string {
	var out []string
	for _, ref := range objects(at(u.Object, "spec", "rules", i, "backendRefs")) {
		out = append(out, fmt.Sprintf("%s=%v", ref["name"], ref["weight"]))
	}
	return strings.Join(out, " ")
}

// fromYAML parses a YAML document for comparisons.
func fromYAML(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}
