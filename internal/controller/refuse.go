package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/desired"
)

// isRefused reports whether err is a revision whose signatures do not
// verify.
func isRefused(err error) bool {
	de := (*desired.Error)(nil)
	return errors.As(err, &de) && de.Stage == desired.StageVerify
}

// refuse reports a revision whose signatures do not verify, and keeps the
// revision applied last: nothing of the refused revision is applied or
// pruned, while the applied one is still healed of drift (as self-heal
// asks), promoted by its Rollouts and checked for health. The refusal is
// recorded once, not again at each poll that finds the same revision.
func (r *ApplicationReconciler) refuse(ctx context.Context, app *weirv1.Application, refused desired.State, err error) error {
	started := time.Now()
	if kept := r.keepApplied(ctx, app); kept != "" {
		err = fmt.Errorf("%w; %s", err, kept)
	}
	trigger := syncTrigger(app, refused)
	msg := failureMessage(err, refused.Secrets)
	if trigger == TriggerRetry && reported(app, msg) {
		return &syncError{reason: ReasonVerificationFailed, stall: true, err: err, msg: msg}
	}
	if trigger == "" {
		trigger = TriggerRevision
	}
	return r.fail(ctx, app, refused, trigger, started, err)
}

// keepApplied converges the revision applied last, and says what became
// of it; "" when none was applied.
func (r *ApplicationReconciler) keepApplied(ctx context.Context, app *weirv1.Application) string {
	applied := app.Status.LastAppliedRevision
	if applied == "" {
		return ""
	}
	state, err := r.Loader.LoadApplied(ctx, app)
	if err == nil {
		err = r.converge(ctx, app, state, "")
	}
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "cannot keep the revision applied last", "revision", applied)
		return fmt.Sprintf("revision %s stays applied, but is not kept (drift healed, Rollouts promoted): %s", applied, failureMessage(err, state.Secrets))
	}
	return "revision " + applied + " stays applied"
}

// reported reports whether the Application's Ready condition says msg
// already.
func reported(app *weirv1.Application, msg string) bool {
	ready := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.ReadyCondition)
	return ready != nil && ready.Status == metav1.ConditionFalse && ready.Reason == ReasonVerificationFailed && ready.Message == msg
}
