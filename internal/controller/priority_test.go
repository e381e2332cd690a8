package controller

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
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

// TestAPushOfFewApplicationsIsReconciledFirst: while the 100 Applications
// of one repository that a push woke wait in the queue, behind a drift and
// ahead of routine polls, the one Application of another repository that
// a later push woke is the next one a worker takes.
func TestAPushOfFewApplicationsIsReconciledFirst(t *testing.T) {
	s := runtime.NewScheme()
	if err := weirv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	app := func(ns, url string) *weirv1.Application {
		return &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}, Spec: weirv1.ApplicationSpec{Source: weirv1.GitSource{URL: url}}}
	}
	builder := fake.NewClientBuilder().WithScheme(s)
	var many []*weirv1.Application
	for i := range 100 {
		many = append(many, app(fmt.Sprintf("mono-%d", i), "https://git.example.com/mono"))
		builder = builder.WithObjects(many[i])
	}
	one := app("shop", "https://git.example.com/shop")
	r := &ApplicationReconciler{Client: builder.WithObjects(one).Build()}
	q := priorityqueue.New[reconcile.Request]("applications")
	defer q.ShutDown()
	q.AddWithOpts(priorityqueue.AddOpts{Priority: poll(0).Priority}, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "polled", Name: "app"}})
	push := enqueueBy(r.pushPriority)
	for _, a := range many {
		push.Generic(t.Context(), event.GenericEvent{Object: a}, q)
	}
	push.Generic(t.Context(), event.GenericEvent{Object: one}, q)
	for _, want := range []string{"shop", "mono-0", "mono-1"} {
		got, priority, _ := q.GetWithPriority()
		if got.Namespace != want {
			t.Fatalf("the request taken is %s at priority %d, want %s/app", got, priority, want)
		}
		q.Done(got)
	}
	if p := refreshPriority(100000); p <= handler.LowPriority || p >= driftPriority || refreshPriority(1) != 0 {
		t.Errorf("refreshPriority ranges to %d from %d, want between polls (%d) and drift (%d), from 0", p, refreshPriority(1), handler.LowPriority, driftPriority)
	}
}
