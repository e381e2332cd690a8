package drift

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

func configMap(name, value string) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{}
	obj.SetAPIVersion("v1")
	obj.SetKind("ConfigMap")
	obj.SetNamespace("shop")
	obj.SetName(name)
	_ = unstructured.SetNestedField(obj.Object, value, "data", "v")
	return obj
}

func ref(name string) weirv1.ObjectRef {
	return weirv1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: name}
}

// TestAppliedSetFollowsWhatWasApplied: a set is complete once reset with
// a whole sync's objects; a stage put over it replaces its objects, a
// prune's Keep drops what left Git, and Objects returns copies.
func TestAppliedSetFollowsWhatWasApplied(t *testing.T) {
	applied := NewApplied()
	app := types.NamespacedName{Namespace: "shop", Name: "web"}

	set := applied.Lock(app)
	set.Put([]*unstructured.Unstructured{configMap("a", "1")})
	if set.Complete() {
		t.Error("a set that only saw a stage is complete")
	}
	set.Reset([]*unstructured.Unstructured{configMap("a", "1"), configMap("b", "1")})
	set.Unlock()

	set = applied.Lock(app)
	if !set.Complete() {
		t.Error("a set reset with a whole sync is not complete")
	}
	set.Put([]*unstructured.Unstructured{configMap("b", "2")})
	set.Keep([]*unstructured.Unstructured{configMap("b", "2")})
	objs, missing := set.Objects([]weirv1.ObjectRef{ref("a"), ref("b")})
	set.Unlock()
	if !slices.Equal(missing, []weirv1.ObjectRef{ref("a")}) {
		t.Errorf("missing %v, want the pruned a", missing)
	}
	if len(objs) != 1 || objs[0].GetName() != "b" || objs[0].Object["data"].(map[string]any)["v"] != "2" {
		t.Fatalf("objects %v, want b as put last", objs)
	}
	objs[0].SetName("edited")
	set = applied.Lock(app)
	again, _ := set.Objects([]weirv1.ObjectRef{ref("b")})
	set.Unlock()
	if len(again) != 1 || again[0].GetName() != "b" {
		t.Errorf("an edit of a returned object reached the set: %v", again)
	}

	applied.Forget(app)
	set = applied.Lock(app)
	defer set.Unlock()
	if set.Complete() {
		t.Error("a forgotten Application's set is complete")
	}
}

// TestNilAppliedKeepsNothing: without an Applied, every set is empty and
// incomplete, so drift is checked against Git.
func TestNilAppliedKeepsNothing(t *testing.T) {
	var applied *Applied
	set := applied.Lock(types.NamespacedName{Name: "web"})
	set.Reset([]*unstructured.Unstructured{configMap("a", "1")})
	if set.Complete() {
		t.Error("a nil Applied's set is complete")
	}
	if _, missing := set.Objects([]weirv1.ObjectRef{ref("a")}); len(missing) != 1 {
		t.Errorf("a nil Applied's set holds %v", ref("a"))
	}
	set.Unlock()
	applied.Forget(types.NamespacedName{Name: "web"})
}
