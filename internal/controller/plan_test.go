package controller

import (
	"context"
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/record"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
)

// namespacingApplier normalizes as apply.Manager does for a cluster that
// serves only namespaced ConfigMaps, and validates everything.
type namespacingApplier struct{ Applier }

func (namespacingApplier) Normalize(_ context.Context, objs []*unstructured.Unstructured, ns string) error {
	var err error
	for _, obj := range objs {
		switch {
		case obj.GetKind() != "ConfigMap":
			err = errors.New("the cluster does not serve " + obj.GetKind())
		case obj.GetNamespace() == "":
			obj.SetNamespace(ns)
		}
	}
	return err
}

func (namespacingApplier) Validate(context.Context, []*unstructured.Unstructured) (apply.DryRuns, error) {
	return apply.DryRuns{}, nil
}

func TestPlanGivesSkipHooksTheirNamespaceForPrune(t *testing.T) {
	object := func(kind, name string, annotations map[string]string) *unstructured.Unstructured {
		obj := &unstructured.Unstructured{}
		obj.SetAPIVersion("v1")
		obj.SetKind(kind)
		obj.SetName(name)
		obj.SetAnnotations(annotations)
		return obj
	}
	skip := map[string]string{"argocd.argoproj.io/hook": "Skip"}
	skipped, unknown := object("ConfigMap", "skipped", skip), object("Widget", "unknown", skip)
	objs := []*unstructured.Unstructured{object("ConfigMap", "applied", nil), skipped, unknown}
	r := &ApplicationReconciler{Applier: namespacingApplier{}, Recorder: record.NewFakeRecorder(10)}

	if _, err := r.plan(context.Background(), &weirv1.Application{}, objs, "shop"); err != nil {
		t.Fatalf("a Skip hook of a kind the cluster does not serve failed the plan: %v", err)
	}
	if ns := skipped.GetNamespace(); ns != "shop" {
		t.Errorf("Skip hook namespace = %q, want shop: Prune would not know it as the object a sync applied", ns)
	}
}
