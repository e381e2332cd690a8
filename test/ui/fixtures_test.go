package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// app is one user's Application: a Git repository, a namespace and the
// Application that syncs one into the other.
type app struct {
	t    *testing.T
	repo *testenv.GitRepo
	ns   string
	c    client.Client
	obj  *weirv1.Application
	// workloads is a client of the cluster the Application syncs to.
	workloads client.Client
}

// newApp commits files and creates the Application "shop" syncing them
// every second, and waits until it is Ready at that commit.
func newApp(t *testing.T, files map[string]string) *app {
	t.Helper()
	a := givenApp(t)
	a.create(files, nil)
	return a
}

// givenApp is an app whose Application is yet to be created, syncing to
// weir's own cluster unless told otherwise.
func givenApp(t *testing.T) *app {
	t.Helper()
	c := testenv.Client(t, weirv1.AddToScheme)
	return &app{t: t, repo: testenv.NewGitRepo(t), ns: testenv.Namespace(t), c: c, workloads: c}
}

// create commits files and creates the Application "shop" syncing them
// every second to cluster (nil for weir's own), and waits until it is
// Ready at that commit.
func (a *app) create(files map[string]string, cluster *weirv1.ClusterReference) {
	a.t.Helper()
	sha := a.commit("initial", files)
	a.obj = &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: a.ns},
		Spec: weirv1.ApplicationSpec{
			Source:      weirv1.GitSource{URL: a.repo.URL()},
			Destination: weirv1.Destination{Cluster: cluster},
			Sync:        weirv1.SyncPolicy{Interval: &metav1.Duration{Duration: time.Second}, Timeout: &metav1.Duration{Duration: 30 * time.Second}},
		},
	}
	if err := a.c.Create(context.Background(), a.obj); err != nil {
		a.t.Fatalf("create Application: %v", err)
	}
	a.readyAt(sha)
}

// commit writes files and commits them with message.
func (a *app) commit(message string, files map[string]string) string {
	a.t.Helper()
	for path, content := range files {
		a.repo.Write(path, content)
	}
	return a.repo.Commit(message)
}

// readyAt waits until the Application is Ready at commit sha.
func (a *app) readyAt(sha string) *weirv1.Application {
	a.t.Helper()
	got := &weirv1.Application{}
	testenv.Eventually(a.t, time.Minute, "Application Ready at "+sha, func(context.Context) error {
		// Not the deadline's context: the last error should be the status.
		if err := a.c.Get(context.Background(), client.ObjectKeyFromObject(a.obj), got); err != nil {
			return err
		}
		if !strings.HasSuffix(got.Status.LastAppliedRevision, sha) || !apimeta.IsStatusConditionTrue(got.Status.Conditions, weirv1.ReadyCondition) {
			return fmt.Errorf("revision %q, conditions %v", got.Status.LastAppliedRevision, got.Status.Conditions)
		}
		return nil
	})
	return got
}
