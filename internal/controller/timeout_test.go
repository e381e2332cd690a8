package controller

import (
	"context"
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/desired"
)

// hangingLoader loads nothing until its context ends, as a fetch from a Git
// server that never answers would without a deadline.
type hangingLoader struct{}

func (hangingLoader) Load(ctx context.Context, _ *weirv1.Application) (desired.State, error) {
	<-ctx.Done()
	return desired.State{}, ctx.Err()
}

func (l hangingLoader) LoadApplied(ctx context.Context, app *weirv1.Application) (desired.State, error) {
	return l.Load(ctx, app)
}

func TestReconcileEndsAtItsTimeout(t *testing.T) {
	r := &ApplicationReconciler{Loader: hangingLoader{}, Recorder: record.NewFakeRecorder(10)}
	app := &weirv1.Application{}
	done := make(chan error, 1)
	go func() { done <- r.reconcileWithin(context.Background(), app, 50*time.Millisecond) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the reconcile still runs a minute after its timeout")
	}
}

func TestReconcileTimeoutFollowsTheSyncTimeout(t *testing.T) {
	tests := []struct {
		sync *metav1.Duration
		want time.Duration
	}{
		{nil, 25 * time.Minute},
		{&metav1.Duration{Duration: time.Minute}, 13 * time.Minute},
		{&metav1.Duration{Duration: time.Hour}, 190 * time.Minute},
	}
	for _, tt := range tests {
		app := &weirv1.Application{Spec: weirv1.ApplicationSpec{Sync: weirv1.SyncPolicy{Timeout: tt.sync}}}
		if got := reconcileTimeout(app); got != tt.want {
			t.Errorf("sync timeout %v: reconcile timeout %v, want %v", tt.sync, got, tt.want)
		}
	}
}
