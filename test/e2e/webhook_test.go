package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/server"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

func TestAPushSyncsTheApplicationsTrackingItsBranchOnly(t *testing.T) {
	a := given(t, map[string]string{
		"one/cm.yaml":   fixture.ConfigMap("one", "gen", "1"),
		"two/cm.yaml":   fixture.ConfigMap("two", "gen", "1"),
		"three/cm.yaml": fixture.ConfigMap("three", "gen", "1"),
	})
	a.repo.Git("branch", "other")
	b := &story{t: t, repo: testenv.NewGitRepo(t), ns: a.ns, c: a.c}
	b.commit("initial", map[string]string{"cm.yaml": fixture.ConfigMap("four", "gen", "1")})

	mainOne := a.hourly("main-one", "one", weirv1.GitRef{})
	mainTwo := a.hourly("main-two", "two", weirv1.GitRef{Branch: "main"})
	other := a.hourly("other", "three", weirv1.GitRef{Branch: "other"})
	otherRepo := b.hourly("other-repo", "", weirv1.GitRef{})
	for _, s := range []*story{mainOne, mainTwo, other, otherRepo} {
		s.thenApplied(s.repo.Head())
	}
	before := map[*story]string{other: a.repo.Git("rev-parse", "other"), otherRepo: b.repo.Head()}

	// New commits on all three branches; the webhook tells of main's only.
	a.onBranch("other", func() {
		a.commit("three on other", map[string]string{"three/cm.yaml": fixture.ConfigMap("three", "gen", "2")})
	})
	b.commit("four", map[string]string{"cm.yaml": fixture.ConfigMap("four", "gen", "2")})
	pushed := a.commit("one and two", map[string]string{"one/cm.yaml": fixture.ConfigMap("one", "gen", "2"), "two/cm.yaml": fixture.ConfigMap("two", "gen", "2")})

	code, resp := postGitHubPush(t, a.repo.URL(), "refs/heads/main", webhookToken)
	want := []string{a.ns + "/main-one", a.ns + "/main-two"}
	if code != http.StatusAccepted || !slices.Equal(resp.Refreshed, want) {
		t.Fatalf("webhook answered %d %+v, want 202 refreshing %v", code, resp, want)
	}
	mainOne.thenApplied(pushed)
	mainTwo.thenApplied(pushed)
	for s, sha := range before {
		s.staysAt(sha, 3*time.Second)
	}
}

func TestABadlySignedPushSyncsNothing(t *testing.T) {
	s := given(t, map[string]string{"cm.yaml": fixture.ConfigMap("hello", "greeting", "hi")})
	s = s.hourly("shop", "", weirv1.GitRef{})
	first := s.repo.Head()
	s.thenApplied(first)
	pushed := s.commit("louder", map[string]string{"cm.yaml": fixture.ConfigMap("hello", "greeting", "HI")})

	if code, resp := postGitHubPush(t, s.repo.URL(), "refs/heads/main", "a-guessed-token"); code != http.StatusUnauthorized || len(resp.Refreshed) > 0 {
		t.Fatalf("a wrongly signed push got %d %+v, want 401 refreshing nothing", code, resp)
	}
	app := s.staysAt(first, 5*time.Second)
	if len(app.Status.History) != 1 {
		t.Errorf("history has %d syncs after a refused push, want the first only", len(app.Status.History))
	}

	// The same push, signed, is taken.
	if code, resp := postGitHubPush(t, s.repo.URL(), "refs/heads/main", webhookToken); code != http.StatusAccepted {
		t.Fatalf("the signed push got %d %+v", code, resp)
	}
	s.thenApplied(pushed)
	if strings.Contains(controllerLog.String(), webhookToken) {
		t.Error("the controller logged the webhook token")
	}
}

func TestAFloodOfPushesCoalescesIntoFewSyncs(t *testing.T) {
	const pushes, atOnce, commits = 1000, 50, 5
	s := given(t, map[string]string{"cm.yaml": fixture.ConfigMap("flood", "gen", "0")})
	s = s.hourly("shop", "", weirv1.GitRef{})
	s.thenApplied(s.repo.Head())
	syncsBefore := scrapeSyncs(t)

	var last string
	for round := range pushes / atOnce {
		if round%(pushes/atOnce/commits) == 0 {
			last = s.commit(fmt.Sprint("gen ", round), map[string]string{"cm.yaml": fixture.ConfigMap("flood", "gen", fmt.Sprint(round))})
		}
		var wg sync.WaitGroup
		for range atOnce {
			wg.Go(func() {
				if code, resp := postGitHubPush(t, s.repo.URL(), "refs/heads/main", webhookToken); code != http.StatusAccepted {
					t.Errorf("push got %d %+v", code, resp)
				}
			})
		}
		wg.Wait()
	}
	s.thenApplied(last)
	syncs := scrapeSyncs(t) - syncsBefore
	t.Logf("%d pushes and %d commits gave %v syncs", pushes, commits, syncs)
	if syncs < 1 || syncs >= 50 {
		t.Errorf("%d pushes gave %v syncs, want at least one and far fewer than 50", pushes, syncs)
	}
}

func TestMetricsAreServed(t *testing.T) {
	// A refused push, so that the webhook counter has a series.
	postGitHubPush(t, "https://git.example.com/shop/deploy.git", "refs/heads/main", "a-guessed-token")
	families := scrape(t)
	for _, want := range []struct {
		name   string
		labels map[string]string
	}{
		{"weir_syncs_total", map[string]string{"result": "succeeded"}},
		{"weir_sync_duration_seconds", map[string]string{"result": "succeeded"}},
		{"weir_git_fetch_duration_seconds", nil},
		{"weir_git_fetch_failures_total", nil},
		{"weir_drift_detected_total", nil},
		{"weir_drift_corrected_total", nil},
		{"weir_webhook_requests_total", map[string]string{"provider": "github", "outcome": "unauthorized"}},
		{"workqueue_depth", map[string]string{"controller": "application", "name": "application"}},
	} {
		if len(series(families, want.name, want.labels)) == 0 {
			t.Errorf("the metrics endpoint serves no %s%v", want.name, want.labels)
		}
	}
}

// BenchmarkWebhookToApplied50 measures a commit's way into the cluster for
// a 50-object app when a push webhook announces it: from the POST until the
// Application is Ready at the commit.
func BenchmarkWebhookToApplied50(b *testing.B) {
	s := given(b, fiftyObjects(0))
	s = s.hourly("shop", "", weirv1.GitRef{})
	s.thenApplied(s.repo.Head())
	var took time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		sha := s.commit(fmt.Sprintf("gen %d", i+1), fiftyObjects(i+1))
		b.StartTimer()
		start := time.Now()
		if code, resp := postGitHubPush(b, s.repo.URL(), "refs/heads/main", webhookToken); code != http.StatusAccepted {
			b.Fatalf("push got %d %+v", code, resp)
		}
		s.thenApplied(sha)
		took += time.Since(start)
	}
	b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "ms/op")
}

// hourly adds an Application named name that syncs path of the story's
// repository at ref, checking Git only hourly: only a webhook makes it
// sync a new commit within a test. It returns the story of that
// Application.
func (s *story) hourly(name, path string, ref weirv1.GitRef) *story {
	s.t.Helper()
	other := *s
	other.app = &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns},
		Spec: weirv1.ApplicationSpec{
			Source: weirv1.GitSource{URL: s.repo.URL(), Ref: ref, Path: path},
			Sync:   weirv1.SyncPolicy{Interval: &metav1.Duration{Duration: time.Hour}, Timeout: &metav1.Duration{Duration: 20 * time.Second}},
		},
	}
	if err := s.c.Create(context.Background(), other.app); err != nil {
		s.t.Fatalf("create Application %s: %v", name, err)
	}
	return &other
}

// onBranch runs commits on branch and returns to main.
func (s *story) onBranch(branch string, commits func()) {
	s.repo.Git("checkout", "-q", branch)
	commits()
	s.repo.Git("checkout", "-q", "main")
}

// staysAt checks, for a while, that the Application's applied revision
// stays at sha, and returns the Application.
func (s *story) staysAt(sha string, a time.Duration) *weirv1.Application {
	s.t.Helper()
	app := &weirv1.Application{}
	for end := time.Now().Add(a); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		if err := s.c.Get(context.Background(), client.ObjectKeyFromObject(s.app), app); err != nil {
			s.t.Fatal(err)
		}
		if !strings.HasSuffix(app.Status.LastAppliedRevision, sha) {
			s.t.Fatalf("Application %s moved to %s; want it to stay at %s", app.Name, app.Status.LastAppliedRevision, sha)
		}
	}
	return app
}

// postGitHubPush sends the controller a GitHub push webhook for ref of the
// repository at url, signed with token, and returns its answer.
func postGitHubPush(t testing.TB, url, ref, token string) (int, server.Response) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"ref": ref, "repository": map[string]string{"clone_url": url}})
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, webhookURL+"/hooks/github", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post the webhook: %v", err)
	}
	defer res.Body.Close()
	var resp server.Response
	if err := json.NewDecoder(res.Body).Decode(&resp); err != nil {
		t.Fatalf("webhook answer: %v", err)
	}
	return res.StatusCode, resp
}

// scrape reads the controller's metrics endpoint.
func scrape(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(metricsURL + "/metrics")
	if err != nil {
		t.Fatalf("scrape metrics: %v", err)
	}
	defer res.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return families
}

// series are the metrics of the family name that carry labels.
func series(families map[string]*dto.MetricFamily, name string, labels map[string]string) []*dto.Metric {
	var out []*dto.Metric
	for _, m := range families[name].GetMetric() {
		matched := 0
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
				matched++
			}
		}
		if matched == len(labels) {
			out = append(out, m)
		}
	}
	return out
}

// scrapeSyncs is weir_syncs_total summed over results.
func scrapeSyncs(t testing.TB) float64 {
	t.Helper()
	var total float64
	for _, m := range series(scrape(t), "weir_syncs_total", nil) {
		total += m.GetCounter().GetValue()
	}
	return total
}
