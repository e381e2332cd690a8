package traffic

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

func installIstioCRDs(t *testing.T) {
	testenv.InstallCRDs(t, filepath.Join(testenv.ModuleDir(t, "istio.io/api"), "kubernetes", "customresourcedefinitions.gen.yaml"))
}

func istioRouting(vs string, routes ...string) *v1alpha1.TrafficRouting {
	return &v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{VirtualService: vs, Routes: routes}}
}

func TestIstioRouter(t *testing.T) {
	installIstioCRDs(t)
	f := newFixture(t)
	created := f.create("virtualservice.yaml")
	r := f.router(f.rollout(istioRouting("web", "primary")), f.sides())
	read := func() *unstructured.Unstructured { return f.get(created.GroupVersionKind(), "web") }
	f.must("Check", r.Check(f.ctx))

	for _, w := range []int32{0, 25} {
		f.must(fmt.Sprint("SetWeight ", w), r.SetWeight(f.ctx, w))
		if got, want := destinationWeights(read(), 1), fmt.Sprintf("web-stable=%d web-canary=%d", 100-w, w); got != want {
			t.Errorf("after SetWeight(%d): primary route %s, want %s", w, got, want)
		}
	}
	sameYAML(t, "primary route's destinations", at(read().Object, "spec", "http", 1, "route"), fromYAML(t, `
- destination: {host: web-stable, port: {number: 80}}
  weight: 75
- destination: {host: web-canary, port: {number: 80}}
  weight: 25
`))
	version := read().GetResourceVersion()
	f.must("SetWeight 25 again", r.SetWeight(f.ctx, 25))
	if v := read().GetResourceVersion(); v != version {
		t.Errorf("SetWeight(25) twice wrote the VirtualService twice (resourceVersion %s, then %s)", version, v)
	}

	f.must("SetHeaderRoute", r.SetHeaderRoute(f.ctx, &v1alpha1.HeaderRoute{Matches: []v1alpha1.RequestMatch{
		{Header: "X-Canary", Value: "yes"}, {Cookie: "canary", Regex: "on|yes"},
	}}))
	routes := at(read().Object, "spec", "http").([]any)
	if len(routes) != 3 {
		t.Fatalf("after SetHeaderRoute: %d HTTP routes, want weir's header route, admin and primary:\n%s", len(routes), yamlOf(routes))
	}
	sameYAML(t, "header route, first", routes[0], fromYAML(t, `
name: weir-header-primary
match:
- uri: {prefix: /}
  headers:
    x-canary: {exact: "yes"}
- uri: {prefix: /}
  headers:
    cookie: {regex: '^(?:.*;\s*)?canary=(?:on|yes)(?:;.*)?$'}
timeout: 5s
route:
- destination: {host: web-canary, port: {number: 80}}
`))
	f.must("SetHeaderRoute with fewer matches", r.SetHeaderRoute(f.ctx, &v1alpha1.HeaderRoute{Matches: []v1alpha1.RequestMatch{{Header: "X-Canary"}}}))
	if got := yamlOf(at(read().Object, "spec", "http", 0, "match")); !strings.Contains(got, "regex: .*") || strings.Contains(got, "cookie") {
		t.Errorf("the header route was not replaced: %s", got)
	}
	f.must("Check with weir's header route in place", r.Check(f.ctx))

	f.must("SetMirror 50", r.SetMirror(f.ctx, 50))
	primary := at(read().Object, "spec", "http", 2)
	sameYAML(t, "mirror", at(primary, "mirror"), fromYAML(t, `{host: web-canary, port: {number: 80}}`))
	sameYAML(t, "mirrorPercentage", at(primary, "mirrorPercentage"), fromYAML(t, `{value: 50}`))
	if at(read().Object, "spec", "http", 0, "mirror") != nil {
		t.Error("the header route mirrors too")
	}

	f.must("SetWeight 100", r.SetWeight(f.ctx, 100))
	if got := destinationWeights(read(), 2); got != "web-stable=0 web-canary=100" {
		t.Errorf("after SetWeight(100): %s", got)
	}

	f.must("Reset", r.Reset(f.ctx))
	after := read()
	want := created.DeepCopy()
	primaryWant := at(want.Object, "spec", "http", 1).(map[string]any)
	primaryWant["route"] = fromYAML(t, `
- destination: {host: web-stable, port: {number: 80}}
  weight: 100
- destination: {host: web-canary, port: {number: 80}}
  weight: 0
`)
	sameYAML(t, "spec after Reset (all to stable, the canary destination at 0, nothing else of weir's)", after.Object["spec"], want.Object["spec"])
	sameYAML(t, "annotations after Reset", after.GetAnnotations(), created.GetAnnotations())

	istioCheckErrors(t, f)
}

func istioCheckErrors(t *testing.T, f *fixture) {
	ns := f.ns
	missing := f.router(unsaved(istioRouting("nope")), f.sides())
	wantErr(t, "Check of a missing VirtualService", missing.Check(f.ctx), "VirtualService "+ns+"/nope not found")

	noRoute := f.router(unsaved(istioRouting("web", "primary", "secondary")), f.sides())
	wantErr(t, "Check of a missing route", noRoute.Check(f.ctx), `VirtualService `+ns+`/web has no HTTP route "secondary"`)

	unnamed := f.router(unsaved(istioRouting("web")), f.sides())
	wantErr(t, "Check without route names on two routes", unnamed.Check(f.ctx), "VirtualService "+ns+"/web has 2 HTTP routes", "trafficRouting.istio.routes")

	noStable := f.router(unsaved(istioRouting("web", "admin")), f.sides())
	wantErr(t, "Check of a route without the stable Service", noStable.Check(f.ctx),
		`HTTP route "admin" of VirtualService `+ns+`/web has no destination on Service `+ns+`/web-stable`)
}

// TestIstioRouterOnTheOnlyRouteWithLongHosts weights the only HTTP route of
// a VirtualService whose destinations name the Services by their full
// names, and keeps a mirror that is not weir's.
func TestIstioRouterOnTheOnlyRouteWithLongHosts(t *testing.T) {
	installIstioCRDs(t)
	f := newFixture(t)
	u := &unstructured.Unstructured{Object: fromYAML(t, fmt.Sprintf(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: %[1]s}
spec:
  hosts: [web]
  http:
  - mirror: {host: audit.%[1]s.svc.cluster.local}
    route:
    - destination: {host: web-stable.%[1]s.svc.cluster.local, subset: v1}
`, f.ns)).(map[string]any)}
	f.must("create VirtualService", f.c.Create(f.ctx, u))
	r := f.router(f.rollout(istioRouting("web")), f.sides())
	f.must("SetWeight 40", r.SetWeight(f.ctx, 40))
	sameYAML(t, "destinations", at(f.get(u.GroupVersionKind(), "web").Object, "spec", "http", 0, "route"), fromYAML(t, fmt.Sprintf(`
- destination: {host: web-stable.%[1]s.svc.cluster.local, subset: v1}
  weight: 60
- destination: {host: web-canary.%[1]s.svc.cluster.local}
  weight: 40
`, f.ns)))
	wantErr(t, "SetMirror over someone else's mirror", r.SetMirror(f.ctx, 10), "already mirrors to audit."+f.ns)
	f.must("Reset", r.Reset(f.ctx))
	if got := destinationWeights(f.get(u.GroupVersionKind(), "web"), 0); !strings.HasPrefix(got, "web-stable."+f.ns) || !strings.HasSuffix(got, "=0") {
		t.Errorf("after Reset: %s", got)
	}
}

// destinationWeights lists "host=weight" of HTTP route i's destinations.
func destinationWeights(u *unstructured.Unstructured, i int) string {
	var out []string
	for _, d := range objects(at(u.Object, "spec", "http", i, "route")) {
		out = append(out, fmt.Sprintf("%s=%v", at(d, "destination", "host"), d["weight"]))
	}
	return strings.Join(out, " ")
}
