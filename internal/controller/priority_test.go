package controller

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// TestADriftIsReconciledBeforeRoutinePolls: with 100 polls due in the
// queue, an Application whose objects drifted is the next one a worker
// takes, and it stays first when its own poll was queued before.
func TestADriftIsReconciledBeforeRoutinePolls(t *testing.T) {
	q := priorityqueue.New[reconcile.Request]("applications")
	defer q.ShutDown()
	due := poll(0).Priority
	for i := range 100 {
		q.AddWithOpts(priorityqueue.AddOpts{Priority: due}, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: fmt.Sprintf("poll-%d", i), Name: "app"}})
	}
	drifted := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "shop-42", Name: "app"}}
	q.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(handler.LowPriority)}, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "shop-42", Name: "app"}})
	enqueueAt(driftPriority).Generic(t.Context(), event.GenericEvent{Object: drifted}, q)
	got, priority, _ := q.GetWithPriority()
	if got.Namespace != "shop-42" || priority != driftPriority {
		t.Errorf("the first request taken is %s at priority %d, want shop-42/app at %d", got, priority, driftPriority)
	}
}
