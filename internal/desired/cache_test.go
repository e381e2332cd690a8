package desired

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/decrypt/decrypttest"
	"weir.dev/weir/internal/render"
)

// countingRenderer renders one ConfigMap naming the path, and counts its
// renders.
type countingRenderer struct{ renders int }

func (r *countingRenderer) Render(_ context.Context, _, path string, _ render.Options, _ *decrypt.Decryptor) ([]*unstructured.Unstructured, error) {
	r.renders++
	cm := &unstructured.Unstructured{}
	cm.SetAPIVersion("v1")
	cm.SetKind("ConfigMap")
	cm.SetName("cfg")
	_ = unstructured.SetNestedField(cm.Object, path, "data", "path")
	_ = unstructured.SetNestedField(cm.Object, int64(3), "data", "n")
	return []*unstructured.Unstructured{cm}, nil
}

// TestLoadRendersOncePerInputs: a second load at the same revision, spec
// and decryption keys takes the objects of the first, as they were, and
// any change of them renders again.
func TestLoadRendersOncePerInputs(t *testing.T) {
	keys := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "sops"},
		Data:       map[string][]byte{"a.agekey": decrypttest.NewAgeKey(t).Private},
	}
	reader := fake.NewClientBuilder().WithObjects(keys).Build()
	fetcher := &refFetcher{commit: strings.Repeat("a", 40)}
	renderer := &countingRenderer{}
	l := &Loader{Reader: reader, Fetcher: fetcher, Renderer: renderer, Renders: NewRenderCache(0)}
	app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "app"}}
	app.Spec.Source.Path = "apps/one"
	app.Spec.Render.Type = render.TypePlain
	app.Spec.Decryption = &weirv1.Decryption{SecretRef: weirv1.LocalObjectReference{Name: "sops"}}
	ctx := context.Background()

	steps := []struct {
		name        string
		change      func()
		wantRenders int
	}{
		{name: "first load", change: func() {}, wantRenders: 1},
		{name: "same inputs", change: func() {}, wantRenders: 1},
		{name: "a key added to the Secret", change: func() {
			keys.Data["b.agekey"] = decrypttest.NewAgeKey(t).Private
			if err := reader.Update(ctx, keys); err != nil {
				t.Fatal(err)
			}
		}, wantRenders: 2},
		{name: "same keys again", change: func() {}, wantRenders: 2},
		{name: "another path", change: func() { app.Spec.Source.Path = "apps/two" }, wantRenders: 3},
		{name: "another revision", change: func() { fetcher.commit = strings.Repeat("b", 40) }, wantRenders: 4},
		{name: "back to the first path", change: func() { app.Spec.Source.Path = "apps/one" }, wantRenders: 5},
	}
	for _, step := range steps {
		step.change()
		state, err := l.Load(ctx, app)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if renderer.renders != step.wantRenders {
			t.Errorf("%s: %d renders, want %d", step.name, renderer.renders, step.wantRenders)
		}
		if got, _, _ := unstructured.NestedString(state.Objects[0].Object, "data", "path"); got != app.Spec.Source.Path {
			t.Errorf("%s: loaded the objects of %q, want %q", step.name, got, app.Spec.Source.Path)
		}
		if n, _, _ := unstructured.NestedInt64(state.Objects[0].Object, "data", "n"); n != 3 {
			t.Errorf("%s: data.n is %v, want the int64 3 as rendered", step.name, state.Objects[0].Object["data"])
		}
		// A caller may change what it loaded without changing the cache.
		state.Objects[0].SetLabels(map[string]string{"edited": "yes"})
	}
	state, err := l.Load(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if labels := state.Objects[0].GetLabels(); labels != nil {
		t.Errorf("a cached render kept a caller's edit: labels %v", labels)
	}
}

// TestRenderCacheIsBounded: past its size, the least recently used
// renders go first.
func TestRenderCacheIsBounded(t *testing.T) {
	objs := (&countingRenderer{}).mustRender(t)
	data, err := objs[0].MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	c := NewRenderCache(int64(3 * len(data)))
	for i := range 3 {
		c.put(fmt.Sprint(i), objs, nil)
	}
	if _, _, ok := c.get("0"); !ok { // 0 is now the most recently used
		t.Fatal("render 0 is not kept")
	}
	c.put("3", objs, nil)
	for key, want := range map[string]bool{"0": true, "1": false, "2": true, "3": true} {
		if _, _, ok := c.get(key); ok != want {
			t.Errorf("render %s kept: %v, want %v", key, ok, want)
		}
	}
	if c.bytes > c.maxBytes {
		t.Errorf("the cache holds %d bytes, more than its %d", c.bytes, c.maxBytes)
	}
}

func (r *countingRenderer) mustRender(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	objs, err := r.Render(context.Background(), "", "apps/one", render.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}
