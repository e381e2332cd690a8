package traffic

import (
	"fmt"
	"testing"
	"time"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// abortRollout sends half the pods to the canary and checks its error rate
// once Prometheus has scraped the canary's pods for a while.
const abortRollout = `apiVersion: weir.dev/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  targetRef: {name: web}
  progressDeadline: 2m
  onFailure: {revertInGit: true}
  strategy:
    canary:
      service: web
      steps:
      - setWeight: 50
      - pause: {duration: 15s}
      - analysis:
          templates: [{name: error-rate}]
`

// BenchmarkAbortToStableTraffic releases a version that fails half its
// requests, under constant load, and measures (ns/op) the time from the
// abort, as a client watching the Rollout sees it, to the first of 200
// requests in a row all served by stable. Each release is reverted in Git
// before the next.
func BenchmarkAbortToStableTraffic(b *testing.B) {
	s, url := canaryStory(b, "bench", abortRollout)
	_, stop := constantLoad(url, 2, 10*time.Millisecond) // the analysis needs requests
	defer stop()
	var total time.Duration
	for i := range b.N {
		s.repo.Write("web.yaml", demoDeployment(fmt.Sprintf("bad%d", i), "0.5"))
		s.repo.Commit(fmt.Sprintf("release bad%d", i))
		s.waitRollout("aborted", func(ro *weirv1.Rollout) bool { return len(ro.Status.FailedRevisions) > i })
		total += s.untilOnly(url, "v1")
		s.waitRollout("reverted and idle", func(ro *weirv1.Rollout) bool {
			return ro.Status.FailedRevisions[i].RevertCommit != "" && ro.Status.Phase == weirv1.RolloutIdle && s.canaryGone()
		})
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/op")
}
