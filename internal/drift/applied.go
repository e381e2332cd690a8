package drift

import (
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
)

// Applied keeps, for each Application, the objects weir applied last, as
// they were applied (normalized, owner set, held templates held), so that
// a drift is healed from them without reading Git or rendering. Objects
// are kept as JSON. It is safe for concurrent use; a nil Applied keeps
// nothing, and every set it returns is empty.
type Applied struct {
	mu   sync.Mutex
	sets map[types.NamespacedName]*AppliedSet
}

// NewApplied returns an Applied that knows no Application yet.
func NewApplied() *Applied {
	return &Applied{sets: map[types.NamespacedName]*AppliedSet{}}
}

// Lock returns app's set, locked until Unlock: the objects of one
// Application are applied by one caller at a time (a stage of a sync, a
// heal), so that a heal never writes back an object a sync has just
// replaced.
func (a *Applied) Lock(app types.NamespacedName) *AppliedSet {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	set := a.sets[app]
	if set == nil {
		set = &AppliedSet{objects: map[weirv1.ObjectRef][]byte{}}
		a.sets[app] = set
	}
	a.mu.Unlock()
	set.mu.Lock()
	return set
}

// Forget drops app's set (deleted or suspended).
func (a *Applied) Forget(app types.NamespacedName) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sets, app)
}

// AppliedSet is the objects one Application applied. Its methods are
// called between Applied.Lock and Unlock; a nil set is empty and ignores
// writes.
type AppliedSet struct {
	mu sync.Mutex
	// complete is true once the set holds every object the Application
	// applied: after a whole sync, or once the revision applied last was
	// loaded again.
	complete bool
	objects  map[weirv1.ObjectRef][]byte
}

// Unlock lets the next caller at the set.
func (s *AppliedSet) Unlock() {
	if s != nil {
		s.mu.Unlock()
	}
}

// Complete reports whether the set holds every object the Application
// applied; until then, a drift is checked against Git.
func (s *AppliedSet) Complete() bool { return s != nil && s.complete }

// Reset makes objs the whole set.
func (s *AppliedSet) Reset(objs []*unstructured.Unstructured) {
	if s == nil {
		return
	}
	clear(s.objects)
	s.Put(objs)
	s.complete = true
}

// Put records objs beside the others: a stage a sync is about to apply.
func (s *AppliedSet) Put(objs []*unstructured.Unstructured) {
	if s == nil {
		return
	}
	for _, obj := range objs {
		data, err := obj.MarshalJSON()
		if err != nil {
			// Never healed from memory; a sync applies it.
			s.complete = false
			continue
		}
		s.objects[apply.Ref(obj).Key()] = data
	}
}

// Keep drops every object but those objs name: what a sync is about to
// prune is no longer weir's to heal.
func (s *AppliedSet) Keep(objs []*unstructured.Unstructured) {
	if s == nil {
		return
	}
	keep := map[weirv1.ObjectRef]bool{}
	for _, obj := range objs {
		keep[apply.Ref(obj).Key()] = true
	}
	for ref := range s.objects {
		if !keep[ref] {
			delete(s.objects, ref)
		}
	}
}

// Objects returns a copy of each object of refs the set holds, and the
// refs it holds none of.
func (s *AppliedSet) Objects(refs []weirv1.ObjectRef) (objs []*unstructured.Unstructured, missing []weirv1.ObjectRef) {
	for _, ref := range refs {
		var data []byte
		if s != nil {
			data = s.objects[ref.Key()]
		}
		obj := &unstructured.Unstructured{}
		if data == nil || obj.UnmarshalJSON(data) != nil {
			missing = append(missing, ref)
			continue
		}
		objs = append(objs, obj)
	}
	return objs, missing
}
