package controller

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// failingGuard cannot write the drift prevention policy.
type failingGuard struct{ err error }

func (g failingGuard) Guard(context.Context, *weirv1.Application) error   { return g.err }
func (g failingGuard) Forget(context.Context, types.NamespacedName) error { return g.err }

func TestAGuardThatFailsIsToldInAnEvent(t *testing.T) {
	denied := errors.New(`write ValidatingAdmissionPolicyBinding weir-prevent-drift.shop.web: forbidden`)
	recorder := record.NewFakeRecorder(1)
	r := &ApplicationReconciler{Guard: failingGuard{denied}, Recorder: recorder}
	if err := r.guard(context.Background(), &weirv1.Application{}); !errors.Is(err, denied) {
		t.Errorf("guard = %v, want %v for a retry", err, denied)
	}
	event := <-recorder.Events
	if !strings.HasPrefix(event, "Warning "+ReasonDriftPreventionFailed+" ") || !strings.Contains(event, denied.Error()) {
		t.Errorf("event %q, want a warning %s naming the error", event, ReasonDriftPreventionFailed)
	}
}
