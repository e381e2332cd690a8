package controller

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
)

// Reasons for drift.
const (
	// ReasonDrifted is the Synced condition's reason while managed objects
	// differ from the applied revision.
	ReasonDrifted = "Drifted"
	// ReasonDriftDetected is the Event recorded when new drift is found.
	ReasonDriftDetected = "DriftDetected"
	// ReasonDriftCorrected is the Event recorded when self-heal re-applied.
	ReasonDriftCorrected = "DriftCorrected"
	// ReasonDriftPreventionFailed is the Event recorded when the binding
	// that keeps others off an Application's objects cannot be written or
	// removed.
	ReasonDriftPreventionFailed = "DriftPreventionFailed"
)

// driftPriority is the work-queue priority of an Application whose objects
// drifted: ahead of changes and pushes (0) and of routine polls
// (handler.LowPriority), so that a heal never waits behind them.
const driftPriority = 100

// enqueueAt enqueues the object of each generic event at priority, where
// the controller's queue is controller-runtime's priority queue (the
// default), and like any other request elsewhere.
func enqueueAt(priority int) handler.EventHandler {
	return enqueueBy(func(context.Context, client.Object) int { return priority })
}

// enqueueBy enqueues the object of each generic event at the priority
// that priority gives it, as enqueueAt does.
func enqueueBy(priority func(context.Context, client.Object) int) handler.EventHandler {
	return handler.Funcs{GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(e.Object)}
		if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
			pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(priority(ctx, e.Object))}, req)
			return
		}
		q.Add(req)
	}}
}

// selectObjects returns the objects of objs that refs name, by group,
// kind, namespace and name.
func selectObjects(objs []*unstructured.Unstructured, refs []weirv1.ObjectRef) []*unstructured.Unstructured {
	wanted := map[weirv1.ObjectRef]bool{}
	for _, ref := range refs {
		wanted[ref.Key()] = true
	}
	var out []*unstructured.Unstructured
	for _, obj := range objs {
		if wanted[apply.Ref(obj).Key()] {
			out = append(out, obj)
		}
	}
	return out
}

// recordDrift merges what a drift check found into status.drift: checked
// objects are replaced by their findings, others keep theirs. New drift is
// logged and recorded in an Event; the Synced condition follows.
func (r *ApplicationReconciler) recordDrift(ctx context.Context, app *weirv1.Application, checked []weirv1.ObjectRef, found []apply.ObjectDrift) {
	previous := map[weirv1.ObjectRef]weirv1.DriftedObject{}
	for _, d := range app.Status.Drift {
		previous[d.Object.Key()] = d
	}
	wasChecked := map[weirv1.ObjectRef]bool{}
	for _, ref := range checked {
		wasChecked[ref.Key()] = true
	}
	var next, fresh []weirv1.DriftedObject
	for ref, d := range previous {
		if !wasChecked[ref] {
			next = append(next, d)
		}
	}
	for _, f := range found {
		d := weirv1.DriftedObject{Object: f.Object, Deleted: f.Deleted, Fields: f.Fields, Managers: f.Managers, DetectedAt: metav1.Now()}
		if p, ok := previous[f.Object.Key()]; ok && sameDrift(p, d) {
			d.DetectedAt = p.DetectedAt
		} else {
			fresh = append(fresh, d)
		}
		next = append(next, d)
	}
	slices.SortFunc(next, func(a, b weirv1.DriftedObject) int { return cmp.Compare(a.Object.String(), b.Object.String()) })
	app.Status.Drift = next
	for range fresh {
		r.Metrics.DriftDetected()
	}
	if len(fresh) > 0 {
		msg := driftSummary(fresh)
		ctrl.LoggerFrom(ctx).Info("drift detected", "drift", msg)
		r.Recorder.Event(app, corev1.EventTypeWarning, ReasonDriftDetected, msg)
	}
	setDriftCondition(app)
}

func sameDrift(a, b weirv1.DriftedObject) bool {
	return a.Deleted == b.Deleted && slices.Equal(a.Fields, b.Fields) && slices.Equal(a.Managers, b.Managers)
}

// setDriftCondition sets Synced from status.drift: False while anything
// drifted, True again once it all matches.
func setDriftCondition(app *weirv1.Application) {
	switch {
	case len(app.Status.Drift) > 0:
		setCondition(app, weirv1.SyncedCondition, metav1.ConditionFalse, ReasonDrifted,
			fmt.Sprintf("%d objects drifted from revision %s: %s", len(app.Status.Drift), app.Status.LastAppliedRevision, driftSummary(app.Status.Drift)))
	case isDrifted(app):
		setCondition(app, weirv1.SyncedCondition, metav1.ConditionTrue, ReasonSucceeded, "The cluster matches revision "+app.Status.LastAppliedRevision)
	}
}

// isDrifted reports whether the Synced condition says the cluster drifted.
func isDrifted(app *weirv1.Application) bool {
	c := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.SyncedCondition)
	return c != nil && c.Reason == ReasonDrifted
}

// driftSummary says what drifted and who drifted it, in one line.
func driftSummary(drift []weirv1.DriftedObject) string {
	parts := make([]string, len(drift))
	for i, d := range drift {
		switch {
		case d.Deleted:
			parts[i] = d.Object.String() + " deleted"
		case len(d.Managers) == 0:
			parts[i] = d.Object.String() + ": " + strings.Join(d.Fields, ", ") + " changed"
		default:
			parts[i] = d.Object.String() + ": " + strings.Join(d.Fields, ", ") + " changed by " + strings.Join(d.Managers, ", ")
		}
	}
	return strings.Join(parts, "; ")
}
