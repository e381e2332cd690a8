package notify

import (
	"context"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// +kubebuilder:rbac:groups="",resources=events,verbs=list;watch
// +kubebuilder:rbac:groups=weir.dev,resources=notifications,verbs=get;list;watch

// Watcher feeds a Router the Events recorded on weir's objects: those
// created or repeated (their count grown) since it started.
type Watcher struct {
	Client kubernetes.Interface
	Router *Router
	Log    logr.Logger
}

// Start watches Events until ctx ends; it implements manager.Runnable.
func (w *Watcher) Start(ctx context.Context) error {
	started := time.Now()
	lw := cache.NewFilteredListWatchFromClient(w.Client.CoreV1().RESTClient(), "events", corev1.NamespaceAll,
		func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("involvedObject.apiVersion", weirv1.GroupVersion.String()).String()
		})
	_, informer := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw, ObjectType: &corev1.Event{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) {
				if ev := obj.(*corev1.Event); !eventTime(ev).Before(started.Truncate(time.Second)) {
					w.route(ctx, ev)
				}
			},
			UpdateFunc: func(old, obj any) {
				if o, ev := old.(*corev1.Event), obj.(*corev1.Event); ev.Count > o.Count || seriesGrew(o, ev) {
					w.route(ctx, ev)
				}
			},
		},
	})
	informer.RunWithContext(ctx)
	return nil
}

// NeedLeaderElection says that only the leader routes Events.
func (w *Watcher) NeedLeaderElection() bool { return true }

func (w *Watcher) route(ctx context.Context, ev *corev1.Event) {
	if err := w.Router.Route(ctx, ev); err != nil {
		w.Log.Error(err, "cannot route an Event", "reason", ev.Reason,
			"object", ev.InvolvedObject.Namespace+"/"+ev.InvolvedObject.Name)
	}
}

func seriesGrew(old, ev *corev1.Event) bool {
	return ev.Series != nil && (old.Series == nil || ev.Series.Count > old.Series.Count)
}
