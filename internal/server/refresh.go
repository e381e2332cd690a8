package server

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// ReplicaRefresher asks for an Application to be reconciled now from any
// replica. On the leader it sends the Application to the reconciler's
// refresh channel, where repeated requests coalesce in the work queue; on a
// standby, which runs no reconciler, it sets the refresh-requested
// annotation, which the leader sees as a change to the Application.
type ReplicaRefresher struct {
	// Client patches Applications.
	Client client.Client
	// Elected is closed once this replica leads (the manager's Elected()).
	Elected <-chan struct{}
	// Events is the channel the reconciler's Refresh reads.
	Events chan<- event.GenericEvent
	// Now gives the annotation's value; time.Now when nil.
	Now func() time.Time
}

// Refresh asks for app to be reconciled. It blocks until the request is
// queued or ctx ends.
func (r *ReplicaRefresher) Refresh(ctx context.Context, app *weirv1.Application) error {
	select {
	case <-r.Elected:
		return r.enqueue(ctx, app)
	default:
		return r.annotate(ctx, app)
	}
}

func (r *ReplicaRefresher) enqueue(ctx context.Context, app *weirv1.Application) error {
	select {
	case r.Events <- event.GenericEvent{Object: app}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("queue Application %s/%s: %w", app.Namespace, app.Name, ctx.Err())
	}
}

// A standby replica asks the leader to refresh through an annotation.
// +kubebuilder:rbac:groups=weir.dev,resources=applications,verbs=patch

func (r *ReplicaRefresher) annotate(ctx context.Context, app *weirv1.Application) error {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	patch := client.MergeFrom(app.DeepCopy())
	annotated := app.DeepCopy()
	if annotated.Annotations == nil {
		annotated.Annotations = map[string]string{}
	}
	annotated.Annotations[weirv1.RefreshRequestedAnnotation] = now().UTC().Format(time.RFC3339Nano)
	if err := r.Client.Patch(ctx, annotated, patch); err != nil {
		return fmt.Errorf("annotate Application %s/%s with %s: %w", app.Namespace, app.Name, weirv1.RefreshRequestedAnnotation, err)
	}
	return nil
}
