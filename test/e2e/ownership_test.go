package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

func TestASecondApplicationDeclaringAnObjectGetsAConflictNotATugOfWar(t *testing.T) {
	shop := given(t, map[string]string{"shared.yaml": fixture.ConfigMap("shared", "owner", "shop")})
	shop.whenApplication(nil)
	shop.thenApplied(shop.repo.Head())

	// Another team's repository declares the same ConfigMap, in the same
	// namespace.
	other := &story{t: t, repo: testenv.NewGitRepo(t), ns: shop.ns, c: shop.c}
	other.commit("initial", map[string]string{
		"shared.yaml": fixture.ConfigMap("shared", "owner", "other"),
		"own.yaml":    fixture.ConfigMap("only-other", "k", "v"),
	})
	other.app = &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: shop.ns},
		Spec: weirv1.ApplicationSpec{
			Source: weirv1.GitSource{URL: other.repo.URL()},
			Sync:   weirv1.SyncPolicy{Interval: &metav1.Duration{Duration: time.Second}},
		},
	}
	if err := other.c.Create(context.Background(), other.app); err != nil {
		t.Fatal(err)
	}

	app := other.thenCondition(weirv1.StalledCondition, metav1.ConditionTrue, "OwnershipConflict")
	msg := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.ReadyCondition).Message
	if want := "ConfigMap " + shop.ns + "/shared: owned by Application " + shop.ns + "/shop"; !strings.Contains(msg, want) {
		t.Errorf("Ready says %q, want it to say %q", msg, want)
	}
	// Nothing of the refused set was applied, and the owner's object is as
	// its owner applied it, however often the other Application retries.
	time.Sleep(3 * time.Second)
	if err := shop.c.Get(context.Background(), client.ObjectKey{Namespace: shop.ns, Name: "only-other"}, &corev1.ConfigMap{}); err == nil {
		t.Error("the refused Application applied part of its set")
	}
	var shared corev1.ConfigMap
	shop.get(&shared, "shared")
	if shared.Data["owner"] != "shop" || shared.Annotations[weirv1.OwnerAnnotation] != shop.ns+"/shop" {
		t.Errorf("shared = %v %v, want shop's", shared.Data, shared.Annotations)
	}
	shop.thenApplied(shop.repo.Head())
}

const gadgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.e2e.weir.dev
spec:
  group: e2e.weir.dev
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

func TestACRDThatLeavesGitStaysWhileItsCustomResourcesDo(t *testing.T) {
	s := given(t, map[string]string{
		"crd.yaml":    gadgetCRD,
		"gadget.yaml": "apiVersion: e2e.weir.dev/v1\nkind: Gadget\nmetadata:\n  name: kept\n  annotations: {weir.dev/prune: disabled}\n",
		"config.yaml": fixture.ConfigMap("settings", "k", "v"),
	})
	crd := &unstructured.Unstructured{}
	crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
	crd.SetName("gadgets.e2e.weir.dev")
	t.Cleanup(func() { _ = s.c.Delete(context.Background(), crd) })
	s.whenApplication(nil)
	s.thenApplied(s.repo.Head())

	// Both leave Git, as with helm.includeCRDs: false.
	dropped := s.commit("drop the gadgets", map[string]string{"crd.yaml": "", "gadget.yaml": ""})
	app := s.thenApplied(dropped)

	msg := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.SyncedCondition).Message
	for _, want := range []string{"CustomResourceDefinition gadgets.e2e.weir.dev skipped: custom resources of its kind Gadget still exist, such as " + s.ns + "/kept", weirv1.PruneCRDWithInstancesAnnotation} {
		if !strings.Contains(msg, want) {
			t.Errorf("Synced says %q, want it to say %q", msg, want)
		}
	}
	if err := s.c.Get(context.Background(), client.ObjectKeyFromObject(crd), crd); err != nil {
		t.Errorf("the CRD is gone: %v", err)
	}
}
