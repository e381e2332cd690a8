package drift

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/testenv"
)

// quiet is how long a test waits to be sure no notification comes.
const quiet = 2 * time.Second

// TestWatcherNotifiesOnlyOfOutsideChangesToTrackedObjects, whether it
// watches a kind per namespace or in all of them at once.
func TestWatcherNotifiesOnlyOfOutsideChangesToTrackedObjects(t *testing.T) {
	for _, mode := range watchModes(t) {
		t.Run(mode.name, func(t *testing.T) { testOutsideChanges(t, mode.allNamespaces) })
	}
}

type watchMode struct {
	name          string
	allNamespaces func(schema.GroupVersionResource) bool
}

// watchModes are a watcher that watches per namespace, and one that may
// watch in all namespaces, as the cluster's administrator may.
func watchModes(t *testing.T) []watchMode {
	reviews := kubernetes.NewForConfigOrDie(testenv.Config(t)).AuthorizationV1().SelfSubjectAccessReviews()
	return []watchMode{{"per namespace", nil}, {"all namespaces", AllNamespacesAllowed(reviews)}}
}

// newWatcher starts a Watcher of the test cluster until the test ends.
func newWatcher(t *testing.T, allNamespaces func(schema.GroupVersionResource) bool) *Watcher {
	t.Helper()
	cfg := testenv.Config(t)
	mapper, err := apply.NewMapper(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWatcher(metadata.NewForConfigOrDie(cfg), mapper, apply.ManagedByLabel+"=weir", "weir", allNamespaces)
	ctx := testenv.Context(t, 2*time.Minute)
	go func() { _ = w.Start(ctx) }()
	return w
}

func testOutsideChanges(t *testing.T, allNamespaces func(schema.GroupVersionResource) bool) {
	ns := testenv.Namespace(t)
	ctx := testenv.Context(t, 2*time.Minute)
	kube := kubernetes.NewForConfigOrDie(testenv.Config(t))
	w := newWatcher(t, allNamespaces)

	applyConfigMap := func(name, manager, value string, labels map[string]string) {
		t.Helper()
		cm := corev1apply.ConfigMap(name, ns).WithLabels(labels).WithData(map[string]string{"k": value})
		if _, err := kube.CoreV1().ConfigMaps(ns).Apply(ctx, cm, metav1.ApplyOptions{FieldManager: manager, Force: true}); err != nil {
			t.Fatal(err)
		}
	}
	managed := map[string]string{apply.ManagedByLabel: "weir"}
	applyConfigMap("managed", "weir", "1", managed)
	applyConfigMap("other", "weir", "1", managed)
	applyConfigMap("unrelated", "someone", "1", nil)

	app := types.NamespacedName{Namespace: ns, Name: "shop"}
	inventory := []weirv1.ObjectRef{{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "managed"}}
	if first, err := w.Track(app, inventory); !first || err != nil {
		t.Fatalf("first Track = %v, %v; want true, nil", first, err)
	}
	if first, err := w.Track(app, inventory); first || err != nil {
		t.Fatalf("second Track = %v, %v; want false, nil", first, err)
	}
	time.Sleep(time.Second) // let the informer list before the changes start

	for i := range 5 {
		applyConfigMap("unrelated", "someone", fmt.Sprint(i), nil)
		applyConfigMap("other", "kubectl", fmt.Sprint(i), managed) // managed, but not by this app
	}
	applyConfigMap("managed", "weir", "2", managed)
	expectNoEvent(t, w, "weir's own apply, an unrelated object and another app's object")

	applyConfigMap("managed", "kubectl-edit", "3", managed)
	expectEvent(t, w, app, "managed")

	if err := kube.CoreV1().ConfigMaps(ns).Delete(ctx, "managed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, w, app, "managed")

	applyConfigMap("managed", "weir", "4", managed)
	w.Forget(app)
	applyConfigMap("managed", "kubectl-edit", "5", managed)
	expectNoEvent(t, w, "an edit after Forget")
}

// TestOneWatchPerKindInAllNamespacesWhenAllowed: the objects of
// Applications in two namespaces take one watch of their kind when weir may
// watch it in all namespaces, one per namespace otherwise, and no watch once
// forgotten.
func TestOneWatchPerKindInAllNamespacesWhenAllowed(t *testing.T) {
	for _, mode := range watchModes(t) {
		t.Run(mode.name, func(t *testing.T) {
			w := newWatcher(t, mode.allNamespaces)
			var apps []types.NamespacedName
			for range 2 {
				ns := testenv.Namespace(t)
				app := types.NamespacedName{Namespace: ns, Name: "shop"}
				if _, err := w.Track(app, []weirv1.ObjectRef{{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "cfg"}}); err != nil {
					t.Fatal(err)
				}
				apps = append(apps, app)
			}
			want := 2
			if mode.allNamespaces != nil {
				want = 1
			}
			if got := watches(w); got != want {
				t.Errorf("%d watches, want %d", got, want)
			}
			for _, app := range apps {
				w.Forget(app)
			}
			if got := watches(w); got != 0 {
				t.Errorf("%d watches once every Application is forgotten, want none", got)
			}
		})
	}
}

func watches(w *Watcher) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.watches)
}

func expectEvent(t *testing.T, w *Watcher, app types.NamespacedName, object string) {
	t.Helper()
	select {
	case e := <-w.Events():
		if got := (types.NamespacedName{Namespace: e.Object.GetNamespace(), Name: e.Object.GetName()}); got != app {
			t.Fatalf("notified %v, want %v", got, app)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no notification for %s", object)
	}
	suspects := w.Suspects(app)
	if len(suspects) != 1 || suspects[0].Name != object {
		t.Fatalf("Suspects = %v, want just %s", suspects, object)
	}
	drain(w)
}

func expectNoEvent(t *testing.T, w *Watcher, what string) {
	t.Helper()
	select {
	case e := <-w.Events():
		t.Fatalf("%s notified %s/%s", what, e.Object.GetNamespace(), e.Object.GetName())
	case <-time.After(quiet):
	}
}

// drain drops the notifications a change sent after the first.
func drain(w *Watcher) {
	for {
		select {
		case <-w.Events():
		case <-time.After(200 * time.Millisecond):
			return
		}
	}
}

// TestLastChangeMovesWithEveryChangeOfATrackedObject: the mark stays while
// nothing changes, and with weir's own apply alone (the sync that applies
// judges it), and moves with a status update (which is no drift) and
// another's edit; it says nothing until the watch has listed, and
// for an Application not tracked.
func TestLastChangeMovesWithEveryChangeOfATrackedObject(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := testenv.Context(t, 2*time.Minute)
	kube := kubernetes.NewForConfigOrDie(testenv.Config(t))
	w := newWatcher(t, nil)
	managed := map[string]string{apply.ManagedByLabel: "weir"}
	applyService := func(manager string, svc *corev1apply.ServiceApplyConfiguration, status bool) {
		t.Helper()
		var err error
		if status {
			_, err = kube.CoreV1().Services(ns).ApplyStatus(ctx, svc, metav1.ApplyOptions{FieldManager: manager, Force: true})
		} else {
			_, err = kube.CoreV1().Services(ns).Apply(ctx, svc, metav1.ApplyOptions{FieldManager: manager, Force: true})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	spec := func(port int32) *corev1apply.ServiceApplyConfiguration {
		return corev1apply.Service("web", ns).WithLabels(managed).
			WithSpec(corev1apply.ServiceSpec().WithType("LoadBalancer").WithPorts(corev1apply.ServicePort().WithPort(port)))
	}
	applyService("weir", spec(80), false)

	app := types.NamespacedName{Namespace: ns, Name: "shop"}
	if _, watched := w.LastChange(app); watched {
		t.Fatal("LastChange of an untracked Application is watched")
	}
	if _, err := w.Track(app, []weirv1.ObjectRef{{Version: "v1", Kind: "Service", Namespace: ns, Name: "web"}}); err != nil {
		t.Fatal(err)
	}
	mark := waitWatched(t, w, app)
	time.Sleep(quiet)
	if now, watched := w.LastChange(app); now != mark || !watched {
		t.Fatalf("LastChange moved from %d to %d (watched %v) with nothing changed", mark, now, watched)
	}

	ingress := corev1apply.Service("web", ns).WithStatus(corev1apply.ServiceStatus().
		WithLoadBalancer(corev1apply.LoadBalancerStatus().WithIngress(corev1apply.LoadBalancerIngress().WithIP("10.0.0.1"))))
	applyService("cloud-controller", ingress, true)
	mark = waitMoved(t, w, app, mark, "a status update")
	expectNoEvent(t, w, "a status update")

	applyService("weir", spec(81), false)
	time.Sleep(quiet)
	if now, _ := w.LastChange(app); now != mark {
		t.Fatalf("LastChange moved from %d to %d with weir's own apply alone", mark, now)
	}
	applyService("kubectl-edit", corev1apply.Service("web", ns).WithAnnotations(map[string]string{"edited": "yes"}), false)
	waitMoved(t, w, app, mark, "another's edit")
}

// waitWatched waits until app's objects are watched, and returns the mark.
func waitWatched(t *testing.T, w *Watcher, app types.NamespacedName) uint64 {
	t.Helper()
	for range 300 {
		if mark, watched := w.LastChange(app); watched {
			return mark
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the objects are not watched after 30 s")
	return 0
}

// waitMoved waits until app's mark moves from mark, and returns the new one.
func waitMoved(t *testing.T, w *Watcher, app types.NamespacedName, mark uint64, what string) uint64 {
	t.Helper()
	for range 300 {
		if now, watched := w.LastChange(app); watched && now != mark {
			return now
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("LastChange did not move after %s", what)
	return 0
}
