package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

func TestASourcePolicyRefusesARepositoryUntilItAllowsIt(t *testing.T) {
	s := given(t, map[string]string{"cm.yaml": fixture.ConfigMap("hello", "greeting", "hi")})
	policy := s.givenSourcePolicy(weirv1.SourcePolicySpec{GitRepositories: []string{"https://git.example.com/**"}})
	s = s.hourly("shop", "", weirv1.GitRef{})

	app := s.thenCondition(weirv1.StalledCondition, metav1.ConditionTrue, "SourceNotAllowed")
	msg := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.StalledCondition).Message
	want := fmt.Sprintf("spec.source.url: %q is not allowed by SourcePolicy %s (allowed: https://git.example.com/**)", s.repo.URL(), policy.Name)
	if msg != want {
		t.Errorf("Stalled says %q, want %q", msg, want)
	}
	if app.Status.LastAttemptedRevision != "" {
		t.Errorf("the refused repository was fetched: attempted %s", app.Status.LastAttemptedRevision)
	}
	s.neverApplied("hello")

	// The policy allows the repository, spelled otherwise: the Application,
	// which checks Git hourly, syncs at once.
	before := policy.DeepCopy()
	policy.Spec.GitRepositories = append(policy.Spec.GitRepositories, s.repo.URL()+".git/")
	if err := s.c.Patch(context.Background(), policy, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	s.thenApplied(s.repo.Head())
}

func TestASourcePolicyRefusesAnObjectInAnotherNamespaceAndAppliesNothing(t *testing.T) {
	other := testenv.Namespace(t)
	s := given(t, map[string]string{
		"cm.yaml":    fixture.ConfigMap("hello", "greeting", "hi"),
		"other.yaml": strings.Replace(fixture.ConfigMap("intruder", "greeting", "hi"), "metadata:\n", "metadata:\n  namespace: "+other+"\n", 1),
	})
	policy := s.givenSourcePolicy(weirv1.SourcePolicySpec{DestinationNamespaces: []string{weirv1.NamespacePlaceholder}})
	s.whenApplication(nil)

	app := s.thenCondition(weirv1.StalledCondition, metav1.ConditionTrue, "SourceNotAllowed")
	msg := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.StalledCondition).Message
	want := fmt.Sprintf("metadata.namespace of ConfigMap %[1]s/intruder: %[1]q is not allowed by SourcePolicy %[2]s (allowed: $(namespace))", other, policy.Name)
	if msg != want {
		t.Errorf("Stalled says %q, want %q", msg, want)
	}
	s.neverApplied("hello")
	if err := s.c.Get(context.Background(), client.ObjectKey{Namespace: other, Name: "intruder"}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Errorf("the ConfigMap in the other namespace: %v, want not found", err)
	}
}

// givenSourcePolicy creates a SourcePolicy that binds the story's
// namespace only, removed when the test ends.
func (s *story) givenSourcePolicy(spec weirv1.SourcePolicySpec) *weirv1.SourcePolicy {
	s.t.Helper()
	spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: s.ns}}
	policy := &weirv1.SourcePolicy{ObjectMeta: metav1.ObjectMeta{Name: "only-" + s.ns}, Spec: spec}
	if err := s.c.Create(context.Background(), policy); err != nil {
		s.t.Fatalf("create SourcePolicy: %v", err)
	}
	s.t.Cleanup(func() { _ = s.c.Delete(context.Background(), policy) })
	return policy
}

// neverApplied checks, for a while, that no ConfigMap name appears in the
// story's namespace.
func (s *story) neverApplied(name string) {
	s.t.Helper()
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: name}, &corev1.ConfigMap{})
		if !apierrors.IsNotFound(err) {
			s.t.Fatalf("ConfigMap %s of a refused Application: %v, want not found", name, err)
		}
	}
}
