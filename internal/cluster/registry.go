package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Defaults of Options.
const (
	DefaultTimeout = 15 * time.Second
	DefaultQPS     = 50
	DefaultBurst   = 300
)

// Options bound the requests to each remote cluster.
type Options struct {
	// Timeout bounds each request to a remote cluster (but watches); zero
	// means DefaultTimeout.
	Timeout time.Duration
	// QPS and Burst are each remote cluster's client-side rate limit,
	// shared by every identity weir acts as there; zero means
	// DefaultQPS and DefaultBurst.
	QPS   float32
	Burst int
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.QPS <= 0 {
		o.QPS = DefaultQPS
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	return o
}

// Forgetter is what a Registry keeps per cluster: told when an
// Application no longer targets the cluster.
type Forgetter interface {
	Forget(app types.NamespacedName)
}

// BuildFunc makes what a Registry keeps for one cluster from its client
// configuration, without a request to it; secret names the cluster's
// kubeconfig Secret. Whatever runs in the background for the cluster ends
// with ctx.
type BuildFunc[T Forgetter] func(ctx context.Context, secret types.NamespacedName, cfg *rest.Config) (T, error)

// Registry keeps, for each remote cluster that Applications target, what
// build makes of its kubeconfig Secret: made on first use, made again
// when the Secret changes, and stopped when no Application targets the
// cluster. It is a controller-runtime Runnable, for the leader: what it
// builds runs while Start does. It holds no lock across a request to a
// remote cluster.
type Registry[T Forgetter] struct {
	secrets client.Reader
	opts    Options
	build   BuildFunc[T]

	mu       sync.Mutex
	ctx      context.Context // set by Start
	clusters map[types.NamespacedName]*entry[T]
	targets  map[types.NamespacedName]types.NamespacedName // Application -> its cluster's Secret
}

// entry is one cluster: what was built from one version of its Secret.
type entry[T Forgetter] struct {
	version string // of the Secret
	value   T
	stop    context.CancelFunc
	probe   *Probe
	apps    map[types.NamespacedName]bool
}

// NewRegistry returns a Registry that reads kubeconfig Secrets with
// secrets (uncached: weir watches only what it manages).
func NewRegistry[T Forgetter](secrets client.Reader, opts Options, build BuildFunc[T]) *Registry[T] {
	return &Registry[T]{secrets: secrets, opts: opts.withDefaults(), build: build,
		clusters: map[types.NamespacedName]*entry[T]{}, targets: map[types.NamespacedName]types.NamespacedName{}}
}

// NeedLeaderElection is true: only the leader reconciles.
func (r *Registry[T]) NeedLeaderElection() bool { return true }

// Start keeps the clusters' background work running until ctx ends.
func (r *Registry[T]) Start(ctx context.Context) error {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
	<-ctx.Done()
	return nil
}

// SecretOf names the kubeconfig Secret of app's remote cluster; ok is
// false when app syncs to weir's own cluster.
func SecretOf(app *weirv1.Application) (key types.NamespacedName, ok bool) {
	name := app.RemoteCluster()
	return types.NamespacedName{Namespace: app.Namespace, Name: name}, name != ""
}

// For returns what the Registry keeps for app's remote cluster, and
// records that app targets it (and no other). A kubeconfig that Check
// refuses is a *RefusedError, and stops what was kept for the cluster.
func (r *Registry[T]) For(ctx context.Context, app *weirv1.Application) (T, error) {
	var none T
	key, secret, err := r.kubeconfigSecret(ctx, app)
	if err != nil {
		return none, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, err := r.current(key, secret)
	if err != nil {
		return none, err
	}
	r.target(types.NamespacedName{Namespace: app.Namespace, Name: app.Name}, key)
	return e.value, nil
}

// kubeconfigSecret reads the kubeconfig Secret of app's remote cluster.
func (r *Registry[T]) kubeconfigSecret(ctx context.Context, app *weirv1.Application) (types.NamespacedName, *corev1.Secret, error) {
	key, ok := SecretOf(app)
	if !ok {
		return key, nil, fmt.Errorf("application %s/%s names no remote cluster", app.Namespace, app.Name)
	}
	secret := &corev1.Secret{}
	if err := r.secrets.Get(ctx, key, secret); err != nil {
		return key, nil, fmt.Errorf("read the kubeconfig Secret %s: %w", key, err)
	}
	return key, secret, nil
}

// Kept returns what the Registry keeps for app's remote cluster without
// recording that app targets it, for readers of what its Applications
// applied there: the cluster must be kept for some Application already
// (see For). It is made again when the Secret has changed.
func (r *Registry[T]) Kept(ctx context.Context, app *weirv1.Application) (T, error) {
	var none T
	key, secret, err := r.kubeconfigSecret(ctx, app)
	if err != nil {
		return none, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.clusters[key] == nil {
		return none, fmt.Errorf("remote cluster of Secret %s: no Application syncs to it yet", key)
	}
	e, err := r.current(key, secret)
	if err != nil {
		return none, err
	}
	return e.value, nil
}

// current returns the entry built from secret's version, building it
// when the Secret is new or changed; r.mu is held.
func (r *Registry[T]) current(key types.NamespacedName, secret *corev1.Secret) (*entry[T], error) {
	old := r.clusters[key]
	if old != nil && old.version == secret.ResourceVersion {
		return old, nil
	}
	e, err := r.newEntry(secret)
	if old != nil {
		old.stop()
		delete(r.clusters, key)
		if e != nil {
			e.apps = old.apps
		} else {
			r.untarget(old.apps)
		}
	}
	if err != nil {
		return nil, err
	}
	r.clusters[key] = e
	return e, nil
}

func (r *Registry[T]) newEntry(secret *corev1.Secret) (*entry[T], error) {
	if r.ctx == nil {
		return nil, fmt.Errorf("remote cluster of Secret %s/%s: the registry is not started", secret.Namespace, secret.Name)
	}
	cfg, err := RESTConfig(secret)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = r.opts.Timeout
	cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(r.opts.QPS, r.opts.Burst)
	probe, err := NewProbe(cfg)
	if err != nil {
		return nil, fmt.Errorf("remote cluster of Secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	ctx, stop := context.WithCancel(r.ctx)
	value, err := r.build(ctx, client.ObjectKeyFromObject(secret), cfg)
	if err != nil {
		stop()
		return nil, fmt.Errorf("clients of the remote cluster of Secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	return &entry[T]{version: secret.ResourceVersion, value: value, stop: stop, probe: probe, apps: map[types.NamespacedName]bool{}}, nil
}

// untarget forgets the Applications of a cluster that is gone.
func (r *Registry[T]) untarget(apps map[types.NamespacedName]bool) {
	for app := range apps {
		delete(r.targets, app)
	}
}

// target records that app targets the cluster of key, and no other; r.mu
// is held.
func (r *Registry[T]) target(app, key types.NamespacedName) {
	if prev, ok := r.targets[app]; ok && prev != key {
		r.release(app)
	}
	r.targets[app] = key
	r.clusters[key].apps[app] = true
}

// Release records that app targets no remote cluster (deleted, suspended
// or syncing to weir's own cluster): its cluster forgets it, and is
// stopped when no Application targets it any more.
func (r *Registry[T]) Release(app types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.release(app)
}

func (r *Registry[T]) release(app types.NamespacedName) {
	key, ok := r.targets[app]
	if !ok {
		return
	}
	delete(r.targets, app)
	e := r.clusters[key]
	if e == nil {
		return
	}
	delete(e.apps, app)
	e.value.Forget(app)
	if len(e.apps) == 0 {
		e.stop()
		delete(r.clusters, key)
	}
}

// Reachable returns nil when app's remote cluster answered a request
// lately (see Probe), and otherwise why it did not. For must have been
// called for app first.
func (r *Registry[T]) Reachable(ctx context.Context, app *weirv1.Application) error {
	key, _ := SecretOf(app)
	r.mu.Lock()
	e := r.clusters[key]
	r.mu.Unlock()
	if e == nil {
		return fmt.Errorf("no remote cluster of Secret %s is kept", key)
	}
	if _, err := e.probe.ServerVersion(ctx); err != nil {
		return fmt.Errorf("remote cluster of Secret %s: %w", key, err)
	}
	return nil
}

// Len is how many remote clusters are kept.
func (r *Registry[T]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.clusters)
}
