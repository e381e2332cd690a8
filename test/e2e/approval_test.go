package e2e

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/approval"
	"weir.dev/weir/internal/cli"
	"weir.dev/weir/internal/notify"
	"weir.dev/weir/internal/testenv"
)

// A change released in dev waits for prod's approval. An approval in
// another user's name is refused by the API server; one given for a
// change that no longer waits lets nothing through; `weir promote`
// approves the change that waits, as the user the API server knows, and
// it is committed to prod. The Pipeline's status keeps who approved what,
// when, and the commit, and a receiver hears each step.
func TestAProdChangeWaitsForItsApproval(t *testing.T) {
	const repo = "registry.example.com/team/web"
	key := []byte("e2e-hmac-key-approval")
	hook := &webhookReceiver{}
	s := given(t, nil)
	s.allowPush()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "hook"},
		Data: map[string][]byte{notify.KeyAddress: []byte(hook.serve(t, key)), notify.KeyHMACKey: key}}
	if err := s.c.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	s.notification("hook", weirv1.NotificationSpec{Provider: weirv1.ProviderWebhook, SecretRef: &weirv1.LocalObjectReference{Name: "hook"}})
	stageFile := func(stage, tag string) map[string]string {
		d := strings.Replace(markedDeployment(s.ns, repo+":"+tag), "name: web\n", "name: web-"+stage+"\n", 1)
		return map[string]string{stage + "/web.yaml": d}
	}
	files := stageFile("dev", "1.0.0")
	files["prod/web.yaml"] = stageFile("prod", "1.0.0")["prod/web.yaml"]
	first := s.commit("web 1.0.0 in dev and prod", files)
	for _, st := range []string{"dev", "prod"} {
		s.createApplication("shop-"+st, st)
		s.waitForApplication("shop-"+st, first)
	}
	p := &weirv1.Pipeline{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: s.ns},
		Spec: weirv1.PipelineSpec{
			Images:   []weirv1.PipelineImage{{Name: "web", Repository: repo}},
			Interval: &metav1.Duration{Duration: time.Second},
			Stages: []weirv1.PipelineStage{
				{Name: "dev", Applications: []weirv1.LocalObjectReference{{Name: "shop-dev"}}},
				{Name: "prod", Applications: []weirv1.LocalObjectReference{{Name: "shop-prod"}}, RequireApproval: true},
			},
		},
	}
	if err := s.c.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	args := []string{"promote", "web", "prod", "--kubeconfig", testenv.Cluster(t).Kubeconfig, "--namespace", s.ns}
	if code := cli.Execute(context.Background(), args, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "no change awaits approval for stage prod of Pipeline "+s.ns+"/web") {
		t.Errorf("weir promote with nothing awaiting exited %d: %s%s", code, out.String(), errOut.String())
	}

	s.commit("web 1.1.0 in dev", stageFile("dev", "1.1.0"))
	earlier := s.awaitApproval(p, repo+":1.1.0")
	if e := hook.await(t, "Pipeline", "ApprovalAwaited"); !containsAll(e.Message, repo+":1.1.0", "stage prod", earlier.Change, "weir promote web prod") {
		t.Errorf("ApprovalAwaited sent as %+v", e)
	}
	err := s.annotate(p, weirv1.ApprovalAnnotation("prod"), weirv1.ApprovalValue(earlier.Change, "someone-else"))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), approval.PolicyName) {
		t.Fatalf("an approval in another's name: %v, want it refused by %s", err, approval.PolicyName)
	}

	// dev moves on before anyone approves: the approval given now for
	// 1.1.0 is for a change that no longer waits.
	s.commit("web 1.2.0 in dev", stageFile("dev", "1.2.0"))
	waiting := s.awaitApproval(p, repo+":1.2.0")
	if got, err := s.tryKubectl(nil, "get", "pipeline", "web"); err != nil || !containsAll(got, "AWAITING APPROVAL", "prod") {
		t.Errorf("kubectl get pipeline web: %v\n%s", err, got)
	}
	if err := s.annotate(p, weirv1.ApprovalAnnotation("prod"), weirv1.ApprovalValue(earlier.Change, s.whoAmI())); err != nil {
		t.Fatalf("approve 1.1.0 by hand: %v", err)
	}
	time.Sleep(3 * time.Second) // three checks of the Pipeline
	if head := s.repo.Git("log", "-1", "--format=%s", "--", "prod"); head != "web 1.0.0 in dev and prod" {
		t.Fatalf("prod was committed to on the approval of a change that no longer waits: %s", head)
	}

	if out := s.weir("promote", "web", "prod"); !containsAll(out, "Approved", repo+":1.2.0", waiting.Change, s.whoAmI(), "Committed to stage prod as") {
		t.Errorf("weir promote web prod:\n%s", out)
	}
	testenv.Eventually(t, time.Minute, "web-prod running 1.2.0", func(ctx context.Context) error {
		var d appsv1.Deployment
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "web-prod"}, &d); err != nil {
			return err
		}
		if got := d.Spec.Template.Spec.Containers[0].Image; got != repo+":1.2.0" {
			return fmt.Errorf("web-prod runs %s", got)
		}
		return nil
	})
	got := &weirv1.Pipeline{}
	if err := s.c.Get(context.Background(), client.ObjectKeyFromObject(p), got); err != nil {
		t.Fatal(err)
	}
	commit := s.repo.Git("log", "-1", "--format=%H", "--", "prod")
	a := got.Status.Approvals
	if len(a) != 2 || a[0].Change != waiting.Change || a[0].ApprovedBy != s.whoAmI() || a[0].ApprovedAt == nil || a[0].Commit != commit ||
		(a[0].Phase != weirv1.ApprovalCommitted && a[0].Phase != weirv1.ApprovalReleased) || a[1].Phase != weirv1.ApprovalSuperseded {
		t.Errorf("approvals %+v, want 1.2.0 approved by %s and committed as %s, 1.1.0 superseded", a, s.whoAmI(), commit)
	}
	if c := got.Status.Changes; len(c) == 0 || c[0].Stage != "prod" || c[0].Commit != commit {
		t.Errorf("changes %+v, want 1.2.0 promoted to prod", c)
	}
	if e := hook.await(t, "Pipeline", "ApprovalGiven"); !containsAll(e.Message, s.whoAmI(), repo+":1.2.0", "stage prod") {
		t.Errorf("ApprovalGiven sent as %+v", e)
	}
	hook.await(t, "Pipeline", "PromotionCommitted")
}

// awaitApproval waits until the Pipeline's newest approval awaits prod's
// for image, and returns it.
func (s *story) awaitApproval(p *weirv1.Pipeline, image string) weirv1.PipelineApproval {
	s.t.Helper()
	var found weirv1.PipelineApproval
	testenv.Eventually(s.t, time.Minute, image+" awaiting prod's approval", func(ctx context.Context) error {
		got := &weirv1.Pipeline{}
		if err := s.c.Get(ctx, client.ObjectKeyFromObject(p), got); err != nil {
			return err
		}
		if a := got.Status.Approvals; len(a) > 0 && a[0].Stage == "prod" && a[0].Phase == weirv1.ApprovalAwaiting && a[0].Images[0] == image {
			found = a[0]
			return nil
		}
		return fmt.Errorf("approvals %+v, stages %+v", got.Status.Approvals, got.Status.Stages)
	})
	return found
}

// annotate sets an annotation of the Pipeline as the test's user.
func (s *story) annotate(p *weirv1.Pipeline, key, value string) error {
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value)
	return s.c.Patch(context.Background(), p.DeepCopy(), client.RawPatch("application/merge-patch+json", []byte(patch)))
}

// whoAmI is the user the API server knows the test's client as.
func (s *story) whoAmI() string {
	s.t.Helper()
	review := &authenticationv1.SelfSubjectReview{}
	if err := s.c.Create(context.Background(), review); err != nil {
		s.t.Fatal(err)
	}
	return review.Status.UserInfo.Username
}
