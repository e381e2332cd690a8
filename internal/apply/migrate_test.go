package apply

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// These tests cover what users who move from kubectl, Argo CD, Flux or
// Helm rely on: their objects taken over, their annotations honoured.

func TestPruneKeepsObjectsThatOptOutWithArgoFluxOrHelmAnnotations(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	applied := parse(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: argo, annotations: {argocd.argoproj.io/sync-options: "ServerSideApply=true,Prune=false"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: flux, annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: helm, annotations: {helm.sh/resource-policy: keep}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: weir, annotations: {weir.dev/sync-options: Prune=false}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: plain}
`)
	applyAll(t, ctx, m, ns, applied)

	changes, err := m.Prune(ctx, appIn(ns), refs(applied), nil)
	if err != nil {
		t.Fatal(err)
	}

	assertActions(t, changes, map[string]Action{
		"ConfigMap/argo": Skipped, "ConfigMap/flux": Skipped, "ConfigMap/helm": Skipped, "ConfigMap/weir": Skipped,
		"ConfigMap/plain": Deleted,
	})
	for _, c := range changes {
		if c.Object.Name == "flux" && c.Reason != "prune disabled by annotation kustomize.toolkit.fluxcd.io/prune: disabled" {
			t.Errorf("reason %q", c.Reason)
		}
	}
	for _, name := range []string{"argo", "flux", "helm", "weir"} {
		if live(t, ctx, m, configMapRef(ns, name)) == nil {
			t.Errorf("ConfigMap %s was deleted despite its opt-out", name)
		}
	}
}

const adopted = `
apiVersion: v1
kind: ConfigMap
metadata: {name: legacy, namespace: NS, labels: {team: shop}}
data: {kept: one, removed: two}
`

// createAsKubectl creates obj as `kubectl apply` (client-side) does: a
// create by the manager kubectl-client-side-apply, with the
// last-applied-configuration annotation.
func createAsKubectl(t *testing.T, m *Manager, obj *unstructured.Unstructured) {
	t.Helper()
	lastApplied, err := obj.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	obj = obj.DeepCopy()
	obj.SetAnnotations(map[string]string{"kubectl.kubernetes.io/last-applied-configuration": string(lastApplied)})
	res, err := m.resource(ctxFor(t), Ref(obj))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Create(ctxFor(t), obj, metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
		t.Fatal(err)
	}
}

func TestTakeOverFromClientSideApplyRemovesFieldsThatLeaveGit(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	createAsKubectl(t, m, parse(t, ns, adopted)[0])

	// The first commit weir syncs still holds everything kubectl applied.
	applyAll(t, ctx, m, ns, parse(t, ns, adopted))
	// The next one drops a key and the label.
	next := parse(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: legacy, namespace: NS}
data: {kept: one}
`)
	diffs, err := m.Diff(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 1 || diffs[0].Action != Configured || !strings.Contains(diffs[0].Diff, "-  removed: two") || !strings.Contains(diffs[0].Diff, "-    team: shop") {
		t.Errorf("diff before the sync does not show the removals: %+v", diffs)
	}

	applyAll(t, ctx, m, ns, next)

	cm := live(t, ctx, m, configMapRef(ns, "legacy"))
	if _, ok := cm.Object["data"].(map[string]any)["removed"]; ok {
		t.Errorf("data.removed survived its removal from Git: %v", cm.Object["data"])
	}
	if _, ok := cm.GetLabels()["team"]; ok {
		t.Errorf("label team survived its removal from Git: %v", cm.GetLabels())
	}
	if _, ok := cm.GetAnnotations()["kubectl.kubernetes.io/last-applied-configuration"]; ok {
		t.Error("kubectl's last-applied-configuration is still there")
	}
	for _, e := range cm.GetManagedFields() {
		if e.Manager == "kubectl-client-side-apply" {
			t.Errorf("managedFields still name kubectl-client-side-apply: %+v", cm.GetManagedFields())
		}
	}
}

func TestTakeOverFromFluxServerSideApplyOnFirstSync(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	for manager, name := range map[string]string{"kustomize-controller": "legacy", "someone-else": "shared"} {
		obj := parse(t, ns, strings.ReplaceAll(adopted, "legacy", name))[0]
		res, err := m.resource(ctx, Ref(obj))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := res.Apply(ctx, name, obj, metav1.ApplyOptions{FieldManager: manager}); err != nil {
			t.Fatal(err)
		}
	}

	// weir's first sync already lacks data.removed, and its diff says so.
	desired := parse(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: legacy, namespace: NS, labels: {team: shop}}
data: {kept: one}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: shared, namespace: NS, labels: {team: shop}}
data: {kept: one}
`)
	diffs, err := m.Diff(ctx, desired)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 2 || !strings.Contains(diffs[0].Diff, "-  removed: two") || strings.Contains(diffs[1].Diff, "-  removed: two") {
		t.Errorf("diff before the first sync: %+v, want data.removed removed from legacy only", diffs)
	}

	applyAll(t, ctx, m, ns, desired)

	if data := live(t, ctx, m, configMapRef(ns, "legacy")).Object["data"]; len(data.(map[string]any)) != 1 {
		t.Errorf("Flux's data.removed survived weir's takeover: %v", data)
	}
	// A manager weir does not take over keeps what it owns.
	if data := live(t, ctx, m, configMapRef(ns, "shared")).Object["data"]; len(data.(map[string]any)) != 2 {
		t.Errorf("weir removed a field another manager owns: %v", data)
	}
}

const migrateJob = `
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: NS
  annotations: ANNOTATIONS
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: migrate, image: IMAGE}
`

func job(t *testing.T, ns, annotations, image string) []*unstructured.Unstructured {
	return parse(t, ns, strings.NewReplacer("ANNOTATIONS", annotations, "IMAGE", image).Replace(migrateJob))
}

func TestChangedJobFailsInOneLineUnlessItAsksToBeReplaced(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	applyAll(t, ctx, m, ns, job(t, ns, "{}", "migrate:1"))
	uid := live(t, ctx, m, jobRef(ns)).GetUID()

	_, err := m.Validate(ctx, job(t, ns, "{}", "migrate:2"))
	want := "batch/Job " + ns + "/migrate: spec.template: field is immutable; to have weir delete and recreate the object when it changes, annotate it weir.dev/sync-options: Replace=true"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error\n%v\nwant it to contain\n%s", err, want)
	}
	if strings.Contains(err.Error(), "PodTemplateSpec") || strings.Count(err.Error(), "\n") != 1 {
		t.Errorf("the error dumps the template or spans lines:\n%v", err)
	}

	for i, annotations := range []string{"{weir.dev/sync-options: Replace=true}", "{argocd.argoproj.io/sync-options: Replace=true}", "{kustomize.toolkit.fluxcd.io/force: enabled}"} {
		changes := applyAll(t, ctx, m, ns, job(t, ns, annotations, fmt.Sprint("migrate:", i+2)))
		assertActions(t, changes, map[string]Action{"Job/migrate": Replaced})
		after := live(t, ctx, m, jobRef(ns))
		if after.GetUID() == uid {
			t.Errorf("%s: the Job was not recreated", annotations)
		}
		uid = after.GetUID()
	}
}

func TestHookIsDeletedBeforeItIsCreatedAgain(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	const hook = "{argocd.argoproj.io/hook: PreSync}"
	assertActions(t, applyAll(t, ctx, m, ns, job(t, ns, hook, "migrate:1")), map[string]Action{"Job/migrate": Created})
	uid := live(t, ctx, m, jobRef(ns)).GetUID()

	// A new template, which an apply could not change: validated and applied as a new Job.
	assertActions(t, applyAll(t, ctx, m, ns, job(t, ns, hook, "migrate:2")), map[string]Action{"Job/migrate": Replaced})
	if live(t, ctx, m, jobRef(ns)).GetUID() == uid {
		t.Error("the hook's previous Job was not deleted")
	}
}

func TestDeleteHooksDeletesThoseWhosePolicySaysSo(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	stage := parse(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: on-success, namespace: NS, annotations: {helm.sh/hook: post-install, helm.sh/hook-delete-policy: hook-succeeded}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: on-failure, namespace: NS, annotations: {argocd.argoproj.io/hook: PostSync, argocd.argoproj.io/hook-delete-policy: HookFailed}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-a-hook, namespace: NS, annotations: {weir.dev/hook-delete-policy: HookSucceeded}}
`)
	applyAll(t, ctx, m, ns, stage)

	changes, err := m.DeleteHooks(ctx, stage, HookSucceeded)
	if err != nil {
		t.Fatal(err)
	}

	assertActions(t, changes, map[string]Action{"ConfigMap/on-success": Deleted})
	if live(t, ctx, m, configMapRef(ns, "on-success")) != nil {
		t.Error("on-success is still there")
	}
	for _, name := range []string{"on-failure", "not-a-hook"} {
		if live(t, ctx, m, configMapRef(ns, name)) == nil {
			t.Errorf("%s was deleted", name)
		}
	}
}

func jobRef(ns string) v1alpha1.ObjectRef {
	return v1alpha1.ObjectRef{Group: "batch", Version: "v1", Kind: "Job", Namespace: ns, Name: "migrate"}
}

func TestFluxIfNotPresentCreatesButNeverUpdates(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	const once = `
apiVersion: v1
kind: ConfigMap
metadata: {name: once, namespace: NS, annotations: {kustomize.toolkit.fluxcd.io/ssa: IfNotPresent}}
data: {token: VALUE}
`
	assertActions(t, applyAll(t, ctx, m, ns, parse(t, ns, strings.ReplaceAll(once, "VALUE", "first"))), map[string]Action{"ConfigMap/once": Created})

	changes := applyAll(t, ctx, m, ns, parse(t, ns, strings.ReplaceAll(once, "VALUE", "second")))

	assertActions(t, changes, map[string]Action{"ConfigMap/once": Unchanged})
	if data := live(t, ctx, m, configMapRef(ns, "once")).Object["data"]; data.(map[string]any)["token"] != "first" {
		t.Errorf("an IfNotPresent object was updated: %v", data)
	}
}

// TestFluxIfNotPresentIsNeitherDiffNorDrift: what Apply leaves alone shows
// no change in Diff and no drift, even when Git and the cluster differ.
func TestFluxIfNotPresentIsNeitherDiffNorDrift(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	const once = `
apiVersion: v1
kind: ConfigMap
metadata: {name: once, namespace: NS, annotations: {kustomize.toolkit.fluxcd.io/ssa: IfNotPresent}}
data: {token: VALUE}
---
apiVersion: v1
kind: Secret
metadata: {name: once, namespace: NS, annotations: {kustomize.toolkit.fluxcd.io/ssa: IfNotPresent}}
stringData: {token: VALUE}
`
	applyAll(t, ctx, m, ns, parse(t, ns, strings.ReplaceAll(once, "VALUE", "first")))
	objs := parse(t, ns, strings.ReplaceAll(once, "VALUE", "second"))
	if err := m.Normalize(ctx, objs, ns); err != nil {
		t.Fatal(err)
	}

	diffs, err := m.Diff(ctx, objs)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		if d.Action != Unchanged || d.Diff != "" {
			t.Errorf("Diff of %s = %s\n%s\nwant Unchanged: a sync leaves it alone", d.Object, d.Action, d.Diff)
		}
	}
	if drifts, err := m.Drift(ctx, objs); err != nil || len(drifts) != 0 {
		t.Errorf("Drift = %+v, %v; want none", drifts, err)
	}
}
