package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// markedDeployment is the web Deployment with its image marked for the
// ImageUpdate web of namespace ns.
func markedDeployment(ns, image string) string {
	return strings.Replace(fixture.Deployment("web", 1, image), "image: "+image,
		fmt.Sprintf(`image: %s # {"$imagepolicy": "%s:web"}`, image, ns), 1)
}

// A new image pushed to the registry reaches the cluster by a commit
// alone: weir's ImageUpdate selects its tag, commits it where the
// Deployment is marked, and the Application syncs the commit.
func TestANewImageIsCommittedAndSynced(t *testing.T) {
	reg := testenv.NewOCIRegistry(t, "puller", "pull-pass-7f1c")
	repo := reg.PushImage(t, "team/web", "1.0.0")
	reg.PushImage(t, "team/web", "2.0.0-rc.1") // outside the range
	s := given(t, nil)
	s.repo.Git("config", "receive.denyCurrentBranch", "updateInstead")
	s.commit("web 1.0.0", map[string]string{"deploy/web.yaml": markedDeployment(s.ns, repo+":1.0.0")})
	s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Source.Path = "deploy" })
	s.thenApplied(s.repo.Head())
	s.createSecret(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "pull", Namespace: s.ns},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: reg.DockerConfigJSON()},
	})
	iu := &weirv1.ImageUpdate{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: s.ns},
		Spec: weirv1.ImageUpdateSpec{
			Image: repo, Insecure: true, SecretRef: &weirv1.LocalObjectReference{Name: "pull"},
			Interval: &metav1.Duration{Duration: 10 * time.Second},
			Policy:   weirv1.ImagePolicy{SemVer: &weirv1.SemVerPolicy{Range: "^1.0.0"}},
			Update: weirv1.ImageUpdateTarget{ApplicationRef: weirv1.LocalObjectReference{Name: "shop"},
				Author: &weirv1.CommitAuthor{Name: "Image Bot", Email: "images@example.com"}},
		},
	}
	if err := s.c.Create(context.Background(), iu); err != nil {
		t.Fatal(err)
	}
	s.thenImageUpdate(iu, weirv1.ReadyCondition, "UpToDate")

	reg.PushImage(t, "team/web", "1.1.0")
	s.thenImageUpdate(iu, weirv1.ReadyCondition, "ImageUpdated")
	head := s.repo.Git("rev-parse", "main")
	if got := s.repo.Git("log", "-1", "--format=%an <%ae>|%s", head); got != "Image Bot <images@example.com>|Update web to 1.1.0" {
		t.Errorf("head commit = %q", got)
	}
	if got := s.repo.Git("show", head+":deploy/web.yaml"); !strings.Contains(got, fmt.Sprintf(`image: %s:1.1.0 # {"$imagepolicy": "%s:web"}`, repo, s.ns)) {
		t.Errorf("deploy/web.yaml at the head:\n%s", got)
	}
	s.thenApplied(head)
	var web appsv1.Deployment
	s.get(&web, "web")
	if got := web.Spec.Template.Spec.Containers[0].Image; got != repo+":1.1.0" {
		t.Errorf("web runs %s, want %s:1.1.0", got, repo)
	}
	s.thenImageEvent("ImageUpdated", repo+":1.1.0")
	s.checkNoValueShown(map[string]string{"log": controllerLog.String()}, "pull-pass-7f1c")
}

// createSecret creates a Secret of the story.
func (s *story) createSecret(secret *corev1.Secret) {
	s.t.Helper()
	if err := s.c.Create(context.Background(), secret); err != nil {
		s.t.Fatal(err)
	}
}

// thenImageUpdate waits until the ImageUpdate's condition typ has reason.
func (s *story) thenImageUpdate(iu *weirv1.ImageUpdate, typ, reason string) {
	s.t.Helper()
	testenv.Eventually(s.t, time.Minute, fmt.Sprintf("ImageUpdate %s with %s %s", iu.Name, typ, reason), func(ctx context.Context) error {
		got := &weirv1.ImageUpdate{}
		if err := s.c.Get(ctx, client.ObjectKeyFromObject(iu), got); err != nil {
			return err
		}
		c := apimeta.FindStatusCondition(got.Status.Conditions, typ)
		if c == nil || c.Reason != reason {
			return fmt.Errorf("conditions %+v, latest image %q", got.Status.Conditions, got.Status.LatestImage)
		}
		return nil
	})
}

// thenImageEvent waits for an Event on an ImageUpdate with reason whose
// message contains text.
func (s *story) thenImageEvent(reason, text string) {
	s.t.Helper()
	testenv.Eventually(s.t, 30*time.Second, fmt.Sprintf("a %s event saying %q", reason, text), func(ctx context.Context) error {
		var events corev1.EventList
		if err := s.c.List(ctx, &events, client.InNamespace(s.ns)); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.InvolvedObject.Kind == "ImageUpdate" && e.Reason == reason && strings.Contains(e.Message, text) {
				return nil
			}
		}
		return fmt.Errorf("no such event among %d", len(events.Items))
	})
}
