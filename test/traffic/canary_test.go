package traffic

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// replicas is the demo's size in Git: at 20, 50 and 80 the replica-ratio
// router runs 1+4, 3+3 and 4+1 canary and stable pods, exactly the weight.
const replicas = 5

// requestsPerWeight and tolerance are how the split is measured: with
// 2,000 requests the binomial spread at 50% is about 1.1 points, so 5
// points is more than four standard deviations.
const (
	requestsPerWeight = 2000
	tolerance         = 5.0
)

// TestCanaryByReplicaRatioOnRealTraffic releases the demo through a plain
// Service: a good version goes out at 20, 50 and 80% of the pods, each
// share counted over 2,000 requests, and is promoted under constant load,
// whose failed requests are counted; a bad version (half its requests
// fail) is caught by a Prometheus analysis on the pods' real
// http_requests_total, aborted, its requests stop, and weir's revert lands
// in Git.
func TestCanaryByReplicaRatioOnRealTraffic(t *testing.T) {
	s, url := canaryStory(t, "shop", demoRollout)

	background, stop := constantLoad(url, 2, 10*time.Millisecond)
	s.repo.Write("web.yaml", demoDeployment("v2", "0"))
	s.repo.Commit("release v2")
	for _, weight := range []int32{20, 50, 80} {
		s.waitPaused(weight)
		split := count(s.ctx, url, requestsPerWeight, 8)
		got := split.share("v2")
		t.Logf("weight %d: v2 served %.1f%% (%s)", weight, got, split)
		if math.Abs(got-float64(weight)) > tolerance {
			t.Errorf("at weight %d the canary served %.1f%% of %d requests, want within %.0f points", weight, got, requestsPerWeight, tolerance)
		}
		s.promote()
	}
	s.waitRollout("promoted", func(ro *weirv1.Rollout) bool { return ro.Status.Phase == weirv1.RolloutIdle && s.canaryGone() })
	s.waitServing(url, "v2")
	stop()
	t.Logf("constant load through the whole canary and its promotion: %s", background)
	if background.failures != 0 {
		t.Errorf("%d of %d requests failed during the canary and its promotion (last: %s)", background.failures, background.total, background.lastErr)
	}

	background, stop = constantLoad(url, 2, 10*time.Millisecond)
	defer stop()
	took := s.releaseBad(url, s.waitPaused)
	reverted := time.Now()
	t.Logf("from the abort seen to every request on stable: %s", took)
	if web := s.repo.Git("show", "HEAD:web.yaml"); !strings.Contains(web, "value: v2") {
		t.Errorf("web.yaml after the revert:\n%s", web)
	}
	late := count(s.ctx, url, 500, 4)
	if late.versions["v2"] != late.total {
		t.Errorf("%s after the revert (%s ago), want every request on v2", late, time.Since(reverted).Round(time.Millisecond))
	}
	stop()
	t.Logf("constant load through the bad release: %s", background)
}

// releaseBad commits v3, which fails half its requests, promotes it past
// the pauses at 20, 50 and 80% (waitPause waits for each), and checks that
// the error-rate analysis fails it and that weir's revert becomes the
// branch's head. It returns the time from the abort, as a client watching
// the Rollout sees it, to the first of 200 requests in a row to url all
// served by v2.
func (s *story) releaseBad(url string, waitPause func(weight int32)) time.Duration {
	s.t.Helper()
	s.repo.Write("web.yaml", demoDeployment("v3", "0.5"))
	bad := s.repo.Commit("release v3")
	for _, weight := range []int32{20, 50, 80} {
		waitPause(weight)
		s.promote()
	}
	ro := s.waitRollout("aborted", func(ro *weirv1.Rollout) bool { return len(ro.Status.FailedRevisions) > 0 })
	took := s.untilOnly(url, "v2")
	f := ro.Status.FailedRevisions[0]
	s.t.Logf("v3 failed: %s", f.Reason)
	if !strings.HasSuffix(f.Revision, bad) || !strings.Contains(f.Reason, "error-rate") {
		s.t.Errorf("failed revision %+v, want %s failing error-rate", f, bad)
	}
	ro = s.waitRollout("reverted in Git", func(ro *weirv1.Rollout) bool { return ro.Status.FailedRevisions[0].RevertCommit != "" })
	if head := s.repo.Head(); head != ro.Status.FailedRevisions[0].RevertCommit {
		s.t.Errorf("the branch head is %s, want weir's revert %s", head, ro.Status.FailedRevisions[0].RevertCommit)
	}
	return took
}

// canaryStory has weir sync, in a namespace of its own with a Prometheus
// scraping it, a repository holding the demo at v1 behind Service web and
// rollout, the Rollout of it, with the error-rate analysis. It returns
// once the Service serves v1, with the Service's address.
func canaryStory(t testing.TB, name, rollout string) (*story, string) {
	t.Helper()
	_, cl := realCluster(t)
	s := newStory(t, cl, name)
	s.repo.Write("web.yaml", demoDeployment("v1", "0"))
	s.repo.Write("svc.yaml", demoService)
	s.repo.Write("rollout.yaml", rollout)
	s.repo.Write("analysis.yaml", errorRateTemplate(s.startPrometheus()))
	s.repo.Commit("the demo at v1")
	s.createApplication()
	url := s.serviceURL("web")
	s.waitServing(url, "v1")
	return s, url
}

// story is one test's namespace, repository and Application.
type story struct {
	t    testing.TB
	ctx  context.Context
	c    client.Client
	ns   string
	repo *testenv.GitRepo
}

// newStory creates a namespace named after name for the test, deleted
// when it ends, and a Git repository into which weir may push.
func newStory(t testing.TB, c client.Client, name string) *story {
	t.Helper()
	ctx := testenv.Context(t, 15*time.Minute)
	repo := testenv.NewGitRepo(t)
	repo.Git("config", "receive.denyCurrentBranch", "updateInstead")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: name + "-"}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	// Before the repository goes (cleanups run last first), so that the
	// controller, which goes on for the package, stops syncing it sooner.
	t.Cleanup(func() {
		// Not waited for: its pods take their grace period to go.
		_ = c.Delete(context.Background(), ns)
	})
	return &story{t: t, ctx: ctx, c: c, ns: ns.Name, repo: repo}
}

// startPrometheus starts a Prometheus scraping the story's pods and
// returns its address.
func (s *story) startPrometheus() string {
	s.t.Helper()
	kc, err := kubernetes.NewForConfig(testenv.Config(s.t))
	if err != nil {
		s.t.Fatal(err)
	}
	return testenv.StartPrometheusOnPods(s.t, kc, s.ns)
}

// createApplication has weir sync the story's repository every second.
func (s *story) createApplication() {
	s.t.Helper()
	app := &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: s.ns},
		Spec: weirv1.ApplicationSpec{
			Source: weirv1.GitSource{URL: s.repo.URL()},
			Sync:   weirv1.SyncPolicy{Interval: &metav1.Duration{Duration: time.Second}, Timeout: &metav1.Duration{Duration: time.Minute}},
		},
	}
	if err := s.c.Create(s.ctx, app); err != nil {
		s.t.Fatalf("create Application: %v", err)
	}
}

// serviceURL is the address of Service name on the pod network, once it
// has one.
func (s *story) serviceURL(name string) string {
	s.t.Helper()
	svc := &corev1.Service{}
	testenv.Eventually(s.t, 2*time.Minute, "Service "+name, func(ctx context.Context) error {
		return s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, svc)
	})
	return "http://" + svc.Spec.ClusterIP + "/"
}

// waitServing waits until every one of 100 requests to url is answered
// by version.
func (s *story) waitServing(url, version string) {
	s.t.Helper()
	testenv.Eventually(s.t, 3*time.Minute, url+" serving "+version, func(ctx context.Context) error {
		if t := count(ctx, url, 100, 4); t.versions[version] != 100 {
			return fmt.Errorf("%s", t)
		}
		return nil
	})
}

// untilOnly sends requests to url one after another until 200 in a row are
// answered by version, and returns the time to the first of them.
func (s *story) untilOnly(url, version string) time.Duration {
	s.t.Helper()
	start, first, inARow := time.Now(), time.Time{}, 0
	for inARow < 200 {
		if s.ctx.Err() != nil {
			s.t.Fatalf("%s never served only %s", url, version)
		}
		now := time.Now()
		if got, err := get(s.ctx, url, nil); err != nil || got != version {
			inARow = 0
			continue
		}
		if inARow == 0 {
			first = now
		}
		inARow++
	}
	return first.Sub(start)
}

// waitPaused waits until the Rollout pauses at weight with the pods of
// both sides Ready in the replica ratio, and kube-proxy has had the time
// to follow (its rules are synced at most a second after a change).
func (s *story) waitPaused(weight int32) {
	s.t.Helper()
	canary := (replicas*weight + 99) / 100
	stable := (replicas*(100-weight) + 99) / 100
	s.waitRollout(fmt.Sprintf("paused at %d%%", weight), func(ro *weirv1.Rollout) bool {
		return ro.Status.Phase == weirv1.RolloutPaused && ro.Status.CanaryWeight == weight &&
			s.readyPods("web-canary") == canary && s.readyPods("web") == stable
	})
	time.Sleep(2 * time.Second)
}

// readyPods counts the Ready, not terminating, pods of a Deployment.
func (s *story) readyPods(deployment string) int32 {
	pods := &corev1.PodList{}
	if err := s.c.List(s.ctx, pods, client.InNamespace(s.ns)); err != nil {
		return -1
	}
	var n int32
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || !strings.HasPrefix(p.Name, deployment+"-") || len(p.OwnerReferences) == 0 {
			continue
		}
		if rs := p.OwnerReferences[0].Name; rs[:strings.LastIndex(rs, "-")] != deployment {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				n++
			}
		}
	}
	return n
}

// canaryGone reports whether the canary has no pods left.
func (s *story) canaryGone() bool {
	pods := &corev1.PodList{}
	if err := s.c.List(s.ctx, pods, client.InNamespace(s.ns)); err != nil {
		return false
	}
	for _, p := range pods.Items {
		if strings.HasPrefix(p.Name, "web-canary-") {
			return false
		}
	}
	return true
}

// promote asks the paused Rollout to go on.
func (s *story) promote() {
	s.t.Helper()
	ro := &weirv1.Rollout{}
	if err := s.c.Get(s.ctx, client.ObjectKey{Namespace: s.ns, Name: "web"}, ro); err != nil {
		s.t.Fatal(err)
	}
	before := ro.DeepCopy()
	if ro.Annotations == nil {
		ro.Annotations = map[string]string{}
	}
	ro.Annotations[weirv1.PromoteAnnotation] = time.Now().UTC().Format(time.RFC3339Nano)
	if err := s.c.Patch(s.ctx, ro, client.MergeFrom(before)); err != nil {
		s.t.Fatalf("promote Rollout web: %v", err)
	}
}

// waitRollout waits until the Rollout web satisfies ok.
func (s *story) waitRollout(what string, ok func(*weirv1.Rollout) bool) *weirv1.Rollout {
	s.t.Helper()
	ro := &weirv1.Rollout{}
	testenv.Eventually(s.t, 3*time.Minute, "Rollout "+what, func(ctx context.Context) error {
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "web"}, ro); err != nil {
			return err
		}
		if !ok(ro) {
			return fmt.Errorf("phase %s, step %d, weight %d: %s", ro.Status.Phase, ro.Status.CurrentStep, ro.Status.CanaryWeight, ro.Status.Message)
		}
		return nil
	})
	return ro
}
