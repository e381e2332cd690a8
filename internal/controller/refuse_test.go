package controller

import (
	"context"
	"errors"
	"strings"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/desired"
	"weir.dev/weir/internal/health"
	"weir.dev/weir/internal/source"
)

// refusingLoader refuses the revision at the Application's ref, and loads
// the one applied last.
type refusingLoader struct{ appliedLoads int }

func (*refusingLoader) Load(context.Context, *weirv1.Application) (desired.State, error) {
	state := desired.State{Artifact: source.Artifact{Revision: "main@sha1:" + strings.Repeat("b", 40)}}
	return state, &desired.Error{Stage: desired.StageVerify, Err: errors.New("commit bbbb is not signed")}
}

func (l *refusingLoader) LoadApplied(_ context.Context, app *weirv1.Application) (desired.State, error) {
	l.appliedLoads++
	return desired.State{Artifact: source.Artifact{Revision: app.Status.LastAppliedRevision}}, nil
}

// quietDrift reports no drift.
type quietDrift struct{ DriftWatcher }

func (quietDrift) Track(types.NamespacedName, []weirv1.ObjectRef) (bool, error) { return false, nil }
func (quietDrift) Suspects(types.NamespacedName) []weirv1.ObjectRef             { return nil }

// healthyChecker finds every object Current.
type healthyChecker struct{ HealthChecker }

func (healthyChecker) Check(context.Context, []weirv1.ObjectRef) (health.Report, error) {
	return health.Report{}, nil
}

// TestARefusedRevisionIsReportedOnceAndTheAppliedOneKept: each reconcile
// keeps the revision applied last (loads it, checks it), while the refusal
// is recorded in history and an Event once, not at every poll.
func TestARefusedRevisionIsReportedOnceAndTheAppliedOneKept(t *testing.T) {
	loader := &refusingLoader{}
	events := record.NewFakeRecorder(10)
	r := &ApplicationReconciler{Loader: loader, Recorder: events, Drift: quietDrift{}, Health: healthyChecker{}}
	applied := "main@sha1:" + strings.Repeat("a", 40)
	app := &weirv1.Application{Status: weirv1.ApplicationStatus{LastAppliedRevision: applied, LastAttemptedRevision: applied}}
	for poll := 1; poll <= 3; poll++ {
		err := r.reconcile(context.Background(), app)
		if !isStalling(err) || reasonOf(err) != ReasonVerificationFailed {
			t.Fatalf("poll %d: %v, want a stalling %s", poll, err, ReasonVerificationFailed)
		}
		app.Status.ObservedGeneration = app.Generation
	}
	if loader.appliedLoads != 3 {
		t.Errorf("the applied revision was loaded %d times in 3 polls, want 3", loader.appliedLoads)
	}
	if n := len(app.Status.History); n != 1 {
		t.Errorf("%d history records after 3 polls, want 1: %+v", n, app.Status.History)
	}
	if n := len(events.Events); n != 1 {
		t.Errorf("%d Events after 3 polls, want 1", n)
	}
	ready := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.ReadyCondition)
	if ready == nil || ready.Reason != ReasonVerificationFailed || !strings.Contains(ready.Message, "revision "+applied+" stays applied") {
		t.Errorf("Ready = %+v, want the refusal and the revision kept", ready)
	}
	if app.Status.LastAppliedRevision != applied {
		t.Errorf("last applied revision %s, want %s kept", app.Status.LastAppliedRevision, applied)
	}
}
