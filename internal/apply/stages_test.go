package apply

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestStagesPutCRDsAndNamespacesFirstThenWavesInOrder(t *testing.T) {
	objs := parse(t, "shop", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, annotations: {weir.dev/sync-wave: "2"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, annotations: {weir.dev/sync-wave: "-1"}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com, annotations: {weir.dev/sync-wave: "5"}}
---
apiVersion: v1
kind: Service
metadata: {name: web, annotations: {weir.dev/sync-wave: " 2 "}}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, annotations: {weir.dev/sync-wave: "0"}}
`)

	stages, err := Stages(objs)
	if err != nil {
		t.Fatal(err)
	}

	want := []string{
		"Namespace/shop CustomResourceDefinition/widgets.example.com",
		"Job/migrate",
		"ConfigMap/settings Secret/creds",
		"Deployment/web Service/web",
	}
	if len(stages) != len(want) {
		t.Fatalf("%d stages, want %d: %v", len(stages), len(want), names(stages))
	}
	for i, stage := range names(stages) {
		if stage != want[i] {
			t.Errorf("stage %d = %s, want %s", i, stage, want[i])
		}
	}
}

func TestStagesRejectNonIntegerWaves(t *testing.T) {
	objs := parse(t, "shop", `
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: shop, annotations: {weir.dev/sync-wave: "first"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, namespace: shop, annotations: {weir.dev/sync-wave: "1"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: shop, annotations: {weir.dev/sync-wave: "1.5"}}
`)
	stages, err := Stages(objs)
	if err == nil {
		t.Fatalf("Stages = %v, want an error", names(stages))
	}
	for _, want := range []string{
		`ConfigMap shop/a: annotation weir.dev/sync-wave: "first" is not an integer`,
		`ConfigMap shop/c: annotation weir.dev/sync-wave: "1.5" is not an integer`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "shop/b") {
		t.Errorf("valid object named: %v", err)
	}
}

func TestStagesOfAnEmptySet(t *testing.T) {
	stages, err := Stages(nil)
	if err != nil || len(stages) != 0 {
		t.Errorf("Stages(nil) = %v, %v", stages, err)
	}
}

func names(stages [][]*unstructured.Unstructured) []string {
	out := make([]string, len(stages))
	for i, stage := range stages {
		var parts []string
		for _, obj := range stage {
			parts = append(parts, obj.GetKind()+"/"+obj.GetName())
		}
		out[i] = strings.Join(parts, " ")
	}
	return out
}
