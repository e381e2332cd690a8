package multicluster

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// pipelineImage is the image the Pipeline of these stories moves.
const pipelineImage = "registry.example.com/team/web"

// TestAPipelineMovesAChangeAcrossClusters: dev's Application syncs to one
// remote cluster and prod's to another, from one repository served over
// HTTP. A new tag committed to dev's path runs on dev's cluster, and weir
// commits it to prod's path, which prod's cluster then runs. A later tag
// that fails to become available on dev's cluster (its pods fit no node)
// is never committed to prod, until dev runs it released.
func TestAPipelineMovesAChangeAcrossClusters(t *testing.T) {
	ps := givenStagesOn(t, map[string]*localcluster.Cluster{"dev": testenv.Remote(t, 0), "prod": testenv.Remote(t, 1)})

	start := time.Now()
	ps.commit("web 1.1.0 in dev", "dev", "1.1.0", "")
	ps.thenRuns("dev", "1.1.0")
	ps.thenRuns("prod", "1.1.0")
	t.Logf("commit to dev -> running on prod's cluster: %.1f s", time.Since(start).Seconds())
	if log := ps.repo.Git("log", "-1", "--format=%s"); log != "Promote "+pipelineImage+":1.1.0 to prod" {
		t.Errorf("the last commit is %q, want weir's promotion to prod", log)
	}

	promoted := ps.repo.Head()
	ps.commit("web 1.2.0 in dev, on no node", "dev", "1.2.0", "      nodeSelector: {weir.dev/no-such-node: \"true\"}\n")
	ps.thenRuns("dev", "1.2.0")
	ps.thenStage(0, "1.2.0", weirv1.StageProgressing)
	time.Sleep(5 * time.Second) // five more checks of the Pipeline
	ps.thenStage(0, "1.2.0", weirv1.StageProgressing)
	if log := ps.repo.Git("log", "--format=%s", promoted+"..main"); strings.Contains(log, "to prod") {
		t.Fatalf("committed to prod while dev failed to run 1.2.0:\n%s", log)
	}
	if got := ps.running("prod"); got != pipelineImage+":1.1.0" {
		t.Fatalf("prod's cluster runs %s, want 1.1.0", got)
	}

	ps.commit("web 1.2.0 in dev, on any node", "dev", "1.2.0", "")
	ps.thenRuns("prod", "1.2.0")
}

// pipelineStory is one repository whose stages sync to clusters by
// Applications web-<stage>, and a Pipeline web of those stages, checked
// every second.
type pipelineStory struct {
	t       testing.TB
	repo    *testenv.GitRepo
	ns      string
	local   client.Client
	remotes map[string]client.Client // by stage
	stages  []string
}

// givenStagesOn starts a story whose stage dev, then prod, syncs to the
// cluster given, registered in a new namespace as the Secret of the
// stage's name, where each runs web 1.0.0, and the Pipeline that moves the
// tag from dev to prod.
func givenStagesOn(t testing.TB, clusters map[string]*localcluster.Cluster) *pipelineStory {
	t.Helper()
	ps := &pipelineStory{t: t, repo: testenv.NewGitRepo(t), ns: testenv.Namespace(t), local: testenv.Client(t, weirv1.AddToScheme),
		remotes: map[string]client.Client{}, stages: []string{"dev", "prod"}}
	root, name := filepath.Split(ps.repo.Dir)
	url := testenv.NewGitHTTPServer(t, root, "", "", false).URL(name)
	for _, st := range ps.stages {
		ps.repo.Write(st+"/web.yaml", ps.deployment("1.0.0", ""))
	}
	first := ps.repo.Commit("web 1.0.0 everywhere")
	for _, st := range ps.stages {
		registerCluster(t, ps.ns, st, clusters[st], nil)
		ps.remotes[st] = remoteClient(t, clusters[st])
		createRemoteNamespace(t, ps.remotes[st], ps.ns)
		ps.create(&weirv1.Application{
			ObjectMeta: metav1.ObjectMeta{Name: "web-" + st, Namespace: ps.ns},
			Spec: weirv1.ApplicationSpec{
				Source:      weirv1.GitSource{URL: url, Path: st},
				Destination: weirv1.Destination{Cluster: &weirv1.ClusterReference{SecretRef: weirv1.LocalObjectReference{Name: st}}},
				Sync:        weirv1.SyncPolicy{Interval: &metav1.Duration{Duration: time.Second}, Timeout: &metav1.Duration{Duration: 20 * time.Second}},
			},
		})
	}
	for _, st := range ps.stages {
		ps.thenRuns(st, "1.0.0")
	}
	ps.create(&weirv1.Pipeline{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ps.ns},
		Spec: weirv1.PipelineSpec{
			Images:   []weirv1.PipelineImage{{Name: "web", Repository: pipelineImage}},
			Interval: &metav1.Duration{Duration: time.Second},
			Stages: []weirv1.PipelineStage{
				{Name: "dev", Applications: []weirv1.LocalObjectReference{{Name: "web-dev"}}},
				{Name: "prod", Applications: []weirv1.LocalObjectReference{{Name: "web-prod"}}},
			},
		},
	})
	ps.thenStage(1, "1.0.0", weirv1.StageReleased)
	if head := ps.repo.Head(); head != first {
		t.Fatalf("weir committed %s before any change", head)
	}
	return ps
}

// deployment is the Deployment web at tag, its tag marked for the
// Pipeline, with podSpec added to its pod's spec.
func (ps *pipelineStory) deployment(tag, podSpec string) string {
	image := pipelineImage + ":" + tag
	d := strings.Replace(fixture.Deployment("web", 1, image), "image: "+image,
		fmt.Sprintf(`image: %s # {"$imagepolicy": "%s:web"}`, image, ps.ns), 1)
	return strings.Replace(d, "      containers:\n", podSpec+"      containers:\n", 1)
}

// commit writes stage's Deployment at tag, with podSpec, and commits.
func (ps *pipelineStory) commit(message, stage, tag, podSpec string) {
	ps.t.Helper()
	ps.repo.Write(stage+"/web.yaml", ps.deployment(tag, podSpec))
	ps.repo.Commit(message)
}

func (ps *pipelineStory) create(obj client.Object) {
	ps.t.Helper()
	if err := ps.local.Create(ps.t.Context(), obj); err != nil {
		ps.t.Fatalf("create %s: %v", obj.GetName(), err)
	}
}

// running is the image the Deployment web runs on stage's cluster, or
// why it cannot be read.
func (ps *pipelineStory) running(stage string) string {
	var d appsv1.Deployment
	if err := ps.remotes[stage].Get(ps.t.Context(), client.ObjectKey{Namespace: ps.ns, Name: "web"}, &d); err != nil {
		return err.Error()
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// thenRuns waits until the Deployment web of stage's cluster is at tag.
func (ps *pipelineStory) thenRuns(stage, tag string) {
	ps.t.Helper()
	want := pipelineImage + ":" + tag
	testenv.Eventually(ps.t, 2*time.Minute, "stage "+stage+" running "+want, func(ctx context.Context) error {
		if got := ps.running(stage); got != want {
			return fmt.Errorf("its cluster runs %s; the Git log:\n%s", got, ps.repo.Git("log", "--format=%s"))
		}
		return nil
	})
}

// thenStage waits until the Pipeline sees its stage i run tag, in phase.
func (ps *pipelineStory) thenStage(i int, tag, phase string) {
	ps.t.Helper()
	want := []string{pipelineImage + ":" + tag}
	testenv.Eventually(ps.t, time.Minute, fmt.Sprintf("stage %s %s at %s", ps.stages[i], phase, tag), func(ctx context.Context) error {
		p := &weirv1.Pipeline{}
		if err := ps.local.Get(ctx, client.ObjectKey{Namespace: ps.ns, Name: "web"}, p); err != nil {
			return err
		}
		if len(p.Status.Stages) <= i || !slices.Equal(p.Status.Stages[i].Images, want) || p.Status.Stages[i].Phase != phase {
			return fmt.Errorf("stages %+v, conditions %+v", p.Status.Stages, p.Status.Conditions)
		}
		return nil
	})
}
