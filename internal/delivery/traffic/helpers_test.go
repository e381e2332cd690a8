package traffic

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// fixture is what a router test needs: a namespace, a client, a context.
type fixture struct {
	t   *testing.T
	ctx context.Context
	c   client.Client
	ns  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	testenv.InstallCRDs(t, "../../../config/crd/bases/weir.dev_rollouts.yaml")
	return &fixture{t: t, ctx: testenv.Context(t, 2*time.Minute), c: testenv.Client(t, v1alpha1.AddToScheme), ns: testenv.Namespace(t)}
}

// sides are the names the delivery package would pass for a Deployment
// "web" of 4 replicas behind Service "web".
func (f *fixture) sides() Sides {
	return Sides{
		Namespace: f.ns, StableService: "web-stable", CanaryService: "web-canary",
		StableDeployment: "web", CanaryDeployment: "web-canary", Replicas: 4,
	}
}

// rollout creates a Rollout "web" with the router and returns it as read
// back, with its UID.
func (f *fixture) rollout(routing *v1alpha1.TrafficRouting) *v1alpha1.Rollout {
	f.t.Helper()
	ro := &v1alpha1.Rollout{}
	ro.Namespace, ro.Name = f.ns, "web"
	ro.Spec.TargetRef.Name = "web"
	ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{Service: "web", TrafficRouting: routing}
	if err := f.c.Create(f.ctx, ro); err != nil {
		f.t.Fatalf("create Rollout: %v", err)
	}
	return ro
}

// router returns New's router for ro.
func (f *fixture) router(ro *v1alpha1.Rollout, sides Sides) Router {
	f.t.Helper()
	r, err := New(f.c, ro, sides)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// create creates the object in testdata/file in the test's namespace and
// returns it as read back.
func (f *fixture) create(file string) *unstructured.Unstructured {
	f.t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		f.t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &u.Object); err != nil {
		f.t.Fatalf("%s: %v", file, err)
	}
	u.SetNamespace(f.ns)
	if err := f.c.Create(f.ctx, u); err != nil {
		f.t.Fatalf("create %s from %s: %v", u.GetKind(), file, err)
	}
	return f.get(u.GroupVersionKind(), u.GetName())
}

// get reads an object of the kind in the test's namespace.
func (f *fixture) get(gvk schema.GroupVersionKind, name string) *unstructured.Unstructured {
	f.t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := f.c.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: name}, u); err != nil {
		f.t.Fatalf("read %s %s: %v", gvk.Kind, name, err)
	}
	return u
}

// service creates a ClusterIP Service selecting app=name.
func (f *fixture) service(name string) {
	f.t.Helper()
	svc := &corev1.Service{}
	svc.Namespace, svc.Name = f.ns, name
	svc.Spec.Selector = map[string]string{"app": name}
	svc.Spec.Ports = []corev1.ServicePort{{Port: 80}}
	if err := f.c.Create(f.ctx, svc); err != nil {
		f.t.Fatal(err)
	}
}

// must fails the test when err is not nil.
func (f *fixture) must(what string, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("%s: %v", what, err)
	}
}

// wantErr fails the test unless err says every one of words.
func wantErr(t *testing.T, what string, err error, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want one saying %q", what, words)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not say %q", what, err, w)
		}
	}
}

// wantUnsupported fails the test unless err wraps ErrUnsupported.
func wantUnsupported(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("%s: err = %v, want ErrUnsupported", what, err)
	}
}

// at returns the value at a path of keys (strings) and list indexes (ints)
// in a JSON object, or nil.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// yamlOf renders v for comparisons and failure messages.
func yamlOf(v any) string {
	out, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(out)
}

// sameYAML fails the test unless got and want render alike.
func sameYAML(t *testing.T, what string, got, want any) {
	t.Helper()
	if g, w := yamlOf(got), yamlOf(want); g != w {
		t.Errorf("%s:\ngot:\n%s\nwant:\n%s", what, g, w)
	}
}
