package controller

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/imageupdate"
)

// ImageUpdates are read and their status written; the pull and CA
// Secrets are read one at a time, uncached.
// +kubebuilder:rbac:groups=weir.dev,resources=imageupdates,verbs=get;list;watch
// +kubebuilder:rbac:groups=weir.dev,resources=imageupdates/status,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Reasons of an ImageUpdate's Ready condition and Events, besides the
// failures of package imageupdate.
const (
	// ReasonImageUpdated: weir pushed a commit that writes a new tag
	// (a Normal Event).
	ReasonImageUpdated = "ImageUpdated"
	// ReasonUpToDate: Git already says the selected tag.
	ReasonUpToDate = "UpToDate"
	// ReasonApplicationNotFound: spec.update.applicationRef names no
	// Application.
	ReasonApplicationNotFound = "ApplicationNotFound"
)

// ImageUpdateReconciler scans each ImageUpdate's registry repository at
// its interval and commits the latest tag to its Application's
// repository.
type ImageUpdateReconciler struct {
	Client   client.Client
	Updater  *imageupdate.Updater
	Recorder record.EventRecorder
}

// SetupWithManager registers the reconciler; spec changes trigger it, and
// each reconcile asks to run again after the interval.
func (r *ImageUpdateReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&weirv1.ImageUpdate{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}

// Reconcile scans, commits, and records the outcome on the status and in
// an Event.
func (r *ImageUpdateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	iu := &weirv1.ImageUpdate{}
	if err := r.Client.Get(ctx, req.NamespacedName, iu); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if iu.Spec.Suspend {
		return ctrl.Result{}, nil
	}
	before := iu.DeepCopy()
	cond := r.update(ctx, iu)
	cond.ObservedGeneration = iu.Generation
	apimeta.SetStatusCondition(&iu.Status.Conditions, cond)
	iu.Status.ObservedGeneration = iu.Generation
	if err := r.Client.Status().Patch(ctx, iu, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if cond.Reason == imageupdate.ReasonPolicyInvalid {
		return ctrl.Result{}, nil // stalled until the spec changes
	}
	return ctrl.Result{RequeueAfter: iu.Spec.IntervalOrDefault()}, nil
}

// update runs one scan and commit, and returns the Ready condition it
// leads to.
func (r *ImageUpdateReconciler) update(ctx context.Context, iu *weirv1.ImageUpdate) metav1.Condition {
	app := &weirv1.Application{}
	key := client.ObjectKey{Namespace: iu.Namespace, Name: iu.Spec.Update.ApplicationRef.Name}
	if err := r.Client.Get(ctx, key, app); err != nil {
		return r.failed(iu, ReasonApplicationNotFound, fmt.Errorf("Application %s named by spec.update.applicationRef: %w", key, err))
	}
	res, err := r.Updater.Update(ctx, iu, app)
	now := metav1.Now()
	if res.Image != "" {
		iu.Status.LatestImage, iu.Status.LastScanTime = res.Image, &now
	}
	var uerr *imageupdate.Error
	switch {
	case errors.As(err, &uerr):
		return r.failed(iu, uerr.Reason, uerr.Err)
	case err != nil:
		return r.failed(iu, imageupdate.ReasonCommitFailed, err)
	case res.Commit == "":
		return metav1.Condition{Type: weirv1.ReadyCondition, Status: metav1.ConditionTrue, Reason: ReasonUpToDate,
			Message: fmt.Sprintf("Git says %s, the latest image", res.Image)}
	}
	iu.Status.LastCommit, iu.Status.LastPushTime = res.Commit, &now
	msg := fmt.Sprintf("Committed %s to Application %s's repository as %s", res.Image, app.Name, res.Commit)
	r.Recorder.Event(iu, corev1.EventTypeNormal, ReasonImageUpdated, msg)
	return metav1.Condition{Type: weirv1.ReadyCondition, Status: metav1.ConditionTrue, Reason: ReasonImageUpdated, Message: msg}
}

// failed records a failure in a Warning Event and returns its condition.
func (r *ImageUpdateReconciler) failed(iu *weirv1.ImageUpdate, reason string, err error) metav1.Condition {
	r.Recorder.Event(iu, corev1.EventTypeWarning, reason, err.Error())
	return metav1.Condition{Type: weirv1.ReadyCondition, Status: metav1.ConditionFalse, Reason: reason, Message: err.Error()}
}
