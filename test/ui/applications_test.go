package ui

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// A user opens the list, sees the synced Application with its revision,
// and sees the next commit arrive without reloading.
func TestTheListShowsASyncedApplicationAndACommitLive(t *testing.T) {
	a := newApp(t, map[string]string{"config.yaml": fixture.ConfigMap("settings", "colour", "blue")})
	url := serveUI(t, testenv.Config(t), false)
	ctx := browser(t, 2*time.Minute)

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/?namespace="+a.ns), chromedp.WaitVisible(chromedp.CSS("table.apps"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, a.ns+"/shop")
	waitText(t, ctx, "Synced")
	waitText(t, ctx, "Healthy")
	waitText(t, ctx, "initial")
	waitText(t, ctx, "Live")
	screenshot(t, ctx, "list")

	// A mark on the page that a reload would lose.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void]("window.weirMark = 1")); err != nil {
		t.Fatal(err)
	}
	sha := a.commit("Paint it green", map[string]string{"config.yaml": fixture.ConfigMap("settings", "colour", "green")})
	a.readyAt(sha)
	applied := time.Now()
	waitText(t, ctx, "Paint it green")
	// At most this long from the status change to the page showing it (the
	// test sees the change after the controller writes it, so less).
	t.Logf("the page showed the commit %s after the test saw it applied", time.Since(applied).Round(time.Millisecond))
	waitText(t, ctx, sha[:12])
	if mark, err := chromedp.Run(ctx, chromedp.Evaluate[int]("window.weirMark")); err != nil || mark != 1 {
		t.Fatalf("the page reloaded to show the commit (mark %d, %v): it should update in place", mark, err)
	}
	screenshot(t, ctx, "list-after-commit")
}
