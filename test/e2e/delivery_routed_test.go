package e2e

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/delivery"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// httpRoute is an HTTPRoute web whose one rule sends everything to the
// stable Service weir keeps for the Rollout.
const httpRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
spec:
  parentRefs:
  - name: shop-gateway
  rules:
  - backendRefs:
    - name: web-stable
      port: 80
`

const gatewayRouting = "        gatewayAPI: {httpRoute: web}\n"

// installGatewayAPI installs the HTTPRoute CRD of Gateway API's standard
// channel, from the module weir builds with.
func installGatewayAPI(t testing.TB) {
	dir := filepath.Join(testenv.ModuleDir(t, "sigs.k8s.io/gateway-api"), "config", "crd", "standard")
	testenv.InstallCRDs(t, filepath.Join(dir, "gateway.networking.k8s.io_httproutes.yaml"))
}

// TestCanaryWithGatewayAPI releases through HTTPRoute weights: the canary
// gets a fifth of the pods and of the traffic, a sync in the middle leaves
// the weights alone, a header route sends chosen requests to the canary,
// and the promotion ends with all traffic on the new stable pods.
func TestCanaryWithGatewayAPI(t *testing.T) {
	installGatewayAPI(t)
	steps := `      - setWeight: 20
      - pause: {}
      - setHeaderRoute:
          matches: [{header: x-canary, value: "yes"}]
      - pause: {duration: 1s}
`
	s := given(t, map[string]string{
		"web.yaml":      fixture.Deployment("web", 4, "shop:v1"),
		"svc.yaml":      fixture.Service("web"),
		"route.yaml":    httpRoute,
		"rollout.yaml":  canaryRollout(steps, gatewayRouting, false),
		"settings.yaml": fixture.ConfigMap("settings", "mode", "safe"),
	})
	s.whenApplication(nil)
	s.thenRunning("shop:v1")
	stableBefore := s.selector("web-stable")[podTemplateHash]
	if stableBefore == "" || s.selector("web-canary")[weirv1.RoleLabel] != delivery.RoleCanary {
		t.Fatalf("side Services select %v and %v", s.selector("web-stable"), s.selector("web-canary"))
	}

	s.commit("release v2", map[string]string{"web.yaml": fixture.Deployment("web", 4, "shop:v2")})
	s.thenPausedAt(1, 20)
	s.wantReplicas("web", 4, "shop:v1")
	s.wantReplicas("web-canary", 1, "shop:v2")
	s.wantWeights("web-stable=80 web-canary=20")

	mid := s.commit("change a setting", map[string]string{"settings.yaml": fixture.ConfigMap("settings", "mode", "fast")})
	s.thenApplied(mid)
	s.wantWeights("web-stable=80 web-canary=20")
	s.wantReplicas("web", 4, "shop:v1")

	s.request(weirv1.PromoteAnnotation)
	s.thenRollout("promoted", func(ro *weirv1.Rollout) bool {
		c := apimeta.FindStatusCondition(ro.Status.Conditions, weirv1.ReadyCondition)
		return ro.Status.Phase == weirv1.RolloutIdle && c != nil && c.Reason == delivery.ReasonPromoted
	})
	s.thenIdle("shop:v2")
	if n, _ := s.replicas("web-canary"); n != -1 {
		t.Errorf("the canary is still there after promotion (%d replicas)", n)
	}
	s.wantWeights("web-stable=100 web-canary=0")
	if rules := len(s.route()["spec"].(map[string]any)["rules"].([]any)); rules != 1 {
		t.Errorf("the HTTPRoute has %d rules after promotion, want the header rule gone", rules)
	}
	if after := s.selector("web-stable")[podTemplateHash]; after == stableBefore || after == "" {
		t.Errorf("web-stable selects pod-template-hash %q after promotion, before %q", after, stableBefore)
	}
}

// TestRolloutDeletedMidRelease deletes a Rollout paused at 20%: all
// traffic goes back to stable, and web-stable, which the HTTPRoute in Git
// names, outlives the Rollout, selecting what web selects.
func TestRolloutDeletedMidRelease(t *testing.T) {
	installGatewayAPI(t)
	s := given(t, map[string]string{
		"web.yaml":     fixture.Deployment("web", 2, "shop:v1"),
		"svc.yaml":     fixture.Service("web"),
		"route.yaml":   httpRoute,
		"rollout.yaml": canaryRollout("      - setWeight: 20\n      - pause: {}\n", gatewayRouting, false),
	})
	s.whenApplication(nil)
	s.thenRunning("shop:v1")
	s.commit("release v2", map[string]string{"web.yaml": fixture.Deployment("web", 2, "shop:v2")})
	s.thenPausedAt(1, 20)
	s.wantWeights("web-stable=80 web-canary=20")
	if ro := s.rollout(); !controllerutil.ContainsFinalizer(ro, weirv1.RolloutFinalizer) {
		t.Errorf("Rollout finalizers %v, want %s", ro.Finalizers, weirv1.RolloutFinalizer)
	}

	s.suspend()
	if err := s.c.Delete(context.Background(), s.rollout()); err != nil {
		t.Fatal(err)
	}
	s.absent(&weirv1.Rollout{}, "web")
	s.wantWeights("web-stable=100 web-canary=0")
	if n, _ := s.replicas("web-canary"); n > 0 {
		t.Errorf("the canary of the deleted Rollout still has %d replicas", n)
	}
	svc := &corev1.Service{}
	s.get(svc, "web-stable")
	if len(svc.OwnerReferences) != 0 || !maps.Equal(svc.Spec.Selector, map[string]string{"app": "web"}) {
		t.Errorf("web-stable after the Rollout: owners %v, selector %v; want none and web's selector", svc.OwnerReferences, svc.Spec.Selector)
	}
}

// suspend stops the story's Application from syncing.
func (s *story) suspend() {
	s.t.Helper()
	before := s.app.DeepCopy()
	s.app.Spec.Suspend = true
	if err := s.c.Patch(context.Background(), s.app, client.MergeFrom(before)); err != nil {
		s.t.Fatalf("suspend the Application: %v", err)
	}
}

const podTemplateHash = "pod-template-hash"

// selector is the selector of a Service in the story's namespace.
func (s *story) selector(name string) map[string]string {
	s.t.Helper()
	svc := &corev1.Service{}
	s.get(svc, name)
	return svc.Spec.Selector
}

// route reads the HTTPRoute web.
func (s *story) route() map[string]any {
	return s.object("gateway.networking.k8s.io/v1", "HTTPRoute", "web")
}

// wantWeights checks the backends of the HTTPRoute's first rule.
func (s *story) wantWeights(want string) {
	s.t.Helper()
	rules := s.route()["spec"].(map[string]any)["rules"].([]any)
	var got []string
	for _, rule := range rules {
		refs, _ := rule.(map[string]any)["backendRefs"].([]any)
		if len(rule.(map[string]any)["matches"].([]any)) > 0 && len(rules) > 1 && strings.Contains(fmt.Sprint(rule), "x-canary") {
			continue // weir's header rule
		}
		for _, r := range refs {
			ref := r.(map[string]any)
			got = append(got, fmt.Sprintf("%s=%v", ref["name"], ref["weight"]))
		}
	}
	if strings.Join(got, " ") != want {
		s.t.Errorf("HTTPRoute backends %v, want %s", got, want)
	}
}

// TestBlueGreen brings a full-size preview up behind the preview Service,
// waits for a promotion by hand, switches, and removes the old pods after
// the delay; a preview that fails its pre-promotion analysis never serves.
func TestBlueGreen(t *testing.T) {
	metrics := newExporter(t, "0.99")
	prometheus := metrics.scrapedBy(t)
	rollout := `apiVersion: weir.dev/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  targetRef: {name: web}
  progressDeadline: 1m
  strategy:
    blueGreen:
      activeService: web
      previewService: web-preview
      autoPromotion: false
      scaleDownDelay: 2s
      prePromotionAnalysis:
        templates: [{name: success-rate}]
`
	s := given(t, map[string]string{
		"web.yaml":      fixture.Deployment("web", 3, "shop:v1"),
		"svc.yaml":      fixture.Service("web"),
		"preview.yaml":  strings.Replace(fixture.Service("web"), "name: web\n", "name: web-preview\n", 1),
		"rollout.yaml":  rollout,
		"analysis.yaml": successRateTemplate(fromPrometheus(prometheus), 3),
	})
	s.whenApplication(nil)
	s.thenRunning("shop:v1")
	stable := s.selector("web")[podTemplateHash]
	if stable == "" || s.selector("web-preview")[weirv1.RoleLabel] != delivery.RolePreview {
		t.Fatalf("Services select %v and %v", s.selector("web"), s.selector("web-preview"))
	}

	s.commit("release v2", map[string]string{"web.yaml": fixture.Deployment("web", 3, "shop:v2")})
	s.thenRollout("waiting for promotion", func(ro *weirv1.Rollout) bool {
		run := ro.Status.Analyses
		return ro.Status.Phase == weirv1.RolloutPaused && len(run) == 1 && run[0].Phase == weirv1.AnalysisSuccessful
	})
	s.wantReplicas("web-preview", 3, "shop:v2")
	s.wantReplicas("web", 3, "shop:v1")
	if got := s.selector("web")[podTemplateHash]; got != stable {
		t.Errorf("the active Service moved before the promotion: %s, want %s", got, stable)
	}

	s.request(weirv1.PromoteAnnotation)
	s.thenRollout("promoted", func(ro *weirv1.Rollout) bool {
		return ro.Status.Phase == weirv1.RolloutIdle && ro.Status.StableHash == ro.Status.CanaryHash
	})
	s.thenIdle("shop:v2")
	s.absent(&appsv1.Deployment{}, "web-preview")
	if got := s.selector("web")[podTemplateHash]; got == stable || got == "" {
		t.Errorf("the active Service selects %q after promotion, the old pods were %q", got, stable)
	}

	metrics.set("0.3")
	s.commit("release v3", map[string]string{"web.yaml": fixture.Deployment("web", 3, "shop:v3")})
	ro := s.thenRollout("aborted", func(ro *weirv1.Rollout) bool { return ro.Status.Phase == weirv1.RolloutAborted })
	if f := ro.Status.FailedRevisions; len(f) != 1 || !strings.Contains(f[0].Reason, "0.3") {
		t.Errorf("failed revisions %+v, want the pre-promotion analysis at 0.3", f)
	}
	s.wantReplicas("web", 3, "shop:v2")
	if n, _ := s.replicas("web-preview"); n != 0 {
		t.Errorf("the failed preview has %d replicas, want 0", n)
	}
}

// TestRolloutNamingWhatIsMissingStalls: a Rollout whose Deployment, router
// object or analysis template is missing says so in its Stalled condition,
// and the Application's health names it; a template held back for it stays
// off the stable Deployment.
func TestRolloutNamingWhatIsMissingStalls(t *testing.T) {
	installGatewayAPI(t)
	tests := []struct {
		name, rollout, reason, message string
		release                        bool // the check comes at the first step of a release
	}{
		{"target", strings.Replace(canaryRollout("      - setWeight: 50\n", "", false), "targetRef: {name: web}", "targetRef: {name: api}", 1),
			delivery.ReasonTargetNotFound, "its target, Deployment %s/api, not found", false},
		{"router object", strings.Replace(canaryRollout("      - setWeight: 50\n", gatewayRouting, false), "httpRoute: web", "httpRoute: shop", 1),
			delivery.ReasonRouterNotReady, "HTTPRoute %s/shop not found", false},
		{"template", canaryRollout("      - analysis: {templates: [{name: latency}]}\n", "", false),
			delivery.ReasonAnalysisNotReady, `analysis template "latency" not found in namespace "%s"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := given(t, map[string]string{
				"web.yaml": fixture.Deployment("web", 2, "shop:v1"), "svc.yaml": fixture.Service("web"), "rollout.yaml": tt.rollout,
			})
			s.whenApplication(nil)
			if tt.release {
				s.thenApplied(s.repo.Head())
				s.commit("release v2", map[string]string{"web.yaml": fixture.Deployment("web", 2, "shop:v2")})
			}
			message := fmt.Sprintf(tt.message, s.ns)
			s.thenRollout("stalled: "+tt.reason, func(ro *weirv1.Rollout) bool {
				c := apimeta.FindStatusCondition(ro.Status.Conditions, weirv1.StalledCondition)
				return c != nil && c.Reason == tt.reason && strings.Contains(c.Message, message)
			})
			s.waitFor("unhealthy, naming the Rollout", func(app *weirv1.Application) bool {
				c := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.HealthyCondition)
				return c != nil && c.Status == "False" && strings.Contains(c.Message, message)
			})
			if tt.release {
				s.wantReplicas("web", 2, "shop:v1")
			}
		})
	}
}
