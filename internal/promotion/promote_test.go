package promotion

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/gitwrite"
	"weir.dev/weir/internal/source"
)

const (
	ns   = "shop"
	repo = "registry.example.com/team/web"
	rev1 = "main@sha1:1111111111111111111111111111111111111111"
	rev2 = "main@sha1:2222222222222222222222222222222222222222"
)

// committer records the commits asked of it and, when it has files,
// edits them as gitwrite does.
type committer struct {
	reqs  []gitwrite.CommitRequest
	files map[string][]byte
}

func (c *committer) Commit(_ context.Context, req gitwrite.CommitRequest) (string, error) {
	c.reqs = append(c.reqs, req)
	for name, content := range c.files {
		if !strings.HasPrefix(name, req.Path+"/") {
			continue
		}
		out, changed, err := req.Editor.Edit(name, content)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		if changed {
			c.files[name] = out
		}
	}
	return strings.Repeat("c", 40), nil
}

type noCredentials struct{}

func (noCredentials) Credentials(context.Context, *weirv1.Application) (source.Credentials, error) {
	return source.Credentials{}, nil
}

func (noCredentials) SigningKey(context.Context, *weirv1.Application) ([]byte, error) {
	return nil, nil
}

// stageObjects are a stage's Application, released unless rollouts say
// otherwise, and its Deployment running tag.
func stageObjects(stage, tag string, rollouts ...weirv1.RolloutProgress) []client.Object {
	ready := []metav1.Condition{
		{Type: weirv1.ReadyCondition, Status: metav1.ConditionTrue, Reason: "R"},
		{Type: weirv1.HealthyCondition, Status: metav1.ConditionTrue, Reason: "H"},
	}
	app := &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: "web-" + stage, Namespace: ns},
		Spec:       weirv1.ApplicationSpec{Source: weirv1.GitSource{URL: "https://git.example.com/shop.git", Path: stage}},
		Status: weirv1.ApplicationStatus{Conditions: ready, Rollouts: rollouts, LastAppliedRevision: rev1, LastAttemptedRevision: rev1,
			Inventory: []weirv1.ObjectRef{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "web-" + stage}}},
	}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web-" + stage, Namespace: ns}}
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "web", Image: repo + ":" + tag}}
	return []client.Object{app, d}
}

func pipeline(soak time.Duration) *weirv1.Pipeline {
	stage := func(name string) weirv1.PipelineStage {
		return weirv1.PipelineStage{Name: name, Applications: []weirv1.LocalObjectReference{{Name: "web-" + name}},
			Soak: &metav1.Duration{Duration: soak}}
	}
	return &weirv1.Pipeline{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: weirv1.PipelineSpec{Images: []weirv1.PipelineImage{{Name: "web", Repository: repo}},
			Stages: []weirv1.PipelineStage{stage("dev"), stage("staging"), stage("prod")}},
	}
}

func promoter(t *testing.T, objs ...client.Object) (*Promoter, *committer, *record.FakeRecorder) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := weirv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c := &committer{}
	rec := record.NewFakeRecorder(10)
	local := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
	return &Promoter{Reader: local, Workloads: clusters{"": local}, Git: c,
		Credentials: noCredentials{}, Recorder: rec}, c, rec
}

// clusters are the readers of each cluster, by the name of its Secret;
// "" is weir's own.
type clusters map[string]client.Reader

func (c clusters) ReaderFor(_ context.Context, app *weirv1.Application) (client.Reader, error) {
	r, ok := c[app.RemoteCluster()]
	if !ok {
		return nil, fmt.Errorf("remote cluster of Secret %s is unreachable", app.RemoteCluster())
	}
	return r, nil
}

func objects(sets ...[]client.Object) []client.Object {
	var out []client.Object
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}

// A change released in dev is committed to staging's path, and nowhere
// else, once dev's soak has passed.
func TestAReleasedChangeIsCommittedToTheNextStageAfterItsSoak(t *testing.T) {
	pr, c, rec := promoter(t, objects(stageObjects("dev", "1.1.0"), stageObjects("staging", "1.0.0"), stageObjects("prod", "1.0.0"))...)
	start := time.Now()
	pr.Now = func() time.Time { return start }
	p := pipeline(time.Hour)
	if err := pr.Check(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if len(c.reqs) != 0 {
		t.Fatalf("committed %d times before the soak passed", len(c.reqs))
	}
	pr.Now = func() time.Time { return start.Add(time.Hour) }
	if err := pr.Check(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if len(c.reqs) != 1 || c.reqs[0].Path != "staging" || !strings.HasPrefix(c.reqs[0].Message, "Promote "+repo+":1.1.0 to staging") {
		t.Fatalf("commits = %+v, want one to staging", c.reqs)
	}
	if got := p.Status.Changes; len(got) != 1 || got[0].Stage != "staging" || got[0].Phase != weirv1.ChangePromoted {
		t.Errorf("changes = %+v", got)
	}
	if e := <-rec.Events; !strings.Contains(e, ReasonPromotionCommitted) {
		t.Errorf("event = %q", e)
	}
}

// A stage with a pushBranch receives its promotion commits there, for
// review, rather than on its Application's branch.
func TestAPromotionGoesToTheStagesBranchForReview(t *testing.T) {
	pr, c, _ := promoter(t, objects(stageObjects("dev", "1.1.0"), stageObjects("staging", "1.0.0"), stageObjects("prod", "1.0.0"))...)
	p := pipeline(0)
	p.Spec.Stages[1].PushBranch = "weir/promote-staging"
	if err := pr.Check(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if len(c.reqs) != 1 || c.reqs[0].Branch != "main" || c.reqs[0].PushBranch != "weir/promote-staging" {
		t.Fatalf("commits = %+v, want one on main's head pushed to weir/promote-staging", c.reqs)
	}
}

// A change whose release failed in staging (the Rollout's last failure
// names the promotion commit, and weir reverted it: staging runs the old
// tag, released) is stopped and never committed again, to staging or
// prod.
func TestAChangeThatFailsInAStageIsStoppedThere(t *testing.T) {
	promotion := strings.Repeat("c", 40)
	failed := weirv1.RolloutProgress{Name: "web", Namespace: ns, Phase: weirv1.RolloutIdle,
		LastFailure: "revision main@sha1:" + promotion + ": success-rate 0.5 < 0.99; reverted"}
	pr, c, rec := promoter(t, objects(stageObjects("dev", "1.1.0"), stageObjects("staging", "1.0.0", failed), stageObjects("prod", "1.0.0"))...)
	p := pipeline(0)
	p.Status.Changes = []weirv1.PipelineChange{{Images: []string{repo + ":1.1.0"}, Stage: "staging", Phase: weirv1.ChangePromoted, Commit: promotion}}
	for range 2 {
		if err := pr.Check(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.reqs) != 0 {
		t.Errorf("committed %+v, want nothing", c.reqs)
	}
	if got := p.Status.Changes[0]; got.Phase != weirv1.ChangeStopped || !strings.Contains(got.Message, "success-rate") {
		t.Errorf("change = %+v, want it stopped with the failure", got)
	}
	if e := <-rec.Events; !strings.Contains(e, ReasonPromotionStopped) {
		t.Errorf("event = %q", e)
	}
}

// A stage whose Application syncs to a remote cluster runs what its
// Deployment runs there, not what a Deployment of the same name runs on
// weir's cluster; a remote cluster that cannot be read fails the check,
// naming the stage and the Application.
func TestAStageOnARemoteClusterIsReadThere(t *testing.T) {
	dev := stageObjects("dev", "1.0.0")
	dev[0].(*weirv1.Application).Spec.Destination.Cluster = &weirv1.ClusterReference{SecretRef: weirv1.LocalObjectReference{Name: "dev-eu"}}
	pr, c, _ := promoter(t, objects(dev, stageObjects("staging", "1.0.0"), stageObjects("prod", "1.0.0"))...)
	remoteDev := stageObjects("dev", "1.1.0")[1]
	pr.Workloads.(clusters)["dev-eu"] = fake.NewClientBuilder().WithScheme(pr.Reader.(client.Client).Scheme()).WithObjects(remoteDev).Build()
	p := pipeline(0)
	if err := pr.Check(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if got := p.Status.Stages[0].Images; !slices.Equal(got, []string{repo + ":1.1.0"}) {
		t.Errorf("dev runs %v, want what its Deployment on dev-eu runs", got)
	}
	if len(c.reqs) != 1 || c.reqs[0].Path != "staging" || !strings.HasPrefix(c.reqs[0].Message, "Promote "+repo+":1.1.0 to staging") {
		t.Fatalf("commits = %+v, want 1.1.0 to staging", c.reqs)
	}

	delete(pr.Workloads.(clusters), "dev-eu")
	err := pr.Check(context.Background(), p)
	if want := "stage dev: the cluster of Application web-dev: remote cluster of Secret dev-eu is unreachable"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// syncing starts a sync of each Application whose Deployments are read,
// as the Application controller may while a Pipeline is checked.
type syncing struct {
	Workloads
	c client.Client
}

func (s syncing) ReaderFor(ctx context.Context, app *weirv1.Application) (client.Reader, error) {
	live := app.DeepCopy()
	live.Status.LastAttemptedRevision = rev2
	if err := s.c.Update(ctx, live); err != nil {
		return nil, err
	}
	return s.Workloads.ReaderFor(ctx, app)
}

// A stage whose Applications change while their Deployments are read
// (a sync applied a new template, and awaits its health) is not released
// by that check: its Deployments may run what is not yet healthy.
func TestAStageThatChangesWhileReadIsNotReleased(t *testing.T) {
	pr, c, _ := promoter(t, objects(stageObjects("dev", "1.1.0"), stageObjects("staging", "1.0.0"), stageObjects("prod", "1.0.0"))...)
	pr.Workloads = syncing{pr.Workloads, pr.Reader.(client.Client)}
	p := pipeline(0)
	if err := pr.Check(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if got := p.Status.Stages[0].Phase; got != weirv1.StageProgressing || len(c.reqs) != 0 {
		t.Errorf("dev synced while read: phase %s, commits %+v; want Progressing and none", got, c.reqs)
	}
}

func TestPhase(t *testing.T) {
	app := func(url, revision string, edit func(*weirv1.Application), rollouts ...weirv1.RolloutProgress) weirv1.Application {
		a := *stageObjects("dev", "1.0.0", rollouts...)[0].(*weirv1.Application)
		a.Spec.Source.URL, a.Status.LastAppliedRevision, a.Status.LastAttemptedRevision = url, revision, revision
		if edit != nil {
			edit(&a)
		}
		return a
	}
	const shop, other = "https://git.example.com/shop.git", "https://git.example.com/other.git"
	for _, tc := range []struct {
		name string
		apps []weirv1.Application
		want string
	}{
		{"no rollout", []weirv1.Application{app(shop, rev1, nil)}, weirv1.StageReleased},
		{"idle", []weirv1.Application{app(shop, rev1, nil, weirv1.RolloutProgress{Phase: weirv1.RolloutIdle})}, weirv1.StageReleased},
		{"progressing", []weirv1.Application{app(shop, rev1, nil, weirv1.RolloutProgress{Phase: weirv1.RolloutProgressing})}, weirv1.StageProgressing},
		{"held", []weirv1.Application{app(shop, rev1, nil, weirv1.RolloutProgress{Phase: weirv1.RolloutIdle, Held: true})}, weirv1.StageProgressing},
		{"aborted", []weirv1.Application{app(shop, rev1, nil, weirv1.RolloutProgress{Phase: weirv1.RolloutAborted})}, weirv1.StageFailed},
		{"one repository, one revision", []weirv1.Application{app(shop, rev1, nil), app(shop, rev1, nil)}, weirv1.StageReleased},
		{"one repository, two revisions", []weirv1.Application{app(shop, rev1, nil), app(shop, rev2, nil)}, weirv1.StageProgressing},
		{"two repositories, two revisions", []weirv1.Application{app(shop, rev1, nil), app(other, rev2, nil)}, weirv1.StageReleased},
		{"the last attempt failed", []weirv1.Application{app(shop, rev1, func(a *weirv1.Application) { a.Status.LastAttemptedRevision = rev2 })}, weirv1.StageProgressing},
		{"never applied", []weirv1.Application{app(shop, "", nil)}, weirv1.StageProgressing},
		{"spec not reconciled", []weirv1.Application{app(shop, rev1, func(a *weirv1.Application) { a.Generation = 2 })}, weirv1.StageProgressing},
		{"a sync under way", []weirv1.Application{app(shop, rev1, func(a *weirv1.Application) {
			a.Status.Conditions = append(a.Status.Conditions, metav1.Condition{Type: weirv1.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: "Progressing"})
		})}, weirv1.StageProgressing},
		{"not healthy", []weirv1.Application{app(shop, rev1, func(a *weirv1.Application) { a.Status.Conditions[1].Status = metav1.ConditionFalse })}, weirv1.StageProgressing},
	} {
		if got := phase(tc.apps); got != tc.want {
			t.Errorf("%s: phase = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// labelled are the objects of one more Application of stage, named name,
// labelled stage=STAGE and synced at revision.
func labelled(stage, name, tag, revision string) []client.Object {
	objs := stageObjects(stage, tag)
	app, d := objs[0].(*weirv1.Application), objs[1].(*appsv1.Deployment)
	app.Name, d.Name, app.Spec.Source.Path = name, name, name
	app.Labels = map[string]string{"stage": stage}
	app.Status.Inventory[0].Name = name
	app.Status.LastAppliedRevision, app.Status.LastAttemptedRevision = revision, revision
	return objs
}

// A stage may choose its Applications by label: the change moves on only
// once every one it selects runs it released at the same revision, and it
// is committed to the first selected, by name.
func TestApplicationsChosenByLabelReleaseAtOneRevision(t *testing.T) {
	pr, c, _ := promoter(t, objects(
		labelled("dev", "web-dev-b", "1.1.0", rev1), labelled("dev", "web-dev-a", "1.1.0", rev2),
		labelled("staging", "web-staging-b", "1.0.0", rev1), labelled("staging", "web-staging-a", "1.0.0", rev1),
		stageObjects("prod", "1.0.0"),
		labelled("qa", "web-qa", "1.0.0", rev1))...)
	p := pipeline(0)
	for i, st := range []string{"dev", "staging"} {
		p.Spec.Stages[i] = weirv1.PipelineStage{Name: st, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"stage": st}}}
	}
	if err := pr.Check(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if got := p.Status.Stages[0].Phase; got != weirv1.StageProgressing || len(c.reqs) != 0 {
		t.Fatalf("dev at two revisions: phase %s, commits %+v; want Progressing and none", got, c.reqs)
	}

	app := &weirv1.Application{}
	if err := pr.Reader.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web-dev-a"}, app); err != nil {
		t.Fatal(err)
	}
	app.Status.LastAppliedRevision, app.Status.LastAttemptedRevision = rev1, rev1
	if err := pr.Reader.(client.Client).Update(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	if err := pr.Check(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if got := p.Status.Stages[0].Phase; got != weirv1.StageReleased {
		t.Fatalf("dev at one revision: phase %s, want Released", got)
	}
	if len(c.reqs) != 1 || c.reqs[0].Path != "web-staging-a" || !strings.Contains(c.reqs[0].Message, "to staging") {
		t.Fatalf("commits = %+v, want one to staging, in web-staging-a's path", c.reqs)
	}
}

func TestASelectorThatChoosesNothingFailsTheCheck(t *testing.T) {
	pr, _, _ := promoter(t, objects(stageObjects("dev", "1.0.0"), stageObjects("staging", "1.0.0"), stageObjects("prod", "1.0.0"))...)
	p := pipeline(0)
	p.Spec.Stages[1] = weirv1.PipelineStage{Name: "staging", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"stage": "staging"}}}
	err := pr.Check(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "stage staging: no Application in namespace shop is named or selected") {
		t.Errorf("err = %v", err)
	}
}

func TestRunningImages(t *testing.T) {
	images := []weirv1.PipelineImage{{Name: "web", Repository: "127.0.0.1:5000/web"}}
	dep := func(image string) appsv1.Deployment {
		d := appsv1.Deployment{}
		d.Spec.Template.Spec.Containers = []corev1.Container{{Image: image}}
		return d
	}
	for _, tc := range []struct {
		name string
		deps []appsv1.Deployment
		want []string
	}{
		{"one", []appsv1.Deployment{dep("127.0.0.1:5000/web:1.0.0")}, []string{"127.0.0.1:5000/web:1.0.0"}},
		{"two agree", []appsv1.Deployment{dep("127.0.0.1:5000/web:1.0.0"), dep("127.0.0.1:5000/web:1.0.0")}, []string{"127.0.0.1:5000/web:1.0.0"}},
		{"two differ", []appsv1.Deployment{dep("127.0.0.1:5000/web:1.0.0"), dep("127.0.0.1:5000/web:1.1.0")}, nil},
		{"none", []appsv1.Deployment{dep("127.0.0.1:5000/other:1.0.0"), dep("127.0.0.1:5000/web")}, nil},
	} {
		if got := runningImages(images, tc.deps); !slices.Equal(got, tc.want) {
			t.Errorf("%s: runningImages = %v, want %v", tc.name, got, tc.want)
		}
	}
}
