// Package steer holds what a person does to weir's objects by hand: request
// a sync of an Application, suspend or resume it, and promote, abort, retry,
// pause or resume a Rollout. Each is one patch, made with the client it is
// given (so with that client's identity), that the controller acts on.
// `weir sync`, `weir rollout` and the web UI all steer through here.
package steer

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// RolloutAction is an action by hand on a Rollout, written as an annotation
// for the controller to act on.
type RolloutAction struct {
	// Verb names the action: promote, abort, retry, pause or resume.
	Verb string
	// Annotation is the annotation the action sets.
	Annotation string
	// Short says what the action does, in a sentence.
	Short string
}

// RolloutActions are the actions by hand on a Rollout, in the order they
// are offered.
var RolloutActions = []RolloutAction{
	{"promote", weirv1.PromoteAnnotation, "End the current pause, or switch a blue/green rollout waiting for promotion"},
	{"abort", weirv1.AbortAnnotation, "Abort: all traffic back to stable, the canary scaled to zero, the revision marked failed"},
	{"retry", weirv1.RetryAnnotation, "Release an aborted revision again"},
	{"pause", weirv1.PauseAnnotation, "Pause at the current step until resumed"},
	{"resume", weirv1.ResumeAnnotation, "Resume a rollout paused by hand"},
}

// FindRolloutAction returns the action called verb.
func FindRolloutAction(verb string) (RolloutAction, bool) {
	for _, a := range RolloutActions {
		if a.Verb == verb {
			return a, true
		}
	}
	return RolloutAction{}, false
}

// Token is the value an action's annotation takes: the time of the request,
// unique enough that the controller handles each request once.
func Token() string {
	return time.Now().UTC().Format(time.RFC3339Nano)
}

// Rollout asks the controller to act on ro: it sets the action's annotation
// to token.
func Rollout(ctx context.Context, c client.Client, ro *weirv1.Rollout, a RolloutAction, token string) error {
	before := ro.DeepCopy()
	if ro.Annotations == nil {
		ro.Annotations = map[string]string{}
	}
	ro.Annotations[a.Annotation] = token
	if err := c.Patch(ctx, ro, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("%s Rollout %s/%s: %w", a.Verb, ro.Namespace, ro.Name, err)
	}
	return nil
}

// RequestSync asks the controller to sync app now: it sets the
// weir.dev/requested-sync annotation to token, which the controller copies
// to status.lastHandledSyncRequest once it has synced.
func RequestSync(ctx context.Context, c client.Client, app *weirv1.Application, token string) error {
	before := app.DeepCopy()
	if app.Annotations == nil {
		app.Annotations = map[string]string{}
	}
	app.Annotations[weirv1.RequestedSyncAnnotation] = token
	if err := c.Patch(ctx, app, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("request a sync of Application %s/%s: %w", app.Namespace, app.Name, err)
	}
	return nil
}

// Suspend sets app's spec.suspend: a suspended Application is neither
// synced nor healed until resumed.
func Suspend(ctx context.Context, c client.Client, app *weirv1.Application, suspend bool) error {
	before := app.DeepCopy()
	app.Spec.Suspend = suspend
	if err := c.Patch(ctx, app, client.MergeFrom(before)); err != nil {
		verb := "suspend"
		if !suspend {
			verb = "resume"
		}
		return fmt.Errorf("%s Application %s/%s: %w", verb, app.Namespace, app.Name, err)
	}
	return nil
}
