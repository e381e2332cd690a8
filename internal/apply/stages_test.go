package apply

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestPlanPutsCRDsAndNamespacesFirstThenWavesInOrder(t *testing.T) {
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

	plan, err := NewPlan(objs)
	if err != nil {
		t.Fatal(err)
	}
	stages := plan.Stages

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

func TestPlanRejectsNonIntegerWaves(t *testing.T) {
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
	plan, err := NewPlan(objs)
	if err == nil {
		t.Fatalf("NewPlan = %v, want an error", names(plan.Stages))
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

func TestPlanOfAnEmptySet(t *testing.T) {
	plan, err := NewPlan(nil)
	if err != nil || len(plan.Stages) != 0 {
		t.Errorf("NewPlan(nil) = %v, %v", plan, err)
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

func TestPlanOrdersHooksByPhaseThenWave(t *testing.T) {
	objs := parse(t, "shop", `
apiVersion: v1
kind: ConfigMap
metadata: {name: late, annotations: {argocd.argoproj.io/sync-wave: "5"}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: smoke, annotations: {argocd.argoproj.io/hook: PostSync, argocd.argoproj.io/sync-wave: "-3"}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, annotations: {argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/sync-wave: "7"}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: seed, annotations: {helm.sh/hook: pre-install, helm.sh/hook-weight: "-1"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: early, annotations: {weir.dev/sync-wave: "-10"}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: page, annotations: {argocd.argoproj.io/hook: SyncFail}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: elsewhere, annotations: {argocd.argoproj.io/hook: Skip}}
---
apiVersion: v1
kind: Pod
metadata: {name: chart-test, annotations: {helm.sh/hook: test}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: sync-hook, annotations: {argocd.argoproj.io/hook: Sync, argocd.argoproj.io/sync-wave: "5"}}
`)
	plan, err := NewPlan(objs)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Namespace/shop",
		"Job/seed",
		"Job/migrate",
		"ConfigMap/early",
		"ConfigMap/late ConfigMap/sync-hook",
		"Job/smoke",
	}
	if got := names(plan.Stages); !slices.Equal(got, want) {
		t.Errorf("stages\n%q\nwant\n%q", got, want)
	}
	if got := names([][]*unstructured.Unstructured{plan.OnFailure, plan.Skipped}); !slices.Equal(got, []string{"Job/page", "ConfigMap/elsewhere Pod/chart-test"}) {
		t.Errorf("on failure, skipped = %q", got)
	}
	if len(plan.Applied()) != 7 {
		t.Errorf("Applied() = %d objects, want the 7 of the stages", len(plan.Applied()))
	}
}

func TestPlanNamesEachIgnoredAnnotationOnce(t *testing.T) {
	var docs []string
	for i := range 14 {
		docs = append(docs, fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: c%d, annotations: {argocd.argoproj.io/compare-options: IgnoreExtraneous, argocd.argoproj.io/sync-options: "Validate=false,X%d=true"}}`, i, i))
	}
	plan, err := NewPlan(parse(t, "shop", strings.Join(docs, "\n---\n")))
	if err != nil {
		t.Fatal(err)
	}
	ignored := plan.Ignored()
	if len(ignored) != maxIgnored+1 {
		t.Fatalf("%d entries, want %d: %q", len(ignored), maxIgnored+1, ignored)
	}
	for i, want := range map[int]string{
		0:          "argocd.argoproj.io/sync-options: Validate=false (ConfigMap c0 and 13 more)",
		1:          "argocd.argoproj.io/sync-options: X0=true (ConfigMap c0)",
		2:          "argocd.argoproj.io/compare-options: IgnoreExtraneous (ConfigMap c0 and 13 more)",
		maxIgnored: "and 6 more",
	} {
		if ignored[i] != want {
			t.Errorf("entry %d = %q, want %q", i, ignored[i], want)
		}
	}
	if s := plan.IgnoredSummary(); !strings.HasPrefix(s, "Ignored annotations weir does not support: argocd.argoproj.io/sync-options: Validate=false") {
		t.Errorf("summary %q", s)
	}
}
