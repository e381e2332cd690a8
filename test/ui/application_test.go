package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// secret is a Secret manifest with one value, as a Secret in Git would be
// before SOPS: the UI must never show its value.
func secret(name, key, value string) string {
	return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + name + "\nstringData:\n  " + key + ": " + value + "\n"
}

// A user opens an Application: the tree shows its Deployment's
// ReplicaSet and Pods, and the history and conditions; after someone
// scales the Deployment by hand, the live diff shows the change, the
// drift report names who made it, and a Secret's values stay masked.
func TestTheApplicationPageShowsTheTreeAndTheDiffWithSecretsMasked(t *testing.T) {
	const password, changed = "hunter2-in-git", "hunter3-by-hand"
	a := newApp(t, map[string]string{
		"web.yaml":    fixture.Deployment("web", 2, "shop:v1"),
		"secret.yaml": secret("db", "password", password),
	})
	url := serveUI(t, testenv.Config(t), false)
	ctx := browser(t, 3*time.Minute)

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/apps/"+a.ns+"/shop")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "Deployment "+a.ns+"/web")
	waitText(t, ctx, "ReplicaSet "+a.ns+"/web-")
	waitPods(t, ctx, 2)
	waitText(t, ctx, "Secret "+a.ns+"/db")
	waitText(t, ctx, "Sync now")
	screenshot(t, ctx, "application")

	// kubectl scale deployment web --replicas=5, and a hand edit of the Secret.
	scale := &appsv1.Deployment{}
	scale.Namespace, scale.Name = a.ns, "web"
	if err := a.c.Patch(context.Background(), scale, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"replicas":5}}`)), client.FieldOwner("kubectl-scale")); err != nil {
		t.Fatal(err)
	}
	sec := &corev1.Secret{}
	sec.Namespace, sec.Name = a.ns, "db"
	if err := a.c.Patch(context.Background(), sec, client.RawPatch("application/merge-patch+json", []byte(`{"stringData":{"password":"`+changed+`"}}`)), client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	waitPods(t, ctx, 5) // live: the tree follows the scale
	waitText(t, ctx, "kubectl-scale")
	screenshot(t, ctx, "application-drifted")

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/apps/"+a.ns+"/shop/diff")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "objects differ")
	waitText(t, ctx, "-  replicas: 5")
	waitText(t, ctx, "+  replicas: 2")
	waitText(t, ctx, "*** (changed)")
	screenshot(t, ctx, "diff")
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.documentElement.outerHTML"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{password, changed} {
		if strings.Contains(html, v) {
			t.Errorf("the diff page shows the Secret's value %q", v)
		}
	}
}

// waitPods waits until the tree lists n Pods, all Current.
func waitPods(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	js := `[...document.querySelectorAll(".tree .kind")].filter(e => e.textContent === "Pod" && e.parentElement.querySelector(".badge").textContent === "Current").length === ` + itoa(n)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		text, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string]("document.querySelector('.tree') && document.querySelector('.tree').innerText"))
		t.Fatalf("the tree never showed %d Current pods: %v; it shows:\n%s", n, err, text)
	}
}
