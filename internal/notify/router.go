package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Router routes weir's Events to the Notifications that select them.
type Router struct {
	// Notifications lists the Notifications (the manager's cache).
	Notifications client.Reader
	// Objects reads Applications, Rollouts and Secrets, directly: weir
	// caches no Secret.
	Objects client.Reader
	Limiter *Limiter
	Queue   *Queue
	// HTTP sends every request; nil means one with DefaultTimeout.
	HTTP *http.Client
}

// Route sends ev, an Event recorded on one of weir's objects, to each
// Notification of its namespace that selects it, unless the Limiter holds
// it back. It reads the API server but never waits on a receiver.
func (r *Router) Route(ctx context.Context, ev *corev1.Event) error {
	if !strings.HasPrefix(ev.InvolvedObject.APIVersion, weirv1.GroupVersion.Group+"/") {
		return nil
	}
	var list weirv1.NotificationList
	if err := r.Notifications.List(ctx, &list, client.InNamespace(ev.InvolvedObject.Namespace)); err != nil {
		return fmt.Errorf("list the Notifications of namespace %s: %w", ev.InvolvedObject.Namespace, err)
	}
	if len(list.Items) == 0 {
		return nil
	}
	e, app, err := r.describe(ctx, ev)
	if err != nil {
		return err
	}
	var errs []error
	for i := range list.Items {
		n := &list.Items[i]
		if !Selects(n, e, appLabels(app)) {
			continue
		}
		ok, suppressed := r.Limiter.Allow(n.Namespace + "/" + n.Name + "/" + e.Kind + "/" + e.Name + "/" + e.Reason)
		if !ok {
			continue
		}
		sender, err := r.sender(ctx, n, app)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		e := e
		e.Suppressed = suppressed
		r.Queue.Enqueue(Delivery{Name: n.Namespace + "/" + n.Name, Sender: sender, Event: e})
	}
	return errors.Join(errs...)
}

// Selects says whether n routes e, of an Application with appLabels (nil
// when e's object belongs to none).
func Selects(n *weirv1.Notification, e Event, appLabels labels.Set) bool {
	switch {
	case n.Spec.Suspend:
		return false
	case n.Spec.Severity == weirv1.SeverityError && e.Severity != weirv1.SeverityError:
		return false
	case len(n.Spec.Reasons) > 0 && !slices.Contains(n.Spec.Reasons, e.Reason):
		return false
	case len(n.Spec.Reasons) == 0 && !Reasons[e.Reason]:
		return false
	case len(n.Spec.Applications) > 0 && !slices.Contains(n.Spec.Applications, e.Application):
		return false
	}
	if n.Spec.Selector == nil {
		return true
	}
	sel, err := metav1.LabelSelectorAsSelector(n.Spec.Selector)
	return err == nil && appLabels != nil && sel.Matches(appLabels)
}

// describe is ev as an Event, with the Application it belongs to (nil for
// none, or one that is gone).
func (r *Router) describe(ctx context.Context, ev *corev1.Event) (Event, *weirv1.Application, error) {
	obj := ev.InvolvedObject
	e := Event{Kind: obj.Kind, Namespace: obj.Namespace, Name: obj.Name, Reason: ev.Reason,
		Severity: severityOf(ev.Type), Message: ev.Message, Time: eventTime(ev)}
	switch obj.Kind {
	case "Application":
		e.Application = obj.Name
	case "Rollout":
		ro := &weirv1.Rollout{}
		if err := r.Objects.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}, ro); client.IgnoreNotFound(err) != nil {
			return e, nil, fmt.Errorf("read Rollout %s/%s: %w", obj.Namespace, obj.Name, err)
		}
		e.Revision = ro.Status.Revision
		if ns, name, ok := strings.Cut(ro.Annotations[weirv1.ApplicationAnnotation], "/"); ok && ns == obj.Namespace {
			e.Application = name
		}
	}
	if e.Application == "" {
		return e, nil, nil
	}
	app := &weirv1.Application{}
	if err := r.Objects.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: e.Application}, app); err != nil {
		return e, nil, client.IgnoreNotFound(err)
	}
	if e.Revision == "" {
		e.Revision = app.Status.LastAttemptedRevision
	}
	return e, app, nil
}

func appLabels(app *weirv1.Application) labels.Set {
	if app == nil {
		return nil
	}
	return app.Labels
}

// eventTime is when ev last occurred.
func eventTime(ev *corev1.Event) time.Time {
	switch {
	case ev.Series != nil:
		return ev.Series.LastObservedTime.Time
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	}
	return ev.CreationTimestamp.Time
}
