package drift

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/event"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// eventBuffer is how many Application notifications wait for the
// controller before informers block.
const eventBuffer = 1024

// Watcher watches the objects Applications applied. It is a
// controller-runtime Runnable: informers run while Start does.
type Watcher struct {
	client metadata.Interface
	mapper meta.RESTMapper
	// self is weir's field manager; its writes are not drift.
	self string
	// selector limits every watch to objects weir applied.
	selector string
	// allNamespaces says whether weir may watch a resource in every
	// namespace at once.
	allNamespaces func(schema.GroupVersionResource) bool
	events        chan event.GenericEvent

	mu       sync.Mutex
	ctx      context.Context // set by Start; nil before
	owners   map[weirv1.ObjectRef]map[types.NamespacedName]bool
	tracked  map[types.NamespacedName]map[weirv1.ObjectRef]bool
	watches  map[watchKey]*kindWatch
	suspects map[types.NamespacedName]map[weirv1.ObjectRef]bool
	// everywhere holds, for each kind seen, whether it is watched in
	// every namespace at once.
	everywhere map[schema.GroupKind]bool
	// marks holds, for each Application, the mark of the last change seen
	// to its objects or its inventory; seq is the last mark given.
	marks map[types.NamespacedName]uint64
	seq   uint64
}

// watchKey names a watch: one kind in one namespace, or in all of them
// ("", and for cluster-scoped kinds).
type watchKey struct {
	gk        schema.GroupKind
	namespace string
}

// keyOf names the watch that sees ref: the one of its kind in every
// namespace when weir may watch it so, and otherwise the one of its
// namespace, so that weir runs with namespaced grants too. ref's kind must
// have been seen by watchKind.
func (w *Watcher) keyOf(ref weirv1.ObjectRef) watchKey {
	gk := schema.GroupKind{Group: ref.Group, Kind: ref.Kind}
	if w.everywhere[gk] {
		return watchKey{gk, ""}
	}
	return watchKey{gk, ref.Namespace}
}

// kindWatch is the informer of one kind in one namespace, shared by every
// Application that applied objects there, and stopped when none has any
// left.
type kindWatch struct {
	gvr     schema.GroupVersionResource
	objects int // tracked (Application, object) pairs of this kind
	stop    context.CancelFunc
	// synced reports whether the informer listed once; nil until it runs.
	synced func() bool
	// failed is the mark of the watch's last error: what changed while
	// it failed may not have been seen.
	failed uint64
}

// NewWatcher returns a Watcher that selects objects by label (weir's
// managed-by label and value) and ignores writes by fieldManager. A
// namespaced kind is watched in every namespace with one watch when
// allNamespaces says weir may (see AllNamespacesAllowed), and with one
// watch per namespace otherwise; nil always watches per namespace.
func NewWatcher(client metadata.Interface, mapper meta.RESTMapper, labelSelector, fieldManager string, allNamespaces func(schema.GroupVersionResource) bool) *Watcher {
	if allNamespaces == nil {
		allNamespaces = func(schema.GroupVersionResource) bool { return false }
	}
	return &Watcher{
		client:        client,
		mapper:        mapper,
		self:          fieldManager,
		selector:      labelSelector,
		allNamespaces: allNamespaces,
		events:        make(chan event.GenericEvent, eventBuffer),
		owners:        map[weirv1.ObjectRef]map[types.NamespacedName]bool{},
		tracked:       map[types.NamespacedName]map[weirv1.ObjectRef]bool{},
		watches:       map[watchKey]*kindWatch{},
		suspects:      map[types.NamespacedName]map[weirv1.ObjectRef]bool{},
		everywhere:    map[schema.GroupKind]bool{},
		marks:         map[types.NamespacedName]uint64{},
	}
}

// Events carries an Application each time an object it applied changes
// outside weir; feed it to the controller as a channel source.
func (w *Watcher) Events() <-chan event.GenericEvent { return w.events }

// NeedLeaderElection is true: only the leader reconciles, so only it watches.
func (w *Watcher) NeedLeaderElection() bool { return true }

// Start runs the watches until ctx ends.
func (w *Watcher) Start(ctx context.Context) error {
	w.mu.Lock()
	w.ctx = ctx
	for wk, kw := range w.watches {
		w.run(wk, kw)
	}
	w.mu.Unlock()
	<-ctx.Done()
	return nil
}

// Track sets the objects app applied, watching their kinds. It reports
// whether app was new to the Watcher: changes made before then were not
// seen, so the caller should check all of its objects once. An error names
// the kinds that cannot be watched; the others are.
func (w *Watcher) Track(app types.NamespacedName, inventory []weirv1.ObjectRef) (first bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	old, known := w.tracked[app]
	next := make(map[weirv1.ObjectRef]bool, len(inventory))
	var errs []error
	for _, ref := range inventory {
		key := ref.Key()
		next[key] = true
		if old[key] {
			continue
		}
		if err := w.watchKind(ref); err != nil {
			errs = append(errs, err)
			continue
		}
		w.own(key, app)
	}
	for key := range old {
		if !next[key] {
			w.disown(key, app)
		}
	}
	if !known || !maps.Equal(old, next) {
		w.mark(app)
	}
	w.tracked[app] = next
	return !known, errors.Join(errs...)
}

// Forget stops tracking app (deleted or suspended).
func (w *Watcher) Forget(app types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for key := range w.tracked[app] {
		w.disown(key, app)
	}
	delete(w.tracked, app)
	delete(w.suspects, app)
	delete(w.marks, app)
}

// LastChange returns a mark that moves whenever one of app's objects
// changes in any way (its status included) but by weir's own apply alone,
// its inventory changes, or a watch of them fails; equal marks mean nothing changed in between.
// watched is false when some object of app is not watched, or its watch
// has not listed yet: then the mark says nothing, and the objects must be
// read.
func (w *Watcher) LastChange(app types.NamespacedName) (mark uint64, watched bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	refs, known := w.tracked[app]
	if !known {
		return 0, false
	}
	mark = w.marks[app]
	for key := range refs {
		if !w.owners[key][app] {
			return 0, false
		}
		kw := w.watches[w.keyOf(key)]
		if kw == nil || kw.synced == nil || !kw.synced() {
			return 0, false
		}
		mark = max(mark, kw.failed)
	}
	return mark, true
}

// mark records a change to app; w.mu is held.
func (w *Watcher) mark(app types.NamespacedName) {
	w.seq++
	w.marks[app] = w.seq
}

// Suspects returns, and forgets, the objects of app changed outside weir
// since the last call. Refs carry no version.
func (w *Watcher) Suspects(app types.NamespacedName) []weirv1.ObjectRef {
	w.mu.Lock()
	defer w.mu.Unlock()
	refs := slices.Collect(maps.Keys(w.suspects[app]))
	delete(w.suspects, app)
	return refs
}

// Restore marks refs of app as changed again, for a check of them that
// could not be made: the next Suspects returns them.
func (w *Watcher) Restore(app types.NamespacedName, refs []weirv1.ObjectRef) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, tracked := w.tracked[app]; !tracked || len(refs) == 0 {
		return
	}
	if w.suspects[app] == nil {
		w.suspects[app] = map[weirv1.ObjectRef]bool{}
	}
	for _, ref := range refs {
		w.suspects[app][ref.Key()] = true
	}
}

func (w *Watcher) own(key weirv1.ObjectRef, app types.NamespacedName) {
	if w.owners[key] == nil {
		w.owners[key] = map[types.NamespacedName]bool{}
	}
	w.owners[key][app] = true
	w.watches[w.keyOf(key)].objects++
}

func (w *Watcher) disown(key weirv1.ObjectRef, app types.NamespacedName) {
	if !w.owners[key][app] {
		return
	}
	delete(w.owners[key], app)
	if len(w.owners[key]) == 0 {
		delete(w.owners, key)
	}
	wk := w.keyOf(key)
	kw := w.watches[wk]
	if kw.objects--; kw.objects == 0 {
		if kw.stop != nil {
			kw.stop()
		}
		delete(w.watches, wk)
	}
}

// watchKind makes sure ref's kind is watched in ref's namespace.
func (w *Watcher) watchKind(ref weirv1.ObjectRef) error {
	gk := schema.GroupKind{Group: ref.Group, Kind: ref.Kind}
	if _, seen := w.everywhere[gk]; seen {
		if _, ok := w.watches[w.keyOf(ref)]; ok {
			return nil
		}
	}
	mapping, err := w.mapper.RESTMapping(gk, ref.Version)
	if err != nil {
		return fmt.Errorf("watch %s: %w", gk, err)
	}
	if _, seen := w.everywhere[gk]; !seen {
		w.everywhere[gk] = mapping.Scope.Name() == meta.RESTScopeNameNamespace && w.allNamespaces(mapping.Resource)
	}
	wk := w.keyOf(ref)
	if _, ok := w.watches[wk]; ok {
		return nil
	}
	kw := &kindWatch{gvr: mapping.Resource}
	w.watches[wk] = kw
	if w.ctx != nil {
		w.run(wk, kw)
	}
	return nil
}

// run starts kw's informer; w.mu is held.
func (w *Watcher) run(wk watchKey, kw *kindWatch) {
	ctx, stop := context.WithCancel(w.ctx)
	kw.stop = stop
	gk := wk.gk
	informer := metadatainformer.NewFilteredMetadataInformer(w.client, kw.gvr, wk.namespace, 0, cache.Indexers{},
		func(opts *metav1.ListOptions) { opts.LabelSelector = w.selector }).Informer()
	_ = informer.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *cache.Reflector, err error) {
		w.mu.Lock()
		w.seq++
		kw.failed = w.seq
		w.mu.Unlock()
		cache.DefaultWatchErrorHandler(ctx, r, err)
	})
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { w.changed(gk, asMeta(obj)) },
		UpdateFunc: func(old, obj any) {
			if o, n := asMeta(old), asMeta(obj); o == nil || n == nil || (o.ResourceVersion != n.ResourceVersion && !ownWrite(o, n, w.self)) {
				w.changed(gk, asMeta(obj))
			}
			if changedOutside(asMeta(old), asMeta(obj), w.self) {
				w.suspect(gk, asMeta(obj))
			}
		},
		DeleteFunc: func(obj any) {
			if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tombstone.Obj
			}
			w.changed(gk, asMeta(obj))
			w.suspect(gk, asMeta(obj))
		},
	})
	kw.synced = informer.HasSynced
	go informer.RunWithContext(ctx)
}

// suspect records that an object may have drifted and notifies the
// Applications that applied it.
func (w *Watcher) suspect(gk schema.GroupKind, obj *metav1.PartialObjectMetadata) {
	if obj == nil {
		return
	}
	key := weirv1.ObjectRef{Group: gk.Group, Kind: gk.Kind, Namespace: obj.Namespace, Name: obj.Name}
	w.mu.Lock()
	var apps []types.NamespacedName
	for app := range w.owners[key] {
		if w.suspects[app] == nil {
			w.suspects[app] = map[weirv1.ObjectRef]bool{}
		}
		w.suspects[app][key] = true
		apps = append(apps, app)
	}
	w.mu.Unlock()
	for _, app := range apps {
		w.events <- event.GenericEvent{Object: &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: app.Namespace, Name: app.Name}}}
	}
}

// changed marks a change to the Applications that applied obj.
func (w *Watcher) changed(gk schema.GroupKind, obj *metav1.PartialObjectMetadata) {
	if obj == nil {
		return
	}
	key := weirv1.ObjectRef{Group: gk.Group, Kind: gk.Kind, Namespace: obj.Namespace, Name: obj.Name}
	w.mu.Lock()
	defer w.mu.Unlock()
	for app := range w.owners[key] {
		w.mark(app)
	}
}

func asMeta(obj any) *metav1.PartialObjectMetadata {
	m, _ := obj.(*metav1.PartialObjectMetadata)
	return m
}
