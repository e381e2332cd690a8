package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// watchOnly sets a long interval, so that only a watch event can make weir
// notice drift, and the self-heal flag.
func watchOnly(selfHeal bool) func(*weirv1.ApplicationSpec) {
	return func(spec *weirv1.ApplicationSpec) {
		spec.Sync.Interval = &metav1.Duration{Duration: time.Hour}
		spec.Sync.SelfHeal = selfHeal
	}
}

var driftFiles = map[string]string{
	"web.yaml":      fixture.Deployment("web", 2, "nginx:1.27"),
	"settings.yaml": fixture.ConfigMap("settings", "mode", "safe"),
}

func TestKubectlScaleIsReportedWithItsManagerAndHealed(t *testing.T) {
	s := given(t, driftFiles)
	s.whenApplication(watchOnly(true))
	s.thenApplied(s.repo.Head())

	s.kubectl(nil, "scale", "deployment/web", "--replicas=5")

	s.thenEvent(controller.ReasonDriftDetected, "apps/Deployment "+s.ns+"/web: .spec.replicas changed by kubectl")
	app := s.waitFor("healed", func(app *weirv1.Application) bool {
		return len(app.Status.History) == 2 && app.Status.History[0].Trigger == controller.TriggerDrift &&
			app.Status.History[0].Result == weirv1.SyncSucceeded && len(app.Status.Drift) == 0 &&
			apimeta.IsStatusConditionTrue(app.Status.Conditions, weirv1.SyncedCondition)
	})
	var web appsv1.Deployment
	s.get(&web, "web")
	if *web.Spec.Replicas != 2 {
		t.Errorf("replicas = %d after healing, want Git's 2", *web.Spec.Replicas)
	}
	s.thenEvent(controller.ReasonDriftCorrected, "Re-applied revision "+app.Status.LastAppliedRevision)
}

// TestDriftIsHealedFromWhatWasAppliedWithoutGit: a heal re-applies the
// drifted object alone, from the objects weir applied last, so that it
// needs no Git: it heals while the repository cannot be read.
func TestDriftIsHealedFromWhatWasAppliedWithoutGit(t *testing.T) {
	s := given(t, driftFiles)
	s.whenApplication(watchOnly(true))
	s.thenApplied(s.repo.Head())
	gone := s.repo.Dir + "-gone"
	if err := os.Rename(s.repo.Dir, gone); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Rename(gone, s.repo.Dir) })

	s.kubectl(nil, "scale", "deployment/web", "--replicas=5")

	app := s.waitFor("healed", func(app *weirv1.Application) bool {
		return len(app.Status.History) == 2 && app.Status.History[0].Trigger == controller.TriggerDrift &&
			len(app.Status.Drift) == 0 && apimeta.IsStatusConditionTrue(app.Status.Conditions, weirv1.SyncedCondition)
	})
	if rec := app.Status.History[0]; rec.Result != weirv1.SyncSucceeded || rec.Summary != "1 configured" || rec.Revision != app.Status.LastAppliedRevision {
		t.Errorf("the heal is recorded as %+v, want revision %s re-applied to the Deployment alone (1 configured)", rec, app.Status.LastAppliedRevision)
	}
	var web appsv1.Deployment
	s.get(&web, "web")
	if *web.Spec.Replicas != 2 {
		t.Errorf("replicas = %d after healing, want Git's 2", *web.Spec.Replicas)
	}
	s.thenEvent(controller.ReasonDriftCorrected, "Re-applied revision "+app.Status.LastAppliedRevision+" over apps/Deployment "+s.ns+"/web")
}

func TestDriftWithoutSelfHealIsReportedAndLeftAlone(t *testing.T) {
	s := given(t, driftFiles)
	s.whenApplication(watchOnly(false))
	s.thenApplied(s.repo.Head())

	s.kubectl([]string{"KUBE_EDITOR=sed -i s/safe/reckless/"}, "edit", "configmap/settings")

	app := s.thenCondition(weirv1.SyncedCondition, metav1.ConditionFalse, controller.ReasonDrifted)
	want := weirv1.DriftedObject{Object: weirv1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: s.ns, Name: "settings"},
		Fields: []string{".data.mode"}, Managers: []string{"kubectl-edit"}}
	if len(app.Status.Drift) != 1 || !sameDriftReport(app.Status.Drift[0], want) {
		t.Errorf("status.drift = %+v, want %+v", app.Status.Drift, want)
	}
	s.thenEvent(controller.ReasonDriftDetected, "ConfigMap "+s.ns+"/settings: .data.mode changed by kubectl-edit")
	s.consistentlySetting("reckless", 3*time.Second)

	s.kubectl(nil, "delete", "deployment/web")
	s.waitFor("the deleted Deployment reported", func(app *weirv1.Application) bool {
		return slices.ContainsFunc(app.Status.Drift, func(d weirv1.DriftedObject) bool { return d.Object.Name == "web" && d.Deleted })
	})

	s.setSelfHeal(true)
	s.waitFor("healed once self-heal is on", func(app *weirv1.Application) bool {
		return len(app.Status.Drift) == 0 && apimeta.IsStatusConditionTrue(app.Status.Conditions, weirv1.ReadyCondition)
	})
	s.consistentlySetting("safe", 0)
	var web appsv1.Deployment
	s.get(&web, "web")
}

func TestDeletedManagedObjectComesBack(t *testing.T) {
	s := given(t, driftFiles)
	s.whenApplication(watchOnly(true))
	s.thenApplied(s.repo.Head())

	s.kubectl(nil, "delete", "configmap/settings")

	testenv.Eventually(t, 30*time.Second, "the ConfigMap re-created", func(ctx context.Context) error {
		return s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "settings"}, &corev1.ConfigMap{})
	})
	s.thenEvent(controller.ReasonDriftDetected, "ConfigMap "+s.ns+"/settings deleted")
}

func TestUnrelatedObjectNeverTriggersASync(t *testing.T) {
	s := given(t, driftFiles)
	s.whenApplication(watchOnly(true))
	s.thenApplied(s.repo.Head())

	s.kubectl(nil, "create", "configmap", "unrelated", "--from-literal=n=0")
	for i := range 10 {
		s.kubectl(nil, "patch", "configmap/unrelated", "-p", fmt.Sprintf(`{"data":{"n":"%d"}}`, i+1))
	}
	s.kubectl(nil, "scale", "deployment/web", "--replicas=2") // a no-op on a managed object

	time.Sleep(3 * time.Second)
	app := s.waitFor("still one sync", func(app *weirv1.Application) bool { return true })
	if len(app.Status.History) != 1 || len(app.Status.Drift) != 0 {
		t.Errorf("history %+v, drift %+v; want the first sync alone and no drift", app.Status.History, app.Status.Drift)
	}
	if events := s.eventsWithReason(controller.ReasonDriftDetected); len(events) != 0 {
		t.Errorf("drift reported: %v", events)
	}
}

// kubectl runs the cluster's kubectl in the story's namespace, with env
// added to the environment, and fails the test if it fails.
func (s *story) kubectl(env []string, args ...string) {
	s.t.Helper()
	if out, err := s.tryKubectl(env, args...); err != nil {
		s.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// tryKubectl runs kubectl in the story's namespace, with env added to the
// environment, and returns what it printed.
func (s *story) tryKubectl(env []string, args ...string) (string, error) {
	s.t.Helper()
	bin := filepath.Join(testenv.Binaries(s.t).Kubernetes, "kubectl")
	cmd := exec.Command(bin, append([]string{"--kubeconfig", testenv.Cluster(s.t).Kubeconfig, "--namespace", s.ns}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// thenEvent waits for an Event on the Application with reason whose
// message contains text.
func (s *story) thenEvent(reason, text string) {
	s.t.Helper()
	testenv.Eventually(s.t, 30*time.Second, fmt.Sprintf("a %s event saying %q", reason, text), func(context.Context) error {
		messages := s.eventsWithReason(reason)
		if !slices.ContainsFunc(messages, func(m string) bool { return strings.Contains(m, text) }) {
			return fmt.Errorf("%s events: %q", reason, messages)
		}
		return nil
	})
}

func (s *story) eventsWithReason(reason string) []string {
	s.t.Helper()
	var events corev1.EventList
	if err := s.c.List(context.Background(), &events, client.InNamespace(s.ns)); err != nil {
		s.t.Fatal(err)
	}
	var messages []string
	for _, e := range events.Items {
		if e.InvolvedObject.Kind == "Application" && e.Reason == reason {
			messages = append(messages, e.Message)
		}
	}
	return messages
}

// consistentlySetting checks the settings ConfigMap's mode now and for d.
func (s *story) consistentlySetting(mode string, d time.Duration) {
	s.t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(500 * time.Millisecond) {
		var cm corev1.ConfigMap
		s.get(&cm, "settings")
		if cm.Data["mode"] != mode {
			s.t.Fatalf("settings mode = %q, want %q", cm.Data["mode"], mode)
		}
		if time.Now().After(deadline) {
			return
		}
	}
}

func (s *story) setSelfHeal(on bool) {
	s.t.Helper()
	patch := client.RawPatch("application/merge-patch+json", fmt.Appendf(nil, `{"spec":{"sync":{"selfHeal":%t}}}`, on))
	if err := s.c.Patch(context.Background(), s.app, patch); err != nil {
		s.t.Fatal(err)
	}
}

func sameDriftReport(got, want weirv1.DriftedObject) bool {
	return got.Object == want.Object && got.Deleted == want.Deleted &&
		slices.Equal(got.Fields, want.Fields) && slices.Equal(got.Managers, want.Managers)
}
