package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/notify"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// A new image pushed to the registry moves from dev to staging to prod by
// commits alone, pushed to a Git server over HTTP: the ImageUpdate commits
// it to dev, and once dev has released it the Pipeline commits it to
// staging, then to prod.
func TestANewImageMovesThroughThePipelineByCommits(t *testing.T) {
	reg := testenv.NewOCIRegistry(t, "", "")
	repo := reg.PushImage(t, "team/web", "1.0.0")
	s := given(t, nil)
	url := overHTTP(s)
	stages := []string{"dev", "staging", "prod"}
	files := map[string]string{}
	for _, st := range stages {
		files[st+"/web.yaml"] = strings.Replace(markedDeployment(s.ns, repo+":1.0.0"), "name: web\n", "name: web-"+st+"\n", 1)
	}
	first := s.commit("web 1.0.0 everywhere", files)
	for _, st := range stages {
		s.createApplication("shop-"+st, st, from(url))
	}
	for _, st := range stages {
		s.waitForApplication("shop-"+st, first)
	}
	iu := &weirv1.ImageUpdate{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: s.ns},
		Spec: weirv1.ImageUpdateSpec{
			Image: repo, Insecure: true, Interval: &metav1.Duration{Duration: 10 * time.Second},
			Policy: weirv1.ImagePolicy{SemVer: &weirv1.SemVerPolicy{Range: "^1.0.0"}},
			Update: weirv1.ImageUpdateTarget{ApplicationRef: weirv1.LocalObjectReference{Name: "shop-dev"}},
		},
	}
	p := &weirv1.Pipeline{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: s.ns},
		Spec: weirv1.PipelineSpec{
			Images:   []weirv1.PipelineImage{{Name: "web", Repository: repo}},
			Interval: &metav1.Duration{Duration: 2 * time.Second},
			Stages: []weirv1.PipelineStage{
				{Name: "dev", Applications: []weirv1.LocalObjectReference{{Name: "shop-dev"}}},
				{Name: "staging", Applications: []weirv1.LocalObjectReference{{Name: "shop-staging"}}, Soak: &metav1.Duration{Duration: time.Second}},
				{Name: "prod", Applications: []weirv1.LocalObjectReference{{Name: "shop-prod"}}},
			},
		},
	}
	for _, obj := range []client.Object{iu, p} {
		if err := s.c.Create(context.Background(), obj); err != nil {
			t.Fatal(err)
		}
	}

	reg.PushImage(t, "team/web", "1.1.0")
	want := repo + ":1.1.0"
	testenv.Eventually(t, 2*time.Minute, "web-prod running "+want, func(ctx context.Context) error {
		var d appsv1.Deployment
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "web-prod"}, &d); err != nil {
			return err
		}
		if got := d.Spec.Template.Spec.Containers[0].Image; got != want {
			return fmt.Errorf("web-prod runs %s; the Git log:\n%s", got, s.repo.Git("log", "--format=%s"))
		}
		return nil
	})
	log := s.repo.Git("log", "--format=%s", first+"..main")
	wantLog := fmt.Sprintf("Promote %[1]s to prod\nPromote %[1]s to staging\nUpdate web to 1.1.0", want)
	if log != wantLog {
		t.Errorf("commits since the first:\n%s\nwant:\n%s", log, wantLog)
	}
	for _, st := range stages {
		c := s.repo.Git("log", "-1", "--format=%H", "main", "--", st)
		if got := s.repo.Git("diff", "--name-only", c+"^", c); got != st+"/web.yaml" {
			t.Errorf("the commit to %s changed %q, want only %s/web.yaml", st, got, st)
		}
	}
	got := &weirv1.Pipeline{}
	if err := s.c.Get(context.Background(), client.ObjectKeyFromObject(p), got); err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Changes) < 2 || got.Status.Changes[0].Stage != "prod" || got.Status.Changes[1].Stage != "staging" {
		t.Errorf("changes = %+v, want the promotion to prod, then to staging", got.Status.Changes)
	}
}

// createApplication creates an Application of the story's repository
// that syncs path, as edits (if any) change its spec.
func (s *story) createApplication(name, path string, edits ...func(*weirv1.ApplicationSpec)) {
	s.t.Helper()
	app := &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns},
		Spec: weirv1.ApplicationSpec{
			Source: weirv1.GitSource{URL: s.repo.URL(), Path: path},
			Sync:   weirv1.SyncPolicy{Interval: &metav1.Duration{Duration: time.Second}, Timeout: &metav1.Duration{Duration: 20 * time.Second}},
		},
	}
	for _, edit := range edits {
		edit(&app.Spec)
	}
	if err := s.c.Create(context.Background(), app); err != nil {
		s.t.Fatalf("create Application %s: %v", name, err)
	}
}

// overHTTP serves the story's repository with git http-backend, pushes
// allowed, as a Git host does, and returns its URL.
func overHTTP(s *story) string {
	root, name := filepath.Split(s.repo.Dir)
	return testenv.NewGitHTTPServer(s.t, root, "", "", false).URL(name)
}

// from has an Application read the repository at url.
func from(url string) func(*weirv1.ApplicationSpec) {
	return func(spec *weirv1.ApplicationSpec) { spec.Source.URL = url }
}

// waitForApplication waits until the Application name is applied at sha.
func (s *story) waitForApplication(name, sha string) {
	s.t.Helper()
	s.app = &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns}}
	s.thenApplied(sha)
}

// A release that fails its canary analysis in staging is reverted there,
// by weir's commit to a Git server over HTTP, and never reaches prod: the
// Pipeline stops it in staging, and a webhook hears PromotionStopped.
func TestAReleaseThatFailsInStagingNeverReachesProd(t *testing.T) {
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"successRate": 0.42}`)
	}))
	t.Cleanup(health.Close)
	reg := testenv.NewOCIRegistry(t, "", "")
	repo := reg.PushImage(t, "team/web", "1.0.0")
	s := given(t, nil)
	url := overHTTP(s)
	marked := func(name string) string {
		return strings.Replace(markedDeployment(s.ns, repo+":1.0.0"), "name: web\n", "name: "+name+"\n", 1)
	}
	first := s.commit("web 1.0.0 everywhere", map[string]string{
		"dev/web.yaml":          marked("web-dev"),
		"staging/web.yaml":      marked("web"),
		"staging/svc.yaml":      fixture.Service("web"),
		"staging/rollout.yaml":  canaryRollout("      - setWeight: 25\n      - analysis: {templates: [{name: success-rate}]}\n", "", true),
		"staging/analysis.yaml": successRateTemplate(fromWeb(health.URL), 2),
		"prod/web.yaml":         marked("web-prod"),
	})
	for _, st := range []string{"dev", "staging", "prod"} {
		s.createApplication("shop-"+st, st, from(url))
		s.waitForApplication("shop-"+st, first)
	}
	p := &weirv1.Pipeline{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: s.ns},
		Spec: weirv1.PipelineSpec{
			Images:   []weirv1.PipelineImage{{Name: "web", Repository: repo}},
			Interval: &metav1.Duration{Duration: 2 * time.Second},
			Stages: []weirv1.PipelineStage{
				{Name: "dev", Applications: []weirv1.LocalObjectReference{{Name: "shop-dev"}}},
				{Name: "staging", Applications: []weirv1.LocalObjectReference{{Name: "shop-staging"}}},
				{Name: "prod", Applications: []weirv1.LocalObjectReference{{Name: "shop-prod"}}},
			},
		},
	}
	if err := s.c.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	key := []byte("e2e-hmac-key-stopped")
	hook := &webhookReceiver{}
	s.createSecret(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "hook"},
		Data: map[string][]byte{notify.KeyAddress: []byte(hook.serve(t, key)), notify.KeyHMACKey: key}})
	s.notification("hook", weirv1.NotificationSpec{Provider: weirv1.ProviderWebhook, SecretRef: &weirv1.LocalObjectReference{Name: "hook"},
		Reasons: []string{"PromotionStopped"}})

	s.commit("web 1.1.0 in dev", map[string]string{"dev/web.yaml": strings.Replace(marked("web-dev"), ":1.0.0", ":1.1.0", 1)})
	testenv.Eventually(t, 3*time.Minute, "the change stopped in staging", func(ctx context.Context) error {
		got := &weirv1.Pipeline{}
		if err := s.c.Get(ctx, client.ObjectKeyFromObject(p), got); err != nil {
			return err
		}
		for _, c := range got.Status.Changes {
			if c.Stage == "staging" && c.Phase == weirv1.ChangeStopped && strings.Contains(c.Message, "0.42") {
				return nil
			}
		}
		return fmt.Errorf("changes %+v; the Git log:\n%s", got.Status.Changes, s.repo.Git("log", "--format=%s"))
	})
	stopped := hook.await(t, "Pipeline", "PromotionStopped")
	if !containsAll(stopped.Message, repo+":1.1.0", "stopped in stage staging", "0.42") || stopped.Name != "web" || stopped.Severity != weirv1.SeverityError {
		t.Errorf("PromotionStopped sent as %+v", stopped)
	}
	testenv.Eventually(t, time.Minute, "weir's revert in staging", func(context.Context) error {
		if log := s.repo.Git("log", "--format=%s", first+"..main"); !strings.Contains(log, "Revert") {
			return fmt.Errorf("commits since the first:\n%s", log)
		}
		return nil
	})
	log := s.repo.Git("log", "--format=%s", first+"..main")
	if !strings.Contains(log, "to staging") || strings.Contains(log, "to prod") {
		t.Errorf("commits since the first:\n%s\nwant the promotion to staging and its revert, nothing to prod", log)
	}
	time.Sleep(5 * time.Second) // a few more checks of the Pipeline
	var prod appsv1.Deployment
	s.get(&prod, "web-prod")
	if got := prod.Spec.Template.Spec.Containers[0].Image; got != repo+":1.0.0" {
		t.Errorf("web-prod runs %s, want %s:1.0.0", got, repo)
	}
	if log := s.repo.Git("log", "--format=%s", first+"..main"); strings.Contains(log, "to prod") {
		t.Errorf("a commit to prod:\n%s", log)
	}
}

// A stage whose Applications are chosen by label is released only when
// every one of them runs the same revision: with one of staging's two
// Applications still at the first revision (it polls once an hour), Ready
// and Healthy there, the change weir committed to staging runs in the
// other but goes no further until the first has synced the same commit.
func TestAStageIsReleasedOnlyWhenItsApplicationsRunOneRevision(t *testing.T) {
	const repo = "registry.example.com/team/web"
	s := given(t, nil)
	url := overHTTP(s)
	marked := func(name, tag string) string {
		return strings.Replace(markedDeployment(s.ns, repo+":"+tag), "name: web\n", "name: "+name+"\n", 1)
	}
	first := s.commit("web 1.0.0 everywhere", map[string]string{
		"dev/web.yaml":             marked("web-dev", "1.0.0"),
		"staging/web.yaml":         marked("web-staging", "1.0.0"),
		"staging-config/shop.yaml": fixture.ConfigMap("shop-staging", "size", "small"),
		"prod/web.yaml":            marked("web-prod", "1.0.0"),
	})
	hourly := func(spec *weirv1.ApplicationSpec) { spec.Sync.Interval = &metav1.Duration{Duration: time.Hour} }
	for _, app := range [][2]string{{"shop-dev", "dev"}, {"shop-staging", "staging"}, {"shop-prod", "prod"}} {
		s.createApplication(app[0], app[1], from(url))
	}
	s.createApplication("shop-staging-config", "staging-config", from(url), hourly)
	for _, name := range []string{"shop-dev", "shop-staging", "shop-staging-config", "shop-prod"} {
		s.waitForApplication(name, first)
	}
	for _, name := range []string{"shop-staging", "shop-staging-config"} {
		s.editApplication(name, func(app *weirv1.Application) { app.Labels = map[string]string{"stage": "staging"} })
	}
	p := &weirv1.Pipeline{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: s.ns},
		Spec: weirv1.PipelineSpec{
			Images:   []weirv1.PipelineImage{{Name: "web", Repository: repo}},
			Interval: &metav1.Duration{Duration: time.Second},
			Stages: []weirv1.PipelineStage{
				{Name: "dev", Applications: []weirv1.LocalObjectReference{{Name: "shop-dev"}}},
				{Name: "staging", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"stage": "staging"}}},
				{Name: "prod", Applications: []weirv1.LocalObjectReference{{Name: "shop-prod"}}},
			},
		},
	}
	if err := s.c.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}

	s.commit("web 1.1.0 in dev", map[string]string{"dev/web.yaml": marked("web-dev", "1.1.0")})
	s.thenRuns("web-staging", repo+":1.1.0")
	time.Sleep(5 * time.Second) // five checks of the Pipeline
	got := &weirv1.Pipeline{}
	if err := s.c.Get(context.Background(), client.ObjectKeyFromObject(p), got); err != nil {
		t.Fatal(err)
	}
	if st := got.Status.Stages[1]; st.Phase != weirv1.StageProgressing {
		t.Errorf("staging with an Application at the first revision: %+v, want Progressing", st)
	}
	if log := s.repo.Git("log", "--format=%s", first+"..main"); strings.Contains(log, "to prod") {
		t.Fatalf("committed to prod while shop-staging-config ran the first revision:\n%s", log)
	}
	config := &weirv1.Application{}
	s.get(config, "shop-staging-config")
	if !strings.HasSuffix(config.Status.LastAppliedRevision, first) || !apimeta.IsStatusConditionTrue(config.Status.Conditions, weirv1.ReadyCondition) {
		t.Fatalf("shop-staging-config: %s, Ready %v; want the first revision, Ready", config.Status.LastAppliedRevision, config.Status.Conditions)
	}

	s.editApplication("shop-staging-config", func(app *weirv1.Application) {
		app.Annotations = map[string]string{weirv1.RequestedSyncAnnotation: time.Now().Format(time.RFC3339Nano)}
	})
	s.thenRuns("web-prod", repo+":1.1.0")
}

// editApplication changes the Application name as edit says.
func (s *story) editApplication(name string, edit func(*weirv1.Application)) {
	s.t.Helper()
	testenv.Eventually(s.t, 10*time.Second, "edit Application "+name, func(ctx context.Context) error {
		app := &weirv1.Application{}
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, app); err != nil {
			return err
		}
		edit(app)
		return s.c.Update(ctx, app)
	})
}

// thenRuns waits until the Deployment name runs image.
func (s *story) thenRuns(name, image string) {
	s.t.Helper()
	testenv.Eventually(s.t, 2*time.Minute, name+" running "+image, func(ctx context.Context) error {
		var d appsv1.Deployment
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, &d); err != nil {
			return err
		}
		if got := d.Spec.Template.Spec.Containers[0].Image; got != image {
			return fmt.Errorf("%s runs %s; the Git log:\n%s", name, got, s.repo.Git("log", "--format=%s"))
		}
		return nil
	})
}
