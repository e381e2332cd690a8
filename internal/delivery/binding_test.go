package delivery

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/gitwrite"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/testenv"
)

// gitSpy records what a Driver asks of Git.
type gitSpy struct{ credentials, reverts int }

func (g *gitSpy) Credentials(context.Context, *v1alpha1.Application) (source.Credentials, error) {
	g.credentials++
	return source.Credentials{Password: "team-a-token"}, nil
}

func (g *gitSpy) SigningKey(context.Context, *v1alpha1.Application) ([]byte, error) { return nil, nil }

func (g *gitSpy) Revert(context.Context, gitwrite.RevertRequest) (string, error) {
	g.reverts++
	return strings.Repeat("c", 40), nil
}

// TestARolloutActsOnlyForTheApplicationThatAppliedIt replays an attack:
// team-b writes a Rollout that names team-a's Application, and a canary
// copy that the Rollout has seen fail; weir must not read team-a's
// credentials nor push a revert to team-a's repository.
func TestARolloutActsOnlyForTheApplicationThatAppliedIt(t *testing.T) {
	ctx := testenv.Context(t, time.Minute)
	testenv.InstallCRDs(t, "../../config/crd/bases/weir.dev_applications.yaml")
	c := testenv.Client(t, v1alpha1.AddToScheme)
	teamA, teamB := testenv.Namespace(t), testenv.Namespace(t)
	shop := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "shop"}}
	shop.Spec.Source.URL = "https://git.example/team-a/shop.git"
	if err := c.Create(ctx, shop); err != nil {
		t.Fatal(err)
	}
	// team-a's own Rollout is in its inventory; team-b's is not.
	shop.Status.Inventory = []v1alpha1.ObjectRef{{Group: "weir.dev", Version: "v1alpha1", Kind: "Rollout", Namespace: teamA, Name: "web"}}
	if err := c.Status().Update(ctx, shop); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		namespace string
		wantPush  bool
	}{
		{"forged in another namespace", teamB, false},
		{"applied by the Application", teamA, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ro := failedRollout(t, ctx, c, tt.namespace, shop)
			git := &gitSpy{}
			d := &Driver{Client: c, Applications: c, Reverter: git, Credentials: git, Recorder: record.NewFakeRecorder(10)}

			if _, err := d.Advance(ctx, ro); err != nil {
				t.Fatal(err)
			}

			pushed := git.reverts > 0
			if pushed != tt.wantPush || (git.credentials > 0) != tt.wantPush {
				t.Fatalf("credentials read %d times, reverts pushed %d; want a push: %t", git.credentials, git.reverts, tt.wantPush)
			}
			ready := apimeta.FindStatusCondition(ro.Status.Conditions, v1alpha1.ReadyCondition)
			refused := ready != nil && ready.Reason == ReasonNotApplied
			if refused == tt.wantPush {
				t.Errorf("Ready condition %+v; want reason %s: %t", ready, ReasonNotApplied, !tt.wantPush)
			}
			if refused && !strings.Contains(ready.Message, "names Application "+teamA+"/shop, whose inventory does not hold it") {
				t.Errorf("refusal says %q", ready.Message)
			}
		})
	}
}

// failedRollout makes Deployment web and its canary copy in ns, and
// returns a Rollout (in memory only: the Driver is given it) that names
// app, asks for reverts in Git, and saw the copy's template fail.
func failedRollout(t *testing.T, ctx context.Context, c client.Client, ns string, app *v1alpha1.Application) *v1alpha1.Rollout {
	t.Helper()
	_, stable := webDeployment(t)
	stable.Namespace, stable.Spec.Replicas = ns, ptr.To[int32](0)
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web", Annotations: map[string]string{
		v1alpha1.ApplicationAnnotation: app.Namespace + "/" + app.Name,
	}}}
	ro.Spec.TargetRef.Name = stable.Name
	ro.Spec.OnFailure.RevertInGit = true
	copied := stable.DeepCopy()
	copied.Name = CopyName(ro)
	copied.Labels = map[string]string{v1alpha1.RolloutLabel: ro.Name}
	copied.Annotations = map[string]string{v1alpha1.TemplateHashAnnotation: "bad"}
	for _, dep := range []*appsv1.Deployment{stable, copied} {
		if err := c.Create(ctx, dep); err != nil {
			t.Fatal(err)
		}
	}
	good, bad := "main@sha1:"+strings.Repeat("a", 40), "main@sha1:"+strings.Repeat("b", 40)
	ro.Status.Phase, ro.Status.CanaryHash, ro.Status.PreviousRevision, ro.Status.Revision = v1alpha1.RolloutAborted, "bad", good, bad
	ro.Status.FailedRevisions = []v1alpha1.FailedRevision{{Revision: bad, TemplateHash: "bad", Reason: "error rate 0.4", FailedAt: metav1.Now()}}
	return ro
}

func TestAppliedBy(t *testing.T) {
	rollout := func(ns, name string) v1alpha1.ObjectRef {
		return v1alpha1.ObjectRef{Group: "weir.dev", Version: "v1alpha1", Kind: "Rollout", Namespace: ns, Name: name}
	}
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "web"}}
	tests := []struct {
		name      string
		inventory []v1alpha1.ObjectRef
		want      bool
	}{
		{"the inventory holds it", []v1alpha1.ObjectRef{rollout("team-b", "web")}, true},
		{"as another version", []v1alpha1.ObjectRef{{Group: "weir.dev", Version: "v1beta1", Kind: "Rollout", Namespace: "team-b", Name: "web"}}, true},
		{"a namesake in another namespace", []v1alpha1.ObjectRef{rollout("team-a", "web")}, false},
		{"a Deployment of that name", []v1alpha1.ObjectRef{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "team-b", Name: "web"}}, false},
		{"an empty inventory", nil, false},
	}
	for _, tt := range tests {
		app := &v1alpha1.Application{Status: v1alpha1.ApplicationStatus{Inventory: tt.inventory}}
		if got := AppliedBy(app, ro); got != tt.want {
			t.Errorf("%s: AppliedBy = %t, want %t", tt.name, got, tt.want)
		}
	}
}
