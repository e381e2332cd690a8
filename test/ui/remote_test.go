package ui

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// pausedCanary is a Rollout of Deployment web that pauses at a quarter of
// the pods until promoted.
const pausedCanary = `apiVersion: weir.dev/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  targetRef: {name: web}
  progressDeadline: 1m
  strategy:
    canary:
      service: web
      steps:
      - setWeight: 25
      - pause: {}
`

// An Application that syncs to a remote cluster shows that cluster's
// objects: its page names the cluster (the kubeconfig Secret and the
// server), its tree is the remote Deployment with its ReplicaSets, and its
// Rollout, paused there, is promoted from the Rollout's page. A user who
// may not read the Secret is told so, with the API server's reason, and
// sees nothing of the remote cluster; one who may read it but not patch
// the Application is offered no action, and a forged one is refused.
func TestARemoteApplicationShowsAndSteersTheRemoteCluster(t *testing.T) {
	remote := testenv.Remote(t, 0)
	a := givenApp(t)
	a.workloads = registerRemote(t, remote, a.ns, "prod")
	a.create(map[string]string{
		"web.yaml":     fixture.Deployment("web", 4, "shop:v1"),
		"svc.yaml":     fixture.Service("web"),
		"rollout.yaml": pausedCanary,
	}, &weirv1.ClusterReference{SecretRef: weirv1.LocalObjectReference{Name: "prod"}})
	a.commit("Release v2", map[string]string{"web.yaml": fixture.Deployment("web", 4, "shop:v2")})
	a.rolloutPausedAt(1, 25)
	server := hostOf(t, remote.Config)
	url := serveUI(t, testenv.Config(t), false)
	ctx := browser(t, 3*time.Minute)

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/apps/"+a.ns+"/shop")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "remote: Secret "+a.ns+"/prod, server "+server)
	waitText(t, ctx, "Deployment "+a.ns+"/web")
	waitJS(t, ctx, "the remote Deployment's ReplicaSet and Pods in the tree", `["ReplicaSet", "Pod"].every(k => [...document.querySelectorAll(".tree .kind")].some(e => e.textContent === k))`)
	if text := pageText(t, ctx); strings.Contains(text, "cannot read") {
		t.Errorf("the tree of the remote Application reads objects it cannot find:\n%s", text)
	}
	screenshot(t, ctx, "application")

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href^="/rollouts/"]`))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "remote: Secret "+a.ns+"/prod, server "+server)
	waitText(t, ctx, "Paused")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#act-promote"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "Promote of Rollout "+a.ns+"/web requested.")
	waitJS(t, ctx, "the rollout done", `document.getElementById("phase").innerText === "Idle"`)
	ro := &weirv1.Rollout{}
	if err := a.workloads.Get(t.Context(), client.ObjectKey{Namespace: a.ns, Name: "web"}, ro); err != nil {
		t.Fatal(err)
	}
	if ro.Status.Phase != weirv1.RolloutIdle {
		t.Errorf("the remote Rollout is %s, want Idle", ro.Status.Phase)
	}
	screenshot(t, ctx, "promoted")

	viewerCannotReachTheRemoteCluster(t, a)
}

// viewerCannotReachTheRemoteCluster signs in as a user who may read the
// Application but not the Secret, then may read the Secret too.
func viewerCannotReachTheRemoteCluster(t *testing.T, a *app) {
	token := readOnlyToken(t, a)
	url := serveUI(t, testenv.Config(t), true)
	ctx := browser(t, 2*time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/login")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, token, "system:serviceaccount:"+a.ns+":viewer")
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/apps/"+a.ns+"/shop")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "The objects are on the remote cluster of Secret "+a.ns+"/prod")
	waitText(t, ctx, `secrets "prod" is forbidden`)
	trees, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".tree li").length`))
	if err != nil {
		t.Fatal(err)
	}
	if text := pageText(t, ctx); trees != 0 || strings.Contains(text, "server ") {
		t.Errorf("a user who may not read the Secret sees the remote cluster (%d objects):\n%s", trees, text)
	}
	screenshot(t, ctx, "no-secret")
	rollout := url + "/rollouts/" + a.ns + "/web?app=" + a.ns + "%2Fshop"
	if err := chromedp.Do(ctx, chromedp.Navigate(rollout)); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "read the kubeconfig Secret "+a.ns+"/prod")
	waitText(t, ctx, `secrets "prod" is forbidden`)

	testenv.Grant(t, a.ns, "viewer", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"prod"}, Verbs: []string{"get"}})
	if err := chromedp.Do(ctx, chromedp.Navigate(rollout)); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "steering it takes patch on its Application "+a.ns+"/shop")
	noActions(t, ctx)
	js := `fetch("/rollouts/` + a.ns + `/web/abort?app=` + a.ns + `%2Fshop", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "csrf=" + encodeURIComponent(document.querySelector("input[name=csrf]").value)}).then(r => r.status)`
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != 403 {
		t.Errorf("an abort forged by a user who may not patch the Application answered %d, want 403", status)
	}
	ro := &weirv1.Rollout{}
	if err := a.workloads.Get(t.Context(), client.ObjectKey{Namespace: a.ns, Name: "web"}, ro); err != nil {
		t.Fatal(err)
	}
	if v, ok := ro.Annotations[weirv1.AbortAnnotation]; ok {
		t.Errorf("a refused abort reached the remote Rollout: %s=%s", weirv1.AbortAnnotation, v)
	}
}

// registerRemote makes remote serve weir's kinds and namespace ns, and
// registers it in ns as the cluster of kubeconfig Secret name; it returns
// an admin client of remote.
func registerRemote(t *testing.T, remote *localcluster.Cluster, ns, name string) client.Client {
	t.Helper()
	if _, err := installCRDs(remote.Config); err != nil {
		t.Fatalf("install weir's CRDs on the remote cluster: %v", err)
	}
	scheme := testenv.Scheme()
	if err := weirv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	rc, err := client.New(rest.CopyConfig(remote.Config), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if err := rc.Create(t.Context(), namespace); err != nil {
		t.Fatalf("create namespace %s on the remote cluster: %v", ns, err)
	}
	t.Cleanup(func() { _ = rc.Delete(context.Background(), namespace) })
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Data:       map[string][]byte{weirv1.ClusterKubeconfigKey: testenv.Kubeconfig(t, remote)},
	}
	if err := testenv.Client(t).Create(t.Context(), secret); err != nil {
		t.Fatalf("register the remote cluster: %v", err)
	}
	return rc
}

func hostOf(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	u, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
	if err != nil {
		t.Fatal(err)
	}
	return text
}
