package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/test/fixture"
)

// Stories of users who move to weir from kubectl, Argo CD and Flux.

// TestObjectAppliedWithKubectlIsTakenOver: a ConfigMap that `kubectl
// apply` created is adopted by weir; a commit that drops one of its keys
// removes the key from the cluster.
func TestObjectAppliedWithKubectlIsTakenOver(t *testing.T) {
	const legacy = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: legacy\ndata:\n  kept: one\n  removed: two\n"
	s := given(t, map[string]string{"legacy.yaml": legacy})
	file := filepath.Join(t.TempDir(), "legacy.yaml")
	if err := os.WriteFile(file, []byte(legacy), 0o600); err != nil {
		t.Fatal(err)
	}
	s.kubectl(nil, "apply", "-f", file)
	s.whenApplication(nil)
	s.thenApplied(s.repo.Head())

	sha := s.commit("drop a key", map[string]string{"legacy.yaml": fixture.ConfigMap("legacy", "kept", "one")})
	s.thenApplied(sha)

	var cm corev1.ConfigMap
	s.get(&cm, "legacy")
	if _, ok := cm.Data["removed"]; ok || cm.Data["kept"] != "one" {
		t.Errorf("data after the key left Git: %v", cm.Data)
	}
}

// TestArgoAndFluxPruneOptOutsKeepObjects: objects that Argo CD or Flux
// would keep when they leave Git are kept.
func TestArgoAndFluxPruneOptOutsKeepObjects(t *testing.T) {
	annotated := func(name, key, value string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  annotations: {" + key + ": " + value + "}\n"
	}
	s := given(t, map[string]string{
		"argo.yaml":  annotated("argo", "argocd.argoproj.io/sync-options", "Prune=false"),
		"flux.yaml":  annotated("flux", "kustomize.toolkit.fluxcd.io/prune", "disabled"),
		"plain.yaml": fixture.ConfigMap("plain", "k", "v"),
		"stays.yaml": fixture.ConfigMap("stays", "k", "v"),
	})
	s.whenApplication(nil)
	s.thenApplied(s.repo.Head())

	sha := s.commit("remove three", map[string]string{"argo.yaml": "", "flux.yaml": "", "plain.yaml": ""})
	s.thenApplied(sha)

	s.absent(&corev1.ConfigMap{}, "plain")
	for _, name := range []string{"argo", "flux"} {
		s.get(&corev1.ConfigMap{}, name)
	}
}

const presyncJob = `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      nodeSelector: NODES
      containers:
      - {name: migrate, image: IMAGE}
`

const postsyncJob = `apiVersion: batch/v1
kind: Job
metadata:
  name: smoke
  annotations: {argocd.argoproj.io/hook: PostSync, argocd.argoproj.io/hook-delete-policy: HookSucceeded}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: smoke, image: smoke:1}
`

// TestPreSyncHookJobIsWaitedFor: the rest of the revision waits for an
// Argo CD PreSync Job to complete; one that cannot run holds it back. The
// next revision changes the Job's template, which its default delete
// policy (BeforeHookCreation) allows; a PostSync Job deleted once it
// succeeded does not stay behind; the SyncFail hook runs when the sync
// fails; an annotation weir does not honour is told, not failed on.
func TestPreSyncHookJobIsWaitedFor(t *testing.T) {
	settings := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  annotations: {argocd.argoproj.io/compare-options: IgnoreExtraneous}\ndata: {mode: safe}\n"
	s := given(t, map[string]string{
		"migrate.yaml":  strings.NewReplacer("NODES", "{weir.dev/no-such-node: \"true\"}", "IMAGE", "migrate:1").Replace(presyncJob),
		"settings.yaml": settings,
		"smoke.yaml":    postsyncJob,
		"alert.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: alert\n  annotations: {argocd.argoproj.io/hook: SyncFail}\n",
	})
	s.whenApplication(func(spec *weirv1.ApplicationSpec) {
		spec.Sync.Timeout = &metav1.Duration{Duration: 10 * time.Second}
	})

	app := s.thenCondition(weirv1.HealthyCondition, metav1.ConditionFalse, controller.ReasonHealthCheckFailed)
	if msg := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.HealthyCondition).Message; !strings.Contains(msg, "batch/Job "+s.ns+"/migrate: InProgress") {
		t.Errorf("Healthy message %q does not name the running Job", msg)
	}
	s.absent(&corev1.ConfigMap{}, "settings")
	s.absent(&batchv1.Job{}, "smoke")
	s.get(&corev1.ConfigMap{}, "alert") // the SyncFail hook ran

	sha := s.commit("a Job that runs", map[string]string{
		"migrate.yaml": strings.NewReplacer("NODES", "{}", "IMAGE", "migrate:2").Replace(presyncJob),
	})
	app = s.thenApplied(sha)

	var migrate batchv1.Job
	s.get(&migrate, "migrate")
	if migrate.Spec.Template.Spec.Containers[0].Image != "migrate:2" || migrate.Status.CompletionTime == nil {
		t.Errorf("migrate Job: image %s, completed %v", migrate.Spec.Template.Spec.Containers[0].Image, migrate.Status.CompletionTime)
	}
	s.get(&corev1.ConfigMap{}, "settings")
	s.absent(&batchv1.Job{}, "smoke")
	for _, ref := range app.Status.Inventory {
		if ref.Name == "smoke" {
			t.Errorf("the deleted PostSync hook is in the inventory: %v", app.Status.Inventory)
		}
	}
	ignored := "argocd.argoproj.io/compare-options: IgnoreExtraneous (ConfigMap " + s.ns + "/settings)"
	if msg := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.SyncedCondition).Message; !strings.Contains(msg, ignored) {
		t.Errorf("Synced message %q does not tell the ignored annotation", msg)
	}
	s.thenEvent(controller.ReasonAnnotationsIgnored, ignored)
}
