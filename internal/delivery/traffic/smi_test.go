package traffic

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

var trafficSplitKind = schema.GroupVersionKind{Group: "split.smi-spec.io", Version: "v1alpha4", Kind: "TrafficSplit"}

func TestSMIRouter(t *testing.T) {
	testenv.InstallCRDs(t, "testdata/split.smi-spec.io_trafficsplits.yaml")
	f := newFixture(t)
	ro := f.rollout(&v1alpha1.TrafficRouting{SMI: &v1alpha1.SMIRouting{}})
	r := f.router(ro, f.sides())
	wantErr(t, "Check without the root Service", r.Check(f.ctx), "Service "+f.ns+"/web, the root service of TrafficSplit "+f.ns+"/web, not found")
	f.service("web")
	f.must("Check", r.Check(f.ctx))

	for _, w := range []int32{0, 25, 100} {
		f.must(fmt.Sprint("SetWeight ", w), r.SetWeight(f.ctx, w))
		split := f.get(trafficSplitKind, "web")
		sameYAML(t, fmt.Sprintf("spec after SetWeight(%d)", w), split.Object["spec"], fromYAML(t, fmt.Sprintf(`
service: web
backends:
- {service: web-stable, weight: %d}
- {service: web-canary, weight: %d}
`, 100-w, w)))
	}
	split := f.get(trafficSplitKind, "web")
	if got := split.GetLabels()[v1alpha1.RolloutLabel]; got != "web" {
		t.Errorf("label %s = %q, want web", v1alpha1.RolloutLabel, got)
	}
	if refs := split.GetOwnerReferences(); len(refs) != 1 || refs[0].UID != ro.UID || refs[0].Kind != "Rollout" {
		t.Errorf("owner references %+v, want the Rollout", refs)
	}
	version := split.GetResourceVersion()
	f.must("SetWeight 100 again", r.SetWeight(f.ctx, 100))
	if v := f.get(trafficSplitKind, "web").GetResourceVersion(); v != version {
		t.Errorf("SetWeight(100) twice wrote the TrafficSplit twice")
	}

	wantUnsupported(t, "SetHeaderRoute", r.SetHeaderRoute(f.ctx, &v1alpha1.HeaderRoute{Matches: []v1alpha1.RequestMatch{{Header: "x", Value: "1"}}}))
	wantUnsupported(t, "SetMirror", r.SetMirror(f.ctx, 10))
	f.must("SetHeaderRoute(nil)", r.SetHeaderRoute(f.ctx, nil))
	f.must("SetMirror(0)", r.SetMirror(f.ctx, 0))

	f.must("Reset", r.Reset(f.ctx))
	sameYAML(t, "spec after Reset", f.get(trafficSplitKind, "web").Object["spec"], fromYAML(t, `
service: web
backends:
- {service: web-stable, weight: 100}
`))
}

func TestSMIRouterLeavesAnotherTrafficSplitAlone(t *testing.T) {
	testenv.InstallCRDs(t, "testdata/split.smi-spec.io_trafficsplits.yaml")
	f := newFixture(t)
	f.service("web")
	theirs := &unstructured.Unstructured{Object: fromYAML(t, `
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {name: shop}
spec:
  service: web
  backends: [{service: web, weight: 100}]
`).(map[string]any)}
	theirs.SetNamespace(f.ns)
	f.must("create TrafficSplit", f.c.Create(f.ctx, theirs))
	r := f.router(f.rollout(&v1alpha1.TrafficRouting{SMI: &v1alpha1.SMIRouting{TrafficSplit: "shop"}}), f.sides())
	wantErr(t, "Check", r.Check(f.ctx), "TrafficSplit "+f.ns+"/shop exists and is not weir's for Rollout web")
	wantErr(t, "SetWeight", r.SetWeight(f.ctx, 10), "TrafficSplit "+f.ns+"/shop exists and is not weir's")
	sameYAML(t, "their TrafficSplit", f.get(trafficSplitKind, "shop").Object["spec"], theirs.Object["spec"])
}

func TestUnservedKindIsNamed(t *testing.T) {
	f := newFixture(t)
	ref := kindRef{gk: schema.GroupKind{Group: "example.weir.dev", Kind: "Router"}, crd: "Example", namespace: f.ns, name: "web"}
	_, err := ref.get(f.ctx, f.c)
	wantErr(t, "get", err, "Router "+f.ns+"/web: the cluster does not serve Router (example.weir.dev); install the Example CRDs")
}
