package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// A Helm value changed in dev's values file moves to staging's and then
// prod's by weir's commits, pushed to a Git server over HTTP: each file
// keeps its comments and the values that are not promoted.
func TestHelmValuesMoveThroughThePipelineByCommits(t *testing.T) {
	s := given(t, nil)
	url := overHTTP(s)
	values := func(stage, size string) string {
		return "# the web shop in " + stage + "\nsize: " + size + " # weir promotes it\ngreeting: hello from " + stage + "\n"
	}
	stages := []string{"dev", "staging", "prod"}
	files := map[string]string{}
	for _, st := range stages {
		for path, content := range chartFiles(t, "web", st+"/web") {
			files[path] = content
		}
		files[st+"/values.yaml"] = values(st, "small")
	}
	first := s.commit("the web shop, small everywhere", files)
	for _, st := range stages {
		s.createApplication("shop-"+st, st, from(url), func(spec *weirv1.ApplicationSpec) {
			spec.Render = helmRender(&weirv1.HelmSpec{Chart: "web", ValuesFiles: []string{"values.yaml"}})
		})
	}
	for _, st := range stages {
		s.waitForApplication("shop-"+st, first)
	}
	p := &weirv1.Pipeline{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: s.ns},
		Spec: weirv1.PipelineSpec{
			Values:   []weirv1.PipelineValues{{File: "values.yaml", Paths: []string{"size"}}},
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

	start := time.Now()
	s.commit("dev: a large shop", map[string]string{"dev/values.yaml": values("dev", "large")})
	testenv.Eventually(t, 2*time.Minute, "prod's shop large", func(ctx context.Context) error {
		cm := &corev1.ConfigMap{}
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "shop-prod-settings"}, cm); err != nil {
			return err
		}
		if cm.Data["size"] != "large" {
			return fmt.Errorf("prod's size is %s; the Git log:\n%s", cm.Data["size"], s.repo.Git("log", "--format=%s"))
		}
		return nil
	})
	t.Logf("a value committed to dev ran in prod %.1f s later", time.Since(start).Seconds())
	wantLog := "Promote values.yaml size=large to prod\nPromote values.yaml size=large to staging\ndev: a large shop"
	if log := s.repo.Git("log", "--format=%s", first+"..main"); log != wantLog {
		t.Errorf("commits since the first:\n%s\nwant:\n%s", log, wantLog)
	}
	for _, st := range []string{"staging", "prod"} {
		if got := s.repo.Git("show", "main:"+st+"/values.yaml") + "\n"; got != values(st, "large") {
			t.Errorf("%s/values.yaml:\n%s\nwant:\n%s", st, got, values(st, "large"))
		}
	}
	got := &weirv1.Pipeline{}
	if err := s.c.Get(context.Background(), client.ObjectKeyFromObject(p), got); err != nil {
		t.Fatal(err)
	}
	if c := got.Status.Changes; len(c) < 2 || c[0].Stage != "prod" || strings.Join(c[0].Values, ",") != "values.yaml size=large" {
		t.Errorf("changes = %+v, want the promotion of size=large to prod first", c)
	}
}

// A Pipeline needs something to promote, and each stage Applications.
func TestAPipelineNeedsImagesOrValuesAndStagesApplications(t *testing.T) {
	s := given(t, nil)
	stage := func(name string) weirv1.PipelineStage {
		return weirv1.PipelineStage{Name: name, Applications: []weirv1.LocalObjectReference{{Name: name}}}
	}
	for _, tc := range []struct {
		name string
		spec weirv1.PipelineSpec
		want string
	}{
		{"nothing to promote", weirv1.PipelineSpec{Stages: []weirv1.PipelineStage{stage("dev"), stage("prod")}}, "set images, values or both"},
		{"a stage of nothing", weirv1.PipelineSpec{Values: []weirv1.PipelineValues{{File: "values.yaml", Paths: []string{"size"}}},
			Stages: []weirv1.PipelineStage{stage("dev"), {Name: "prod"}}}, "set applications, selector or both"},
		{"a file outside the stage", weirv1.PipelineSpec{Values: []weirv1.PipelineValues{{File: "../values.yaml", Paths: []string{"size"}}},
			Stages: []weirv1.PipelineStage{stage("dev"), stage("prod")}}, "a path within the stage's, without .."},
	} {
		p := &weirv1.Pipeline{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: s.ns}, Spec: tc.spec}
		if err := s.c.Create(context.Background(), p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// BenchmarkReleasedToPromotionCommit measures how long after a stage runs
// a change released weir's commit of it to the next stage is in Git: a
// value committed to dev, from dev's Application Ready at that commit to
// "Promote ... to staging" at the head of a Git server over HTTP. The
// Pipeline checks every second, its least interval.
func BenchmarkReleasedToPromotionCommit(b *testing.B) {
	s := given(b, nil)
	url := overHTTP(s)
	shop := func(stage string, size int) string { return fixture.ConfigMap("shop-"+stage, "size", fmt.Sprint(size)) }
	head := s.commit("the shop", map[string]string{"dev/shop.yaml": shop("dev", 0), "staging/shop.yaml": shop("staging", 0)})
	for _, st := range []string{"dev", "staging"} {
		s.createApplication("shop-"+st, st, from(url))
		s.waitForApplication("shop-"+st, head)
	}
	p := &weirv1.Pipeline{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: s.ns},
		Spec: weirv1.PipelineSpec{
			Values:   []weirv1.PipelineValues{{File: "shop.yaml", Paths: []string{"data.size"}}},
			Interval: &metav1.Duration{Duration: time.Second},
			Stages: []weirv1.PipelineStage{
				{Name: "dev", Applications: []weirv1.LocalObjectReference{{Name: "shop-dev"}}},
				{Name: "staging", Applications: []weirv1.LocalObjectReference{{Name: "shop-staging"}}},
			},
		},
	}
	if err := s.c.Create(context.Background(), p); err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		sha := s.commit(fmt.Sprintf("dev: size %d", i+1), map[string]string{"dev/shop.yaml": shop("dev", i+1)})
		s.waitForApplication("shop-dev", sha)
		released := time.Now()
		for head = sha; head == sha; head = s.repo.Head() {
			if time.Since(released) > time.Minute {
				b.Fatalf("no promotion commit within a minute; the Git log:\n%s", s.repo.Git("log", "--format=%s"))
			}
			time.Sleep(10 * time.Millisecond)
		}
		total += time.Since(released)
		if msg := s.repo.Git("log", "-1", "--format=%s"); msg != fmt.Sprintf("Promote shop.yaml data.size=%d to staging", i+1) {
			b.Fatalf("the commit after dev's is %q", msg)
		}
		s.waitForApplication("shop-staging", head)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-released-to-commit/op")
}

// A stage with a pushBranch receives the change on that branch, for
// review: the tracked branch keeps what the stage ran until someone merges
// the branch, and then the stage runs the change.
func TestAPromotionForReviewWaitsOnItsBranchUntilMerged(t *testing.T) {
	s := given(t, nil)
	url := overHTTP(s)
	shop := func(stage, size string) string { return fixture.ConfigMap("shop-"+stage, "size", size) }
	first := s.commit("the shop", map[string]string{"dev/shop.yaml": shop("dev", "small"), "prod/shop.yaml": shop("prod", "small")})
	for _, st := range []string{"dev", "prod"} {
		s.createApplication("shop-"+st, st, from(url))
		s.waitForApplication("shop-"+st, first)
	}
	p := &weirv1.Pipeline{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: s.ns},
		Spec: weirv1.PipelineSpec{
			Values:   []weirv1.PipelineValues{{File: "shop.yaml", Paths: []string{"data.size"}}},
			Interval: &metav1.Duration{Duration: time.Second},
			Stages: []weirv1.PipelineStage{
				{Name: "dev", Applications: []weirv1.LocalObjectReference{{Name: "shop-dev"}}},
				{Name: "prod", Applications: []weirv1.LocalObjectReference{{Name: "shop-prod"}}, PushBranch: "weir/promote-prod"},
			},
		},
	}
	if err := s.c.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}

	change := s.commit("dev: a large shop", map[string]string{"dev/shop.yaml": shop("dev", "large")})
	testenv.Eventually(t, time.Minute, "the branch weir/promote-prod", func(context.Context) error {
		out, err := exec.Command("git", "-C", s.repo.Dir, "log", "-1", "--format=%s", "weir/promote-prod").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != "Promote shop.yaml data.size=large to prod" {
			return fmt.Errorf("weir/promote-prod is at %q", got)
		}
		return nil
	})
	time.Sleep(3 * time.Second) // three more checks of the Pipeline
	if head := s.repo.Head(); head != change {
		t.Fatalf("main moved past the commit to dev: %s", s.repo.Git("log", "--format=%s", change+"..main"))
	}
	if got := s.repo.Git("rev-list", "--count", "main..weir/promote-prod"); got != "1" {
		t.Errorf("weir/promote-prod is %s commits ahead of main, want 1", got)
	}
	s.thenData("shop-prod", map[string]string{"size": "small"})

	s.repo.Git("merge", "-q", "--ff-only", "weir/promote-prod")
	testenv.Eventually(t, time.Minute, "prod's shop large", func(ctx context.Context) error {
		cm := &corev1.ConfigMap{}
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "shop-prod"}, cm); err != nil {
			return err
		}
		if cm.Data["size"] != "large" {
			return fmt.Errorf("prod's size is %s", cm.Data["size"])
		}
		return nil
	})
}
