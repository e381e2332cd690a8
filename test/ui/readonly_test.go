package ui

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// A user whose token may only read signs in to the UI served with
// --login: the pages show no action, say why, and an action forged
// without the CSRF token, or with it, is refused with 403 and changes
// nothing.
func TestAReadOnlyUserSeesNoActionsAndAForgedActionIsRefused(t *testing.T) {
	a := newApp(t, map[string]string{"web.yaml": fixture.Deployment("web", 1, "shop:v1")})
	if err := a.c.Create(context.Background(), standaloneRollout(a.ns)); err != nil {
		t.Fatal(err)
	}
	token := readOnlyToken(t, a)
	url := serveUI(t, testenv.Config(t), true)
	ctx := browser(t, 2*time.Minute)

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/apps/"+a.ns+"/shop")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "paste a Kubernetes bearer token") // sent to sign in first
	screenshot(t, ctx, "login")
	signIn(t, ctx, token, "system:serviceaccount:"+a.ns+":viewer")
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/apps/"+a.ns+"/shop")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "Deployment "+a.ns+"/web")
	waitText(t, ctx, "You may not patch applications.weir.dev in namespace "+a.ns)
	noActions(t, ctx)
	screenshot(t, ctx, "application")

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/rollouts/"+a.ns+"/web")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "You may not patch rollouts.weir.dev in namespace "+a.ns)
	noActions(t, ctx)

	for name, csrf := range map[string]string{
		"no token":                              `""`,
		"forged token":                          `"forged"`,
		"the session's token, but RBAC forbids": `document.querySelector("input[name=csrf]").value`,
	} {
		js := `fetch("/apps/` + a.ns + `/shop/sync", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "csrf=" + encodeURIComponent(` + csrf + `)}).then(r => r.status)`
		status, err := chromedp.Run(ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if status != 403 {
			t.Errorf("%s: a sync forged by the read-only user answered %d, want 403", name, status)
		}
	}
	app := &weirv1.Application{}
	if err := a.c.Get(context.Background(), client.ObjectKeyFromObject(a.obj), app); err != nil {
		t.Fatal(err)
	}
	if v, ok := app.Annotations[weirv1.RequestedSyncAnnotation]; ok {
		t.Errorf("a refused sync was requested anyway: %s=%s", weirv1.RequestedSyncAnnotation, v)
	}
}

// signIn pastes token on the login page the browser shows and waits
// until it is signed in as user.
func signIn(t *testing.T, ctx context.Context, token, user string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void]("document.getElementById('token').value = "+jsString(token)),
		chromedp.Click(chromedp.CSS(".login button")),
	); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "Signed in as "+user)
}

// standaloneRollout is a Rollout web that no Application applied, so that
// weir leaves it alone: its page shows its spec.
func standaloneRollout(ns string) *weirv1.Rollout {
	return &weirv1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: weirv1.RolloutSpec{TargetRef: weirv1.LocalObjectReference{Name: "web"}, Strategy: weirv1.RolloutStrategy{
			Canary: &weirv1.CanaryStrategy{Service: "web", Steps: []weirv1.CanaryStep{{SetWeight: ptr(int32(25))}, {Pause: &weirv1.RolloutPause{}}}},
		}},
	}
}

func ptr[T any](v T) *T { return &v }

// noActions fails the test if the page offers an action.
func noActions(t *testing.T, ctx context.Context) {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("main form[method=post] button").length`))
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the page offers %d actions to a user who may only read", n)
	}
}

// readOnlyToken is a token of ServiceAccount viewer in the app's
// namespace, bound to the built-in view ClusterRole and to reading weir's
// Applications and Rollouts there.
func readOnlyToken(t *testing.T, a *app) string {
	t.Helper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "viewer"}}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "weir-read"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"weir.dev"}, Resources: []string{"applications", "rollouts"}, Verbs: []string{"get", "list", "watch"}}},
	}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: a.ns, Name: "viewer"}}
	view := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "viewer-view"}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}}
	read := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "viewer-weir-read"}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "weir-read"}}
	for _, obj := range []client.Object{sa, role, view, read} {
		if err := a.c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := kubernetes.NewForConfig(testenv.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	ttl := int64(600)
	tr, err := cs.CoreV1().ServiceAccounts(a.ns).CreateToken(ctx, "viewer", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &ttl}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}
