package driftguard

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// BenchmarkAdmission measures what the policy adds to a request: a server
// dry-run update of a ConfigMap (admission runs, nothing is stored) as
// weir, with no binding, or with the bindings of 1 or 100 protected
// Applications that deploy to the ConfigMap's namespace ("here") or to
// another. The ConfigMap is weir's (its label, and one Application's owner
// annotation) or not ("other").
func BenchmarkAdmission(b *testing.B) {
	for _, bc := range []struct {
		name  string
		apps  int
		here  bool
		weirs bool
	}{
		{name: "no-binding"},
		{name: "100-here/other", apps: 100, here: true},
		{name: "100-elsewhere/weirs", apps: 100, weirs: true},
		{name: "1-here/weirs", apps: 1, here: true, weirs: true},
		{name: "100-here/weirs", apps: 100, here: true, weirs: true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := testenv.Context(b, 5*time.Minute)
			ns, elsewhere := testenv.Namespace(b), testenv.Namespace(b)
			c := testenv.Client(b, weirv1.AddToScheme)
			unlimited := unlimitedClient(b)
			guard := NewGuard(c, c, Options{})
			dest := elsewhere
			if bc.here {
				dest = ns
			}
			for i := range bc.apps {
				app := newApplication(b, c, ns, fmt.Sprintf("app-%d", i), ptr.To(true))
				app.Spec.Destination.Namespace = dest
				if err := guard.Guard(ctx, app); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = guard.Forget(context.Background(), types.NamespacedName{Namespace: ns, Name: app.Name}) })
			}
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bench"}, Data: map[string]string{"n": "start"}}
			if bc.weirs {
				cm.Labels, cm.Annotations = weirsLabel, map[string]string{weirv1.OwnerAnnotation: ns + "/app-0"}
			}
			if err := c.Create(ctx, cm); err != nil {
				b.Fatal(err)
			}
			time.Sleep(3 * time.Second) // the API server loads the bindings
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				cm.Data["n"] = fmt.Sprint(i)
				if err := unlimited.Update(ctx, cm, client.DryRunAll); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// unlimitedClient is an admin client without client-go's rate limit, which
// would otherwise be what the benchmark measures.
func unlimitedClient(b *testing.B) client.Client {
	cfg := testenv.Config(b)
	cfg.QPS = -1
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return c
}
