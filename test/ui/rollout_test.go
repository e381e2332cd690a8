package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// canary is a Rollout of Deployment web: a quarter of the pods, a pause
// until promoted, the success-rate analysis, half, a short pause; a failed
// revision is reverted in Git.
const canary = `apiVersion: weir.dev/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  targetRef: {name: web}
  progressDeadline: 1m
  onFailure: {revertInGit: true}
  strategy:
    canary:
      service: web
      steps:
      - setWeight: 25
      - pause: {}
      - analysis:
          templates: [{name: success-rate}]
      - setWeight: 50
      - pause: {duration: 1s}
`

// successRate passes while the endpoint's successRate is at least 0.95,
// measured three times a second apart.
func successRate(url string) string {
	return fmt.Sprintf(`apiVersion: weir.dev/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  metrics:
  - name: success-rate
    interval: 1s
    count: 3
    successCondition: result >= 0.95
    provider: {web: {url: "%s", jsonPath: .successRate}}
`, url)
}

// A canary paused at 25% shows on the Rollout page with its current step;
// the promote button moves it on, through the analysis (its measurements
// charted) to the end. A bad release promoted the same way fails its
// analysis, and the page shows the failed revision, the failing value and
// the revert commit.
func TestTheRolloutPageShowsACanaryAndPromotesIt(t *testing.T) {
	var rate atomic.Value
	rate.Store("0.99")
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"successRate": %s}`, rate.Load())
	}))
	t.Cleanup(health.Close)
	a := newApp(t, map[string]string{
		"web.yaml":      fixture.Deployment("web", 4, "shop:v1"),
		"svc.yaml":      "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n",
		"rollout.yaml":  canary,
		"analysis.yaml": successRate(health.URL),
	})
	a.repo.Git("config", "receive.denyCurrentBranch", "updateInstead") // weir pushes its revert
	url := serveUI(t, testenv.Config(t), false)
	ctx := browser(t, 4*time.Minute)

	a.commit("Release v2", map[string]string{"web.yaml": fixture.Deployment("web", 4, "shop:v2")})
	a.rolloutPausedAt(1, 25)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/rollouts/"+a.ns+"/web")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "25%")
	waitJS(t, ctx, "the current step is the pause", `document.querySelector("[aria-current=step]").innerText.includes("pause until promoted")`)
	waitText(t, ctx, "Paused")
	screenshot(t, ctx, "paused")

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#act-promote"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "Promote of Rollout "+a.ns+"/web requested.")
	waitJS(t, ctx, "the analysis charted", `document.querySelectorAll("svg.spark circle").length >= 2`)
	waitJS(t, ctx, "the rollout done", `document.getElementById("phase").innerText === "Idle"`)
	screenshot(t, ctx, "promoted")

	rate.Store("0.42")
	a.commit("Release v3", map[string]string{"web.yaml": fixture.Deployment("web", 4, "shop:v3")})
	a.rolloutPausedAt(1, 25)
	waitText(t, ctx, "Paused") // live, without a reload
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#act-promote"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "Failed revisions")
	waitText(t, ctx, "0.42")
	waitText(t, ctx, "reverted in Git by commit")
	screenshot(t, ctx, "failed")
}

// rolloutPausedAt waits until the Rollout web pauses at step with weight.
func (a *app) rolloutPausedAt(step, weight int32) {
	a.t.Helper()
	ro := &weirv1.Rollout{}
	testenv.Eventually(a.t, 2*time.Minute, fmt.Sprintf("Rollout paused at step %d with weight %d", step, weight), func(context.Context) error {
		if err := a.workloads.Get(context.Background(), client.ObjectKey{Namespace: a.ns, Name: "web"}, ro); err != nil {
			return err
		}
		if ro.Status.Phase != weirv1.RolloutPaused || ro.Status.CurrentStep != step || ro.Status.CanaryWeight != weight {
			return fmt.Errorf("phase %s, step %d, weight %d: %s", ro.Status.Phase, ro.Status.CurrentStep, ro.Status.CanaryWeight, ro.Status.Message)
		}
		return nil
	})
}
