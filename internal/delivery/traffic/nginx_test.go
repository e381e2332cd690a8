package traffic

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

func nginxRouting(ingress string) *v1alpha1.TrafficRouting {
	return &v1alpha1.TrafficRouting{NGINX: &v1alpha1.NGINXRouting{Ingress: ingress}}
}

func TestNGINXRouter(t *testing.T) {
	f := newFixture(t)
	created := f.create("ingress.yaml")
	ro := f.rollout(nginxRouting("web"))
	r := f.router(ro, f.sides())
	f.must("Check", r.Check(f.ctx))
	canary := func() *networkingv1.Ingress {
		t.Helper()
		ing := &networkingv1.Ingress{}
		f.must("read the canary Ingress", f.c.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: "web-canary"}, ing))
		return ing
	}

	f.must("SetWeight 0", r.SetWeight(f.ctx, 0))
	ing := canary()
	sameYAML(t, "canary annotations at 0", ing.Annotations, map[string]string{
		"kubernetes.io/ingress.class":               "nginx",
		"nginx.ingress.kubernetes.io/canary":        "true",
		"nginx.ingress.kubernetes.io/canary-weight": "0",
	})
	sameYAML(t, "canary spec", ing.Spec, fromYAML(t, `
tls:
- hosts: [shop.example.com]
  secretName: shop-tls
rules:
- host: shop.example.com
  http:
    paths:
    - path: /
      pathType: Prefix
      backend:
        service: {name: web-canary, port: {number: 80}}
`))
	if ing.Labels[v1alpha1.RolloutLabel] != "web" || ing.Labels[v1alpha1.RoleLabel] != "canary" {
		t.Errorf("canary labels %v", ing.Labels)
	}
	if refs := ing.OwnerReferences; len(refs) != 1 || refs[0].UID != ro.UID {
		t.Errorf("canary owner references %+v, want the Rollout", refs)
	}

	f.must("SetWeight 25", r.SetWeight(f.ctx, 25))
	version := canary().ResourceVersion
	f.must("SetWeight 25 again", r.SetWeight(f.ctx, 25))
	if v := canary().ResourceVersion; v != version {
		t.Errorf("SetWeight(25) twice wrote the canary Ingress twice")
	}
	f.must("SetHeaderRoute", r.SetHeaderRoute(f.ctx, &v1alpha1.HeaderRoute{Matches: []v1alpha1.RequestMatch{
		{Header: "X-Canary", Regex: "yes|y"}, {Cookie: "canary"},
	}}))
	f.must("SetWeight 100", r.SetWeight(f.ctx, 100))
	sameYAML(t, "canary annotations with a header route at 100", canary().Annotations, map[string]string{
		"kubernetes.io/ingress.class":                          "nginx",
		"nginx.ingress.kubernetes.io/canary":                   "true",
		"nginx.ingress.kubernetes.io/canary-weight":            "100",
		"nginx.ingress.kubernetes.io/canary-by-header":         "X-Canary",
		"nginx.ingress.kubernetes.io/canary-by-header-pattern": "^(?:yes|y)$",
		"nginx.ingress.kubernetes.io/canary-by-cookie":         "canary",
	})
	wantUnsupported(t, "SetHeaderRoute with two headers", r.SetHeaderRoute(f.ctx, &v1alpha1.HeaderRoute{Matches: []v1alpha1.RequestMatch{
		{Header: "a", Value: "1"}, {Header: "b", Value: "1"},
	}}))
	f.must("SetHeaderRoute(nil)", r.SetHeaderRoute(f.ctx, nil))
	if a := canary().Annotations; len(a) != 3 || a["nginx.ingress.kubernetes.io/canary-weight"] != "100" {
		t.Errorf("after SetHeaderRoute(nil): %v", a)
	}
	wantUnsupported(t, "SetMirror", r.SetMirror(f.ctx, 5))
	f.must("SetMirror(0)", r.SetMirror(f.ctx, 0))

	f.must("Reset", r.Reset(f.ctx))
	err := f.c.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: "web-canary"}, &networkingv1.Ingress{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("after Reset, reading the canary Ingress: %v, want not found", err)
	}
	f.must("Reset again", r.Reset(f.ctx))
	stable := f.get(created.GroupVersionKind(), "web")
	if stable.GetResourceVersion() != created.GetResourceVersion() {
		t.Errorf("the user's Ingress was written:\n%s", yamlOf(stable.Object))
	}

	nginxCheckErrors(t, f)
}

func nginxCheckErrors(t *testing.T, f *fixture) {
	ns := f.ns
	missing := f.router(unsaved(nginxRouting("nope")), f.sides())
	wantErr(t, "Check of a missing Ingress", missing.Check(f.ctx), "Ingress "+ns+"/nope not found")

	other := f.sides()
	other.StableService = "shop-stable"
	noStable := f.router(unsaved(nginxRouting("web")), other)
	wantErr(t, "Check of an Ingress without the stable Service", noStable.Check(f.ctx), "Ingress "+ns+"/web has no backend on Service "+ns+"/shop-stable")

	theirs := &networkingv1.Ingress{}
	theirs.Namespace, theirs.Name = ns, "web-canary"
	theirs.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "x", Port: networkingv1.ServiceBackendPort{Number: 80}}}
	f.must("create someone's web-canary Ingress", f.c.Create(f.ctx, theirs))
	r := f.router(unsaved(nginxRouting("web")), f.sides())
	wantErr(t, "Check with someone's web-canary", r.Check(f.ctx), "Ingress "+ns+"/web-canary exists and is not weir's for Rollout web")
	wantErr(t, "Reset with someone's web-canary", r.Reset(f.ctx), "not weir's")
	f.must("their Ingress is still there", f.c.Get(f.ctx, client.ObjectKeyFromObject(theirs), &networkingv1.Ingress{}))
}
