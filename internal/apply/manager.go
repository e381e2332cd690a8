package apply

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"weir.dev/weir/api/v1alpha1"
)

// DefaultFieldManager is the field manager weir applies as.
const DefaultFieldManager = "weir"

// ManagedByLabel is set on every object Apply applies, to the field
// manager's name. Owning this field means weir appears in the managedFields
// of every object it applied, even of one that declares no other field (a
// bare Namespace), which Prune relies on; watches can select it.
const ManagedByLabel = "weir.dev/managed-by"

// Options configure a Manager.
type Options struct {
	// FieldManager names weir in managedFields; the default is "weir". Prune
	// only deletes objects that still carry this manager.
	FieldManager string
	// Labels are set on every object applied, over the object's own, for
	// example to record which Application it belongs to.
	Labels map[string]string
	// Concurrency is how many objects are applied, dry-run or diffed at
	// once; the default is 4.
	Concurrency int
	// TakeOverManagers are the field managers whose fields weir takes over
	// when it applies an object they wrote, so that a field removed from
	// Git is removed from the cluster; the default is
	// DefaultTakeOverManagers.
	TakeOverManagers []string
	// DryRunNamespace is where Validate dry-runs an object whose namespace
	// does not exist yet because it arrives in the same set; the default is
	// "default". It must exist.
	DryRunNamespace string
}

func (o Options) withDefaults() Options {
	if o.FieldManager == "" {
		o.FieldManager = DefaultFieldManager
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.TakeOverManagers == nil {
		o.TakeOverManagers = DefaultTakeOverManagers
	}
	if o.DryRunNamespace == "" {
		o.DryRunNamespace = "default"
	}
	return o
}

// Manager applies sets of objects to one cluster with server-side apply.
// It is safe for concurrent use.
type Manager struct {
	opts     Options
	client   dynamic.Interface
	metadata metadata.Interface
	mapper   *Mapper
	// owners reads the Applications that own objects, as weir: who
	// Manager acts as (As) may not read them.
	owners metadata.Interface
}

// NewManager returns a Manager for the cluster cfg points at.
func NewManager(cfg *rest.Config, opts Options) (*Manager, error) {
	mapper, err := NewMapper(cfg)
	if err != nil {
		return nil, err
	}
	m := &Manager{opts: opts.withDefaults(), mapper: mapper}
	if err := m.connect(cfg); err != nil {
		return nil, err
	}
	m.owners = m.metadata
	return m, nil
}

// As returns a Manager that sends every request for the objects it applies
// with cfg (one that impersonates, say), and shares m's options, mapper and
// reads of the Applications that own objects.
func (m *Manager) As(cfg *rest.Config) (*Manager, error) {
	as := &Manager{opts: m.opts, mapper: m.mapper, owners: m.owners}
	return as, as.connect(cfg)
}

// On returns a Manager for another cluster, which cfg reaches: with a
// mapper of its own, and m's options and reads of the Applications that
// own objects, which live in m's cluster.
func (m *Manager) On(cfg *rest.Config) (*Manager, error) {
	mapper, err := NewMapper(cfg)
	if err != nil {
		return nil, err
	}
	on := &Manager{opts: m.opts, mapper: mapper, owners: m.owners}
	return on, on.connect(cfg)
}

// connect makes m's clients for cfg. A config without rate limits gets
// generous ones, since a sync sends a few requests per object.
func (m *Manager) connect(cfg *rest.Config) error {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 && cfg.RateLimiter == nil {
		cfg.QPS, cfg.Burst = 50, 300
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return fmt.Errorf("HTTP client: %w", err)
	}
	if m.client, err = dynamic.NewForConfigAndClient(cfg, httpClient); err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	if m.metadata, err = metadata.NewForConfigAndClient(cfg, httpClient); err != nil {
		return fmt.Errorf("metadata client: %w", err)
	}
	return nil
}

// Client is the dynamic client the Manager uses, for stages that read the
// same objects (health, drift).
func (m *Manager) Client() dynamic.Interface { return m.client }

// RESTMapper is the Manager's mapper; it learns kinds the Manager's CRDs add.
func (m *Manager) RESTMapper() meta.RESTMapper { return m.mapper }

// resource returns the client for ref's kind and namespace; for any
// version of the kind when ref has none.
func (m *Manager) resource(ctx context.Context, ref v1alpha1.ObjectRef) (dynamic.ResourceInterface, error) {
	mapping, err := m.mapper.RESTMappingWithContext(ctx, schema.GroupKind{Group: ref.Group, Kind: ref.Kind}, ref.Version)
	if err != nil {
		return nil, err
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return m.client.Resource(mapping.Resource).Namespace(ref.Namespace), nil
	}
	return m.client.Resource(mapping.Resource), nil
}

// Discovery, which Kubernetes grants every authenticated user by default.
// +kubebuilder:rbac:urls=/api;/api/*;/apis;/apis/*,verbs=get

// Mapper maps kinds to resources from the server's discovery information.
// When asked for a kind it does not know, it rediscovers before answering
// NoMatch (at most once per rediscoverInterval, so that a set full of
// unknown kinds does not rediscover for each), so kinds added by CRDs since
// it was built are found.
type Mapper struct {
	meta.RESTMapper
	deferred  *restmapper.DeferredDiscoveryRESTMapper
	discovery discovery.CachedDiscoveryInterface

	mu         sync.Mutex
	discovered time.Time // when the cache was last emptied
}

// rediscoverInterval is the least time between rediscoveries on NoMatch.
const rediscoverInterval = time.Second

// NewMapper returns a Mapper for the cluster cfg points at.
func NewMapper(cfg *rest.Config) (*Mapper, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	deferred := restmapper.NewDeferredDiscoveryRESTMapper(cached)
	return &Mapper{RESTMapper: deferred, deferred: deferred, discovery: cached}, nil
}

// RESTMapping maps a kind to its resource, rediscovering once on NoMatch.
func (m *Mapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	// meta.RESTMapper's methods take no context; discovery then runs without one.
	return m.RESTMappingWithContext(context.Background(), gk, versions...)
}

// RESTMappingWithContext is RESTMapping with a context for discovery.
func (m *Mapper) RESTMappingWithContext(ctx context.Context, gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	mapping, err := m.deferred.RESTMappingWithContext(ctx, gk, versions...)
	if meta.IsNoMatchError(err) && m.resetIfStale(ctx) {
		mapping, err = m.deferred.RESTMappingWithContext(ctx, gk, versions...)
	}
	return mapping, err
}

// Reset forgets what the Mapper discovered; the next lookup rediscovers.
func (m *Mapper) Reset(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deferred.ResetWithContext(ctx)
	m.discovered = time.Now()
}

// resetIfStale resets the Mapper unless it did within rediscoverInterval,
// and reports whether it did.
func (m *Mapper) resetIfStale(ctx context.Context) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if time.Since(m.discovered) < rediscoverInterval {
		return false
	}
	m.deferred.ResetWithContext(ctx)
	m.discovered = time.Now()
	return true
}

// Ref identifies obj: its group, version, kind, namespace and name.
func Ref(obj *unstructured.Unstructured) v1alpha1.ObjectRef {
	gvk := obj.GroupVersionKind()
	return v1alpha1.ObjectRef{
		Group:     gvk.Group,
		Version:   gvk.Version,
		Kind:      gvk.Kind,
		Namespace: obj.GetNamespace(),
		Name:      obj.GetName(),
	}
}
