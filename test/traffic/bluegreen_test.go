package traffic

import (
	"context"
	"fmt"
	"testing"
	"time"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// scaleDownDelay is how long the blue/green Rollout keeps the preview
// after the switch.
const scaleDownDelay = 10 * time.Second

const previewService = `apiVersion: v1
kind: Service
metadata: {name: web-preview}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`

const blueGreenRollout = `apiVersion: weir.dev/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  targetRef: {name: web}
  progressDeadline: 2m
  strategy:
    blueGreen:
      activeService: web
      previewService: web-preview
      autoPromotion: false
      scaleDownDelay: 10s
`

// TestBlueGreenOnRealTraffic switches the active Service to a new version
// under constant load: no request fails, the preview serves the new
// version before the switch, and its pods stay until scaleDownDelay after
// the switch back to the stable Deployment, and then go.
func TestBlueGreenOnRealTraffic(t *testing.T) {
	_, cl := realCluster(t)
	s := newStory(t, cl, "blue")
	s.repo.Write("web.yaml", demoDeployment("v1", "0"))
	s.repo.Write("svc.yaml", demoService)
	s.repo.Write("preview.yaml", previewService)
	s.repo.Write("rollout.yaml", blueGreenRollout)
	s.repo.Commit("the demo at v1")
	s.createApplication()
	url := s.serviceURL("web")
	s.waitServing(url, "v1")

	load, stop := constantLoad(url, 2, 10*time.Millisecond)
	defer stop()
	s.repo.Write("web.yaml", demoDeployment("v2", "0"))
	s.repo.Commit("release v2")
	s.waitRollout("paused with the preview ready", func(ro *weirv1.Rollout) bool { return ro.Status.Phase == weirv1.RolloutPaused })
	s.waitServing(s.serviceURL("web-preview"), "v2")
	if load.share("v2") != 0 {
		t.Errorf("the active Service served v2 before the switch: %s", load)
	}
	s.promote()
	ro := s.waitRollout("switched back to stable", func(ro *weirv1.Rollout) bool { return ro.Status.ScaleDownAt != nil })
	at := ro.Status.ScaleDownAt.Time
	switched := at.Add(-scaleDownDelay)
	for time.Until(at) > 500*time.Millisecond {
		if n := s.readyPods("web-preview"); n != replicas {
			t.Fatalf("%s after the switch, %s before scaleDownAt, the preview has %d Ready pods, want %d", time.Since(switched).Round(time.Millisecond), time.Until(at).Round(time.Millisecond), n, replicas)
		}
		time.Sleep(200 * time.Millisecond)
	}
	testenv.Eventually(t, time.Minute, "the preview removed", func(ctx context.Context) error {
		if n := s.readyPods("web-preview"); n != 0 {
			return fmt.Errorf("%d preview pods", n)
		}
		return nil
	})
	gone := time.Now()
	s.waitRollout("idle", func(ro *weirv1.Rollout) bool { return ro.Status.Phase == weirv1.RolloutIdle })
	s.waitServing(url, "v2")
	stop()
	t.Logf("constant load through the switch: %s; the preview went %s after the switch (scaleDownDelay %s)", load, gone.Sub(switched).Round(time.Millisecond), scaleDownDelay)
	if load.failures != 0 {
		t.Errorf("%d of %d requests failed through the blue/green switch (last: %s)", load.failures, load.total, load.lastErr)
	}
	if gone.Before(at) {
		t.Errorf("the preview went at %s, before scaleDownAt %s", gone, at)
	}
}
