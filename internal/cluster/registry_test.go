package cluster

import (
	"context"
	"os"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// built is what the registry keeps in these tests: the host it was built
// for, whether its context ended, and whom it forgot.
type built struct {
	host   string
	ctx    context.Context
	forgot *[]types.NamespacedName
}

func (b built) Forget(app types.NamespacedName) { *b.forgot = append(*b.forgot, app) }

func (b built) stopped() bool { return b.ctx.Err() != nil }

func newTestRegistry(t *testing.T, secrets ...*corev1.Secret) (*Registry[built], *int) {
	t.Helper()
	c := fake.NewClientBuilder()
	for _, s := range secrets {
		c = c.WithObjects(s)
	}
	builds := 0
	r := NewRegistry(c.Build(), Options{}, func(ctx context.Context, _ types.NamespacedName, cfg *rest.Config) (built, error) {
		builds++
		return built{host: cfg.Host, ctx: ctx, forgot: &[]types.NamespacedName{}}, nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	go func() { _ = r.Start(ctx) }()
	for r.started() == nil {
		runtime.Gosched()
	}
	return r, &builds
}

func (r *Registry[T]) started() context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ctx
}

func kubeconfigSecret(t *testing.T, file string) *corev1.Secret {
	t.Helper()
	data, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "prod"}, Data: map[string][]byte{"value": data}}
}

func remoteApp(name, cluster string) *weirv1.Application {
	app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name}}
	app.Spec.Destination.Cluster = &weirv1.ClusterReference{SecretRef: weirv1.LocalObjectReference{Name: cluster}}
	return app
}

func TestRegistryBuildsOncePerSecretVersionAndStopsWhenUnused(t *testing.T) {
	secret := kubeconfigSecret(t, "token.yaml")
	r, builds := newTestRegistry(t, secret)
	web, api := remoteApp("web", "prod"), remoteApp("api", "prod")

	first, err := r.For(t.Context(), web)
	if err != nil {
		t.Fatal(err)
	}
	if second, err := r.For(t.Context(), api); err != nil || second.ctx != first.ctx || *builds != 1 {
		t.Fatalf("second Application: err %v, %d builds, want the first build shared", err, *builds)
	}
	if first.host != "https://prod.example.com:6443" {
		t.Errorf("built for %q", first.host)
	}

	r.Release(types.NamespacedName{Namespace: "team-a", Name: "web"})
	if first.stopped() || r.Len() != 1 {
		t.Fatal("stopped while api still targets the cluster")
	}
	r.Release(types.NamespacedName{Namespace: "team-a", Name: "api"})
	if !first.stopped() || r.Len() != 0 {
		t.Fatal("not stopped once no Application targets the cluster")
	}
	if len(*first.forgot) != 2 {
		t.Errorf("forgot %v, want web and api", *first.forgot)
	}
}

func TestRegistryRebuildsWhenTheSecretChanges(t *testing.T) {
	secret := kubeconfigSecret(t, "token.yaml")
	r, builds := newTestRegistry(t, secret)
	app := remoteApp("web", "prod")
	first, err := r.For(t.Context(), app)
	if err != nil {
		t.Fatal(err)
	}
	changed := kubeconfigSecret(t, "client-certificate-data.yaml")
	updateSecret(t, r, changed)

	second, err := r.For(t.Context(), app)
	if err != nil || *builds != 2 || !first.stopped() || second.stopped() {
		t.Fatalf("after the Secret changed: err %v, %d builds, old stopped %v, new stopped %v", err, *builds, first.stopped(), second.stopped())
	}

	updateSecret(t, r, kubeconfigSecret(t, "exec.yaml"))
	if _, err := r.For(t.Context(), app); !IsRefused(err) || !second.stopped() || r.Len() != 0 {
		t.Fatalf("after the Secret took an exec plugin: err %v, stopped %v, %d kept", err, second.stopped(), r.Len())
	}
}

// updateSecret replaces the data of the Secret the registry reads.
func updateSecret(t *testing.T, r *Registry[built], secret *corev1.Secret) {
	t.Helper()
	c := r.secrets.(client.Client)
	live := &corev1.Secret{}
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(secret), live); err != nil {
		t.Fatal(err)
	}
	live.Data = secret.Data
	if err := c.Update(t.Context(), live); err != nil {
		t.Fatal(err)
	}
}

func TestKeptNeitherBuildsNorTargets(t *testing.T) {
	secret := kubeconfigSecret(t, "token.yaml")
	r, builds := newTestRegistry(t, secret)
	web := remoteApp("web", "prod")
	if _, err := r.Kept(t.Context(), web); err == nil || *builds != 0 {
		t.Fatalf("before any Application synced: err %v, %d builds; want an error and no build", err, *builds)
	}
	first, err := r.For(t.Context(), remoteApp("api", "prod"))
	if err != nil {
		t.Fatal(err)
	}
	kept, err := r.Kept(t.Context(), web)
	if err != nil || kept.ctx != first.ctx || *builds != 1 {
		t.Fatalf("once api synced: err %v, %d builds; want api's build", err, *builds)
	}
	r.Release(types.NamespacedName{Namespace: "team-a", Name: "api"})
	if !first.stopped() || r.Len() != 0 {
		t.Fatal("still kept once api, the only Application that targets it, was released: Kept recorded web as a target")
	}
}
