package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// story is one user's Application: a Git repository, a namespace and the
// Application that syncs one into the other.
type story struct {
	t    testing.TB
	repo *testenv.GitRepo
	ns   string
	c    client.Client
	app  *weirv1.Application
}

// given starts a story with a repository holding files, committed on main.
func given(t testing.TB, files map[string]string) *story {
	s := &story{t: t, repo: testenv.NewGitRepo(t), ns: testenv.Namespace(t), c: testenv.Client(t, weirv1.AddToScheme)}
	s.commit("initial", files)
	return s
}

// commit writes files (an empty content removes the file) and commits.
func (s *story) commit(message string, files map[string]string) string {
	s.t.Helper()
	return s.repo.CommitFiles(message, files)
}

// whenApplication creates the Application; edit adjusts its spec.
func (s *story) whenApplication(edit func(*weirv1.ApplicationSpec)) *story {
	s.t.Helper()
	s.app = &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: s.ns},
		Spec: weirv1.ApplicationSpec{
			Source: weirv1.GitSource{URL: s.repo.URL()},
			Sync:   weirv1.SyncPolicy{Interval: &metav1.Duration{Duration: time.Second}, Timeout: &metav1.Duration{Duration: 20 * time.Second}},
		},
	}
	if edit != nil {
		edit(&s.app.Spec)
	}
	if err := s.c.Create(context.Background(), s.app); err != nil {
		s.t.Fatalf("create Application: %v", err)
	}
	return s
}

// thenApplied waits until the Application is Ready at commit sha.
func (s *story) thenApplied(sha string) *weirv1.Application {
	s.t.Helper()
	return s.waitFor("Ready at "+sha, func(app *weirv1.Application) bool {
		return strings.HasSuffix(app.Status.LastAppliedRevision, sha) &&
			apimeta.IsStatusConditionTrue(app.Status.Conditions, weirv1.ReadyCondition)
	})
}

// thenCondition waits until a condition has the given status and reason
// and returns the Application.
func (s *story) thenCondition(typ string, status metav1.ConditionStatus, reason string) *weirv1.Application {
	s.t.Helper()
	return s.waitFor(fmt.Sprintf("%s=%s (%s)", typ, status, reason), func(app *weirv1.Application) bool {
		c := apimeta.FindStatusCondition(app.Status.Conditions, typ)
		return c != nil && c.Status == status && c.Reason == reason
	})
}

func (s *story) waitFor(what string, ok func(*weirv1.Application) bool) *weirv1.Application {
	s.t.Helper()
	app := &weirv1.Application{}
	testenv.Eventually(s.t, time.Minute, "Application "+what, func(ctx context.Context) error {
		if err := s.c.Get(ctx, client.ObjectKeyFromObject(s.app), app); err != nil {
			return err
		}
		if !ok(app) {
			return fmt.Errorf("status: revision %q, conditions %v", app.Status.LastAppliedRevision, conditionSummary(app))
		}
		return nil
	})
	return app
}

func conditionSummary(app *weirv1.Application) []string {
	var out []string
	for _, c := range app.Status.Conditions {
		out = append(out, fmt.Sprintf("%s=%s/%s: %s", c.Type, c.Status, c.Reason, c.Message))
	}
	return out
}

// checkNoValueShown fails if a value shows in texts, the Application's
// status, the namespace's events or the controller's log.
func (s *story) checkNoValueShown(texts map[string]string, values ...string) {
	s.t.Helper()
	ctx := context.Background()
	app := &weirv1.Application{}
	if err := s.c.Get(ctx, client.ObjectKeyFromObject(s.app), app); err != nil {
		s.t.Fatal(err)
	}
	var events corev1.EventList
	if err := s.c.List(ctx, &events, client.InNamespace(s.ns)); err != nil {
		s.t.Fatal(err)
	}
	status, _ := json.Marshal(app.Status)
	eventText, _ := json.Marshal(events)
	all := map[string]string{"status": string(status), "events": string(eventText), "controller log": controllerLog.String()}
	for where, text := range texts {
		all[where] = text
	}
	for where, text := range all {
		for _, v := range values {
			if strings.Contains(text, v) {
				s.t.Errorf("%s shows the secret value %q", where, v)
			}
		}
	}
}

// editSecret changes a value of the Secret name by hand, as someone with
// kubectl would.
func (s *story) editSecret(name, key, value string) {
	s.t.Helper()
	var secret corev1.Secret
	s.get(&secret, name)
	before := secret.DeepCopy()
	secret.Data[key] = []byte(value)
	if err := s.c.Patch(context.Background(), &secret, client.MergeFrom(before)); err != nil {
		s.t.Fatalf("edit Secret %s: %v", name, err)
	}
}

// get reads an object from the story's namespace; it fails the test if absent.
func (s *story) get(obj client.Object, name string) {
	s.t.Helper()
	if err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: name}, obj); err != nil {
		s.t.Fatalf("get %T %s: %v", obj, name, err)
	}
}

// absent waits until the named object is gone.
func (s *story) absent(obj client.Object, name string) {
	s.t.Helper()
	testenv.Eventually(s.t, 30*time.Second, fmt.Sprintf("%T %s deleted", obj, name), func(ctx context.Context) error {
		err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, obj)
		if err == nil {
			return fmt.Errorf("%s still exists", name)
		}
		return client.IgnoreNotFound(err)
	})
}
