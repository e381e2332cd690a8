package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// liveApplication creates an Application in a fresh namespace.
func liveApplication(t *testing.T) (client.Client, *weirv1.Application) {
	t.Helper()
	testenv.InstallCRDs(t, "../../config/crd/bases/weir.dev_applications.yaml")
	c := testenv.Client(t, weirv1.AddToScheme)
	app := application("web", "https://github.com/shop/deploy.git", weirv1.GitRef{})
	app.Namespace = testenv.Namespace(t)
	if err := c.Create(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	return c, app
}

func TestTheLeaderQueuesTheApplication(t *testing.T) {
	c, app := liveApplication(t)
	elected := make(chan struct{})
	close(elected)
	events := make(chan event.GenericEvent, 1)
	r := &ReplicaRefresher{Client: c, Elected: elected, Events: events}
	if err := r.Refresh(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	got := <-events
	if got.Object.GetName() != app.Name || got.Object.GetNamespace() != app.Namespace {
		t.Errorf("queued %s/%s, want %s/%s", got.Object.GetNamespace(), got.Object.GetName(), app.Namespace, app.Name)
	}
	live := &weirv1.Application{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(app), live); err != nil {
		t.Fatal(err)
	}
	if _, ok := live.Annotations[weirv1.RefreshRequestedAnnotation]; ok {
		t.Error("the leader annotated the Application instead of queueing it only")
	}
}

func TestAStandbyAsksTheLeaderThroughAnAnnotation(t *testing.T) {
	c, app := liveApplication(t)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	r := &ReplicaRefresher{Client: c, Elected: make(chan struct{}), Now: func() time.Time { return at }}
	for range 2 { // a second request only moves the time
		if err := r.Refresh(context.Background(), app); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Second)
	}
	live := &weirv1.Application{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(app), live); err != nil {
		t.Fatal(err)
	}
	if got, want := live.Annotations[weirv1.RefreshRequestedAnnotation], "2026-11-23T10:00:01Z"; got != want {
		t.Errorf("annotation %s = %q, want %q", weirv1.RefreshRequestedAnnotation, got, want)
	}
	if live.Generation != 1 {
		t.Errorf("generation = %d; a refresh must not look like a spec change", live.Generation)
	}
}

func TestAStandbyReportsTheApplicationItCouldNotAnnotate(t *testing.T) {
	c, app := liveApplication(t)
	gone := app.DeepCopy()
	gone.Name = "deleted"
	r := &ReplicaRefresher{Client: c, Elected: make(chan struct{})}
	err := r.Refresh(context.Background(), gone)
	if err == nil || !strings.Contains(err.Error(), app.Namespace+"/deleted") {
		t.Errorf("Refresh of a deleted Application = %v, want an error naming it", err)
	}
}

func TestALeaderWhoseQueueIsFullGivesUpWithTheRequest(t *testing.T) {
	elected := make(chan struct{})
	close(elected)
	r := &ReplicaRefresher{Elected: elected, Events: make(chan event.GenericEvent)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	app := application("web", "https://github.com/shop/deploy.git", weirv1.GitRef{})
	if err := r.Refresh(ctx, app); !errors.Is(err, context.Canceled) {
		t.Errorf("Refresh with nobody reading = %v, want the request's cancellation", err)
	}
}
