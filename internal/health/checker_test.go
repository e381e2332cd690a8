package health

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/testenv"
)

func TestDeploymentBecomesCurrentAfterRollout(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := testenv.Context(t, 2*time.Minute)
	deploy := deployment(ns, "web", nil)
	if err := testenv.Client(t).Create(ctx, deploy); err != nil {
		t.Fatal(err)
	}

	report, err := newChecker(t).Wait(ctx, []v1alpha1.ObjectRef{deploymentRef(ns, "web")}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !report.Healthy() || report.Objects[0].Status != Current {
		t.Fatalf("report after Wait: %s", report)
	}
	if !strings.Contains(report.Objects[0].Message, "Deployment is available") {
		t.Errorf("message = %q", report.Objects[0].Message)
	}
}

func TestWaitTimesOutNamingDeploymentThatNeverBecomesAvailable(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := testenv.Context(t, time.Minute)
	// No node matches, so its pod stays Pending and it never becomes available.
	stuck := deployment(ns, "stuck", map[string]string{"weir.dev/no-such-node": "true"})
	if err := testenv.Client(t).Create(ctx, stuck); err != nil {
		t.Fatal(err)
	}
	refs := []v1alpha1.ObjectRef{deploymentRef(ns, "stuck")}

	start := time.Now()
	report, err := newChecker(t).Wait(ctx, refs, 3*time.Second)
	if err == nil {
		t.Fatalf("Wait succeeded for a Deployment no node can run: %s", report)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Wait took %s with a 3s timeout", elapsed)
	}
	for _, want := range []string{"not healthy within 3s", "apps/Deployment " + ns + "/stuck", "InProgress", "Available: 0/1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if report.Healthy() || len(report.Objects) != 1 {
		t.Errorf("report returned with the error: %s", report)
	}
}

// TestWaitChecksAtOnceThenBacksOff: objects Current as applied cost no
// wait at all; a rollout is checked again after 50 ms, then 100 ms, and so
// on up to the interval, not a whole interval after the apply.
func TestWaitChecksAtOnceThenBacksOff(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := testenv.Context(t, 2*time.Minute)
	c := testenv.Client(t)
	config := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns}}
	if err := c.Create(ctx, config); err != nil {
		t.Fatal(err)
	}
	checker, waits := recordingChecker(t)
	checker.Interval = 400 * time.Millisecond
	configRef := v1alpha1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "settings"}
	if _, err := checker.Wait(ctx, []v1alpha1.ObjectRef{configRef}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if len(*waits) != 0 {
		t.Errorf("a ConfigMap, Current as created, was waited for: %v", *waits)
	}

	if err := c.Create(ctx, deployment(ns, "web", nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := checker.Wait(ctx, []v1alpha1.ObjectRef{deploymentRef(ns, "web")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if len(*waits) == 0 {
		t.Fatal("a Deployment just created was Current at once; the test proves nothing")
	}
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
	for i, got := range *waits {
		w := 400 * time.Millisecond
		if i < len(want) {
			w = want[i]
		}
		if got != w {
			t.Fatalf("waits between checks = %v, want 50ms doubling up to the 400ms interval", *waits)
		}
	}
}

// recordingChecker is newChecker that records each wait between checks.
func recordingChecker(t *testing.T) (*Checker, *[]time.Duration) {
	t.Helper()
	c := newChecker(t)
	var waits []time.Duration
	c.after = func(d time.Duration) <-chan time.Time {
		waits = append(waits, d)
		return time.After(d)
	}
	return c, &waits
}

func TestCheckReportsMissingObjectsAsNotFound(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := testenv.Context(t, 30*time.Second)
	refs := []v1alpha1.ObjectRef{
		{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "absent"},
		{Group: "example.com", Version: "v1", Kind: "Gadget", Namespace: ns, Name: "absent"},
	}

	report, err := newChecker(t).Check(ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range report.Objects {
		if s.Status != NotFound || s.Object != refs[i] {
			t.Errorf("object %d: %+v, want NotFound for %+v", i, s, refs[i])
		}
	}
	if report.Healthy() {
		t.Error("a report of missing objects is Healthy")
	}
}

// TestCheckListsEachKindOnce: the objects weir manages of one kind in one
// namespace are read with one list; one without weir's label, or missing,
// with a GET of its own.
func TestCheckListsEachKindOnce(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := testenv.Context(t, time.Minute)
	c := testenv.Client(t)
	var refs []v1alpha1.ObjectRef
	for i := range 5 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("managed-%d", i), Namespace: ns, Labels: map[string]string{apply.ManagedByLabel: "weir"}}}
		if err := c.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, v1alpha1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: cm.Name})
	}
	if err := c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "unlabelled", Namespace: ns}}); err != nil {
		t.Fatal(err)
	}
	refs = append(refs,
		v1alpha1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "unlabelled"},
		v1alpha1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "absent"})
	checker := newChecker(t)
	requests := countRequests(t, checker)

	report, err := checker.Check(ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range report.Objects {
		want := Current
		if refs[i].Name == "absent" {
			want = NotFound
		}
		if s.Object != refs[i] || s.Status != want {
			t.Errorf("object %d: %s, want %s for %s", i, s, want, refs[i])
		}
	}
	if *requests != 3 {
		t.Errorf("%d requests to check 7 ConfigMaps, want 3: a list of the managed ones and a GET of each other", *requests)
	}
}

// TestCheckReadsEachObjectWhenItMayNotList: an identity allowed to get
// the objects of a set, by name, but not to list them, still reads their
// health.
func TestCheckReadsEachObjectWhenItMayNotList(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := testenv.Context(t, time.Minute)
	c := testenv.Client(t)
	names := []string{"first", "second"}
	var refs []v1alpha1.ObjectRef
	for _, name := range names {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{apply.ManagedByLabel: "weir"}}}
		if err := c.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, v1alpha1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: name})
	}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "get-only", Namespace: ns},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: names, Verbs: []string{"get"}}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "get-only", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "get-only"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "getter"}},
	}
	for _, obj := range []client.Object{role, binding} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	checker := newChecker(t)
	cfg := rest.CopyConfig(testenv.Config(t))
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "getter"}
	getter, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	checker.client = getter

	report, err := checker.Check(ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	if !report.Healthy() || len(report.Objects) != 2 {
		t.Errorf("report read by an identity that may only get: %s", report)
	}
}

// countRequests points checker's client at a transport that counts the
// requests it sends.
func countRequests(t *testing.T, checker *Checker) *int {
	t.Helper()
	var n int
	cfg := rest.CopyConfig(testenv.Config(t))
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			n++
			return rt.RoundTrip(req)
		})
	})
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	checker.client = client
	return &n
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// TestRunningJobIsInProgressUntilComplete: a started Job whose pod cannot
// run is not healthy; one that completes is.
func TestRunningJobIsInProgressUntilComplete(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := testenv.Context(t, 2*time.Minute)
	c := testenv.Client(t)
	for name, nodeSelector := range map[string]map[string]string{"stuck": {"weir.dev/no-such-node": "true"}, "done": nil} {
		if err := c.Create(ctx, job(ns, name, nodeSelector)); err != nil {
			t.Fatal(err)
		}
	}
	checker := newChecker(t)
	stuck := []v1alpha1.ObjectRef{jobRef(ns, "stuck")}
	testenv.Eventually(t, time.Minute, "the stuck Job started", func(ctx context.Context) error {
		var j batchv1.Job
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "stuck"}, &j); err != nil || j.Status.StartTime == nil {
			return fmt.Errorf("not started: %v", err)
		}
		return nil
	})

	report, err := checker.Check(ctx, stuck)
	if err != nil {
		t.Fatal(err)
	}
	if s := report.Objects[0]; s.Status != InProgress || !strings.Contains(s.Message, "Job in progress") {
		t.Errorf("a started Job whose pod cannot run: %s", s)
	}
	if _, err := checker.Wait(ctx, []v1alpha1.ObjectRef{jobRef(ns, "done")}, time.Minute); err != nil {
		t.Errorf("a Job that completes: %v", err)
	}
}

func jobRef(ns, name string) v1alpha1.ObjectRef {
	return v1alpha1.ObjectRef{Group: "batch", Version: "v1", Kind: "Job", Namespace: ns, Name: name}
}

func job(ns, name string, nodeSelector map[string]string) *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: batchv1.JobSpec{
			Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					NodeSelector:  nodeSelector,
					Containers:    []corev1.Container{{Name: "migrate", Image: "registry.example/migrate:1"}},
				},
			},
		},
	}
}

func newChecker(t *testing.T) *Checker {
	t.Helper()
	cfg := testenv.Config(t)
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	c := NewChecker(client, mapper)
	c.Interval = 200 * time.Millisecond
	return c
}

func deploymentRef(ns, name string) v1alpha1.ObjectRef {
	return v1alpha1.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: name}
}

func deployment(ns, name string, nodeSelector map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: nodeSelector,
					Containers:   []corev1.Container{{Name: "app", Image: "registry.example/app:1"}},
				},
			},
		},
	}
}
