package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// exporter serves one gauge, shop_success_rate, whose value the test sets:
// what a real service's metrics would say of a release.
type exporter struct {
	srv   *httptest.Server
	value atomic.Value
}

func newExporter(t testing.TB, value string) *exporter {
	e := &exporter{}
	e.value.Store(value)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "# TYPE shop_success_rate gauge\nshop_success_rate %s\n", e.value.Load())
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *exporter) set(value string) { e.value.Store(value) }

// scrapedBy starts a real Prometheus that scrapes the exporter and returns
// its URL once it holds the series, so that no analysis meets a Prometheus
// with no data yet.
func (e *exporter) scrapedBy(t testing.TB) string {
	prometheus := testenv.StartPrometheus(t, e.srv.URL)
	query := prometheus + "/api/v1/query?query=shop_success_rate"
	testenv.Eventually(t, time.Minute, "Prometheus has scraped the exporter", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, query, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if !strings.Contains(string(body), `"shop_success_rate"`) {
			return fmt.Errorf("no series yet: %s", body)
		}
		return nil
	})
	return prometheus
}

// successRateTemplate is an AnalysisTemplate that passes while the success
// rate that provider (a YAML flow mapping) reads is at least 0.95, measured
// count times a second apart.
func successRateTemplate(provider string, count int) string {
	return fmt.Sprintf(`apiVersion: weir.dev/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  metrics:
  - name: success-rate
    interval: 1s
    count: %d
    successCondition: result >= 0.95
    provider: %s
`, count, provider)
}

// fromPrometheus reads shop_success_rate from a Prometheus.
func fromPrometheus(address string) string {
	return fmt.Sprintf(`{prometheus: {address: "%s", query: shop_success_rate}}`, address)
}

// fromWeb reads successRate from a JSON endpoint.
func fromWeb(base string) string {
	return fmt.Sprintf(`{web: {url: "%s/health.json", jsonPath: .successRate}}`, base)
}

// canaryRollout is a Rollout of Deployment web behind Service web with the
// given steps (YAML list items, indented for spec.strategy.canary.steps)
// and, when routing is not empty, that trafficRouting.
func canaryRollout(steps, routing string, revert bool) string {
	if routing != "" {
		routing = "      trafficRouting:\n" + routing
	}
	return fmt.Sprintf(`apiVersion: weir.dev/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  targetRef: {name: web}
  progressDeadline: 1m
  onFailure: {revertInGit: %t}
  strategy:
    canary:
      service: web
%s      steps:
%s`, revert, routing, steps)
}

// rollout reads the story's Rollout web.
func (s *story) rollout() *weirv1.Rollout {
	s.t.Helper()
	ro := &weirv1.Rollout{}
	s.get(ro, "web")
	return ro
}

// thenRollout waits until the Rollout web satisfies ok.
func (s *story) thenRollout(what string, ok func(*weirv1.Rollout) bool) *weirv1.Rollout {
	s.t.Helper()
	ro := &weirv1.Rollout{}
	testenv.Eventually(s.t, 2*time.Minute, "Rollout "+what, func(ctx context.Context) error {
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

// thenPausedAt waits for the Rollout to pause at step with weight.
func (s *story) thenPausedAt(step, weight int32) *weirv1.Rollout {
	s.t.Helper()
	return s.thenRollout(fmt.Sprintf("paused at step %d with weight %d", step, weight), func(ro *weirv1.Rollout) bool {
		return ro.Status.Phase == weirv1.RolloutPaused && ro.Status.CurrentStep == step && ro.Status.CanaryWeight == weight
	})
}

// thenRunning waits until the Application applied the repository's head
// and its Rollout rests with Deployment web on image.
func (s *story) thenRunning(image string) {
	s.t.Helper()
	s.thenApplied(s.repo.Head())
	s.thenIdle(image)
}

// thenIdle waits for the Rollout to rest with the stable Deployment on
// image.
func (s *story) thenIdle(image string) {
	s.t.Helper()
	s.thenRollout("idle", func(ro *weirv1.Rollout) bool {
		return ro.Status.Phase == weirv1.RolloutIdle && ro.Status.StableHash != ""
	})
	testenv.Eventually(s.t, time.Minute, "Deployment web on "+image+", available", func(ctx context.Context) error {
		web := &appsv1.Deployment{}
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "web"}, web); err != nil {
			return err
		}
		if got := web.Spec.Template.Spec.Containers[0].Image; got != image {
			return fmt.Errorf("image %s", got)
		}
		if web.Status.AvailableReplicas != *web.Spec.Replicas {
			return fmt.Errorf("%d of %d available", web.Status.AvailableReplicas, *web.Spec.Replicas)
		}
		return nil
	})
}

// request asks for an action by hand, as `weir rollout VERB` does.
func (s *story) request(annotation string) {
	s.t.Helper()
	ro := s.rollout()
	before := ro.DeepCopy()
	if ro.Annotations == nil {
		ro.Annotations = map[string]string{}
	}
	ro.Annotations[annotation] = time.Now().UTC().Format(time.RFC3339Nano)
	if err := s.c.Patch(context.Background(), ro, client.MergeFrom(before)); err != nil {
		s.t.Fatalf("annotate Rollout web with %s: %v", annotation, err)
	}
}

// replicas returns the spec.replicas and image of a Deployment, or -1 and
// "" when it is gone.
func (s *story) replicas(name string) (int32, string) {
	s.t.Helper()
	d := &appsv1.Deployment{}
	if err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: name}, d); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return -1, ""
		}
		s.t.Fatal(err)
	}
	return *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Image
}

// wantReplicas checks the replicas and image of a Deployment.
func (s *story) wantReplicas(name string, replicas int32, image string) {
	s.t.Helper()
	if got, img := s.replicas(name); got != replicas || img != image {
		s.t.Errorf("Deployment %s: %d replicas of %q, want %d of %q", name, got, img, replicas, image)
	}
}

// allowPush lets weir push to the story's repository's checked-out branch,
// as to a server.
func (s *story) allowPush() {
	s.repo.Git("config", "receive.denyCurrentBranch", "updateInstead")
}

// lastCommit is the subject and body of the branch head.
func (s *story) lastCommit() string {
	return s.repo.Git("log", "-1", "--format=%an <%ae>%n%B")
}

// fileAtHead is a file's content in the branch head.
func (s *story) fileAtHead(path string) string {
	return s.repo.Git("show", "HEAD:"+path)
}

// containsAll reports whether text holds every word.
func containsAll(text string, words ...string) bool {
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}
