package e2e

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/delivery"
	"weir.dev/weir/test/fixture"
)

// replicaSteps: a quarter of the pods, a pause until promoted by hand, the
// success-rate analysis, half, and a short pause.
const replicaSteps = `      - setWeight: 25
      - pause: {}
      - analysis:
          templates: [{name: success-rate}]
      - setWeight: 50
      - pause: {duration: 1s}
`

// TestCanaryByReplicaRatio tells the main story of delivery without a
// traffic router: a good release goes out step by step and is promoted; a
// bad one fails its analysis, goes back to stable and is reverted in Git,
// after which Git and the cluster agree.
func TestCanaryByReplicaRatio(t *testing.T) {
	metrics := newExporter(t, "0.99")
	prometheus := metrics.scrapedBy(t)
	s := given(t, map[string]string{
		"web.yaml":      fixture.Deployment("web", 4, "shop:v1"),
		"svc.yaml":      fixture.Service("web"),
		"rollout.yaml":  canaryRollout(replicaSteps, "", true),
		"analysis.yaml": successRateTemplate(fromPrometheus(prometheus), 3),
	})
	s.allowPush()
	s.whenApplication(nil)
	s.thenRunning("shop:v1")

	good := s.commit("release v2", map[string]string{"web.yaml": fixture.Deployment("web", 4, "shop:v2")})
	s.thenPausedAt(1, 25)
	s.wantReplicas("web", 3, "shop:v1")
	s.wantReplicas("web-canary", 1, "shop:v2")
	app := s.thenApplied(good)
	if len(app.Status.Rollouts) != 1 || !app.Status.Rollouts[0].Held {
		t.Errorf("Application status.rollouts = %+v, want web held", app.Status.Rollouts)
	}

	s.request(weirv1.PromoteAnnotation)
	ro := s.thenRollout("promoted", func(ro *weirv1.Rollout) bool {
		c := apimeta.FindStatusCondition(ro.Status.Conditions, weirv1.ReadyCondition)
		return ro.Status.Phase == weirv1.RolloutIdle && c != nil && c.Reason == delivery.ReasonPromoted
	})
	s.thenIdle("shop:v2")
	s.wantReplicas("web", 4, "shop:v2")
	if n, _ := s.replicas("web-canary"); n != -1 {
		t.Errorf("the canary is still there after promotion (%d replicas)", n)
	}
	if run := ro.Status.Analyses; len(run) != 1 || run[0].Phase != weirv1.AnalysisSuccessful {
		t.Errorf("analyses = %+v, want one successful run", run)
	}

	metrics.set("0.42")
	bad := s.commit("release v3", map[string]string{"web.yaml": fixture.Deployment("web", 4, "shop:v3")})
	s.thenPausedAt(1, 25)
	s.request(weirv1.PromoteAnnotation)
	ro = s.thenRollout("aborted and reverted", func(ro *weirv1.Rollout) bool {
		f := ro.Status.FailedRevisions
		return len(f) == 1 && f[0].RevertCommit != ""
	})
	failure := ro.Status.FailedRevisions[0]
	if !strings.HasSuffix(failure.Revision, bad) || !containsAll(failure.Reason, "success-rate", "0.42") {
		t.Errorf("failed revision %+v: want %s, failing success-rate at 0.42", failure, bad)
	}
	s.wantReplicas("web", 4, "shop:v2")
	if n, _ := s.replicas("web-canary"); n > 0 {
		t.Errorf("the failed canary still has %d replicas", n)
	}
	if head := s.repo.Head(); head != failure.RevertCommit {
		t.Fatalf("the branch head is %s, want weir's revert %s", head, failure.RevertCommit)
	}
	if msg := s.lastCommit(); !containsAll(msg, "Revert "+bad[:12], "Rollout "+s.ns+"/web failed", "0.42") {
		t.Errorf("revert commit message:\n%s", msg)
	}
	if web := s.fileAtHead("web.yaml"); !strings.Contains(web, "shop:v2") {
		t.Errorf("web.yaml after the revert:\n%s", web)
	}

	s.thenEvent(delivery.ReasonAnalysisFailed, "Rollout web: Revision main@sha1:"+bad+" failed and was rolled back")
	s.thenApplied(failure.RevertCommit)
	s.thenIdle("shop:v2")
	app = s.waitFor("status.rollouts telling the failure and its revert", func(app *weirv1.Application) bool {
		p := app.Status.Rollouts
		return len(p) == 1 && containsAll(p[0].LastFailure, bad, "0.42", failure.RevertCommit)
	})
	s.absent(&appsv1.Deployment{}, "web-canary")
	if len(app.Status.Drift) != 0 || !apimeta.IsStatusConditionTrue(app.Status.Conditions, weirv1.SyncedCondition) {
		t.Errorf("after the revert the Application is not clean: drift %v, %v", app.Status.Drift, conditionSummary(app))
	}
}

// TestRolloutByHand steers a release from the command line: `weir rollout
// abort` sends it back to stable, `retry` releases it again, `status`
// shows where it waits, and `promote` ends the pause.
func TestRolloutByHand(t *testing.T) {
	s := given(t, map[string]string{
		"web.yaml":     fixture.Deployment("web", 4, "shop:v1"),
		"svc.yaml":     fixture.Service("web"),
		"rollout.yaml": canaryRollout("      - setWeight: 50\n      - pause: {}\n", "", false),
	})
	s.whenApplication(nil)
	s.thenRunning("shop:v1")

	s.commit("release v2", map[string]string{"web.yaml": fixture.Deployment("web", 4, "shop:v2")})
	s.thenPausedAt(1, 50)
	if out := s.weir("rollout", "status", "shop"); !containsAll(out, "Phase:", "Paused", "Weight:", "50%", "pause until promoted") {
		t.Errorf("weir rollout status:\n%s", out)
	}
	s.weir("rollout", "abort", "shop")
	ro := s.thenRollout("aborted", func(ro *weirv1.Rollout) bool { return ro.Status.Phase == weirv1.RolloutAborted })
	if f := ro.Status.FailedRevisions; len(f) != 1 || f[0].Reason != "aborted by hand" {
		t.Errorf("failed revisions %+v, want one aborted by hand", f)
	}
	s.wantReplicas("web", 4, "shop:v1")

	s.weir("rollout", "retry", "shop")
	s.thenPausedAt(1, 50)
	s.wantReplicas("web-canary", 2, "shop:v2")
	s.weir("rollout", "promote", "shop")
	s.thenIdle("shop:v2")
	if f := s.rollout().Status.FailedRevisions; len(f) != 0 {
		t.Errorf("failed revisions after the retry promoted: %+v", f)
	}
}

// TestRevertTriedAgain aborts a release while the Git server refuses
// pushes: the revert fails and is recorded, and once pushes are allowed
// the next attempt lands it, after which the cluster goes back to stable.
func TestRevertTriedAgain(t *testing.T) {
	s := given(t, map[string]string{
		"web.yaml":     fixture.Deployment("web", 2, "shop:v1"),
		"svc.yaml":     fixture.Service("web"),
		"rollout.yaml": canaryRollout("      - setWeight: 50\n      - pause: {}\n", "", true),
	})
	s.whenApplication(nil)
	s.thenRunning("shop:v1")

	bad := s.commit("release v2", map[string]string{"web.yaml": fixture.Deployment("web", 2, "shop:v2")})
	s.thenPausedAt(1, 50)
	s.weir("rollout", "abort", "shop")
	ro := s.thenRollout("revert refused once", func(ro *weirv1.Rollout) bool {
		f := ro.Status.FailedRevisions
		return len(f) == 1 && f[0].RevertAttempts == 1 && f[0].RevertError != ""
	})
	if f := ro.Status.FailedRevisions[0]; f.RevertCommit != "" || f.RevertGaveUp || !strings.Contains(f.RevertError, "push") {
		t.Errorf("after a refused push: %+v, want an error about the push and another attempt to come", f)
	}
	s.waitFor("status.rollouts telling the revert will be tried again", func(app *weirv1.Application) bool {
		p := app.Status.Rollouts
		return len(p) == 1 && containsAll(p[0].LastFailure, bad, "attempt 1 of 5")
	})

	s.allowPush()
	ro = s.thenRollout("reverted on a later attempt", func(ro *weirv1.Rollout) bool {
		f := ro.Status.FailedRevisions
		return len(f) == 1 && f[0].RevertCommit != ""
	})
	if f := ro.Status.FailedRevisions[0]; f.RevertAttempts < 2 || f.RevertError != "" {
		t.Errorf("after the push went through: %+v, want 2 or more attempts and no error", f)
	}
	if head := s.repo.Head(); head != ro.Status.FailedRevisions[0].RevertCommit {
		t.Errorf("the branch head is %s, want weir's revert %s", head, ro.Status.FailedRevisions[0].RevertCommit)
	}
	s.thenApplied(ro.Status.FailedRevisions[0].RevertCommit)
	s.thenIdle("shop:v1")
}
