package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// router is one traffic router as a story uses it: the CRDs it needs, the
// objects it routes through in Git, and how to read the canary's weight.
type router struct {
	name    string
	install func(t *testing.T)
	files   map[string]string
	routing string
	weight  func(s *story) int64 // the canary's weight, 0 when it has none
}

var routers = []router{
	{
		name: "istio",
		install: func(t *testing.T) {
			testenv.InstallCRDs(t, filepath.Join(testenv.ModuleDir(t, "istio.io/api"), "kubernetes", "customresourcedefinitions.gen.yaml"))
		},
		files: map[string]string{"route.yaml": `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: web
spec:
  hosts: [shop.example.com]
  http:
  - name: primary
    route:
    - destination: {host: web-stable, port: {number: 80}}
`},
		routing: "        istio: {virtualService: web}\n",
		weight: func(s *story) int64 {
			vs := s.object("networking.istio.io/v1", "VirtualService", "web")
			http, _, _ := unstructured.NestedSlice(vs, "spec", "http")
			return weightOf(http[0].(map[string]any)["route"], func(d map[string]any) bool {
				host, _, _ := unstructured.NestedString(d, "destination", "host")
				return host == "web-canary"
			})
		},
	},
	{
		name: "smi",
		install: func(t *testing.T) {
			testenv.InstallCRDs(t, "../../internal/delivery/traffic/testdata/split.smi-spec.io_trafficsplits.yaml")
		},
		routing: "        smi: {}\n",
		weight: func(s *story) int64 {
			split := s.object("split.smi-spec.io/v1alpha4", "TrafficSplit", "web")
			backends, _, _ := unstructured.NestedSlice(split, "spec", "backends")
			return weightOf(backends, func(b map[string]any) bool { return b["service"] == "web-canary" })
		},
	},
	{
		name:    "nginx",
		install: func(*testing.T) {},
		files: map[string]string{"route.yaml": `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations: {kubernetes.io/ingress.class: nginx}
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web-stable, port: {number: 80}}
`},
		routing: "        nginx: {ingress: web}\n",
		weight: func(s *story) int64 {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion("networking.k8s.io/v1")
			u.SetKind("Ingress")
			if err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "web-canary"}, u); err != nil {
				return 0
			}
			w, _ := strconv.ParseInt(u.GetAnnotations()["nginx.ingress.kubernetes.io/canary-weight"], 10, 64)
			return w
		},
	},
}

// TestCanaryWithEachRouter releases through Istio, SMI and NGINX: the
// canary gets its weight, and after the promotion the stable Deployment
// runs the new template with all the traffic and the canary is gone.
func TestCanaryWithEachRouter(t *testing.T) {
	for _, r := range routers {
		t.Run(r.name, func(t *testing.T) {
			r.install(t)
			files := map[string]string{
				"web.yaml":     fixture.Deployment("web", 4, "shop:v1"),
				"svc.yaml":     fixture.Service("web"),
				"rollout.yaml": canaryRollout("      - setWeight: 30\n      - pause: {}\n", r.routing, false),
			}
			for name, content := range r.files {
				files[name] = content
			}
			s := given(t, files)
			s.whenApplication(nil)
			s.thenRunning("shop:v1")

			s.commit("release v2", map[string]string{"web.yaml": fixture.Deployment("web", 4, "shop:v2")})
			s.thenPausedAt(1, 30)
			s.wantReplicas("web-canary", 2, "shop:v2")
			if w := r.weight(s); w != 30 {
				t.Errorf("the canary's weight is %d at the pause, want 30", w)
			}

			s.request(weirv1.PromoteAnnotation)
			s.thenRollout("promoted", func(ro *weirv1.Rollout) bool {
				return ro.Status.Phase == weirv1.RolloutIdle && ro.Status.StableHash == ro.Status.CanaryHash
			})
			s.thenIdle("shop:v2")
			if n, _ := s.replicas("web-canary"); n != -1 {
				t.Errorf("the canary is still there after promotion (%d replicas)", n)
			}
			if w := r.weight(s); w != 0 {
				t.Errorf("the canary's weight is %d after promotion, want 0", w)
			}
		})
	}
}

// object reads an object of the story's namespace as unstructured content.
func (s *story) object(apiVersion, kind, name string) map[string]any {
	s.t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	if err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: name}, u); err != nil {
		s.t.Fatalf("get %s %s: %v", kind, name, err)
	}
	return u.Object
}

// weightOf is the weight of the entry of list that is the canary's.
func weightOf(list any, isCanary func(map[string]any) bool) int64 {
	entries, _ := list.([]any)
	for _, e := range entries {
		m, _ := e.(map[string]any)
		if m != nil && isCanary(m) {
			w, _ := strconv.ParseInt(fmt.Sprint(m["weight"]), 10, 64)
			return w
		}
	}
	return 0
}
