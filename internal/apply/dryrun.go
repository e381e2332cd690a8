package apply

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/api/v1alpha1"
)

// DryRuns are what Validate's dry runs found of a set, by object: the live
// object and what a server-side apply would make of it. Apply sends an
// object whose dry run changes nothing no request at all, and reads no
// object that Validate read: a sync costs a dry run per object, a read per
// object that exists and an apply per object that changes, as Flux's ssa
// package does, rather than four requests per object.
//
// The zero value holds nothing: Apply then reads and applies every object.
type DryRuns struct {
	byRef map[v1alpha1.ObjectRef]dryRun
}

// dryRun is one object's dry run.
type dryRun struct {
	// live is the object as Validate read it; nil when it did not exist.
	live *unstructured.Unstructured
	// applied is what the dry-run apply returned.
	applied *unstructured.Unstructured
}

// add records the dry run of obj.
func (d *DryRuns) add(obj v1alpha1.ObjectRef, live, applied *unstructured.Unstructured) {
	if d.byRef == nil {
		d.byRef = map[v1alpha1.ObjectRef]dryRun{}
	}
	d.byRef[obj] = dryRun{live: live, applied: applied}
}

// of returns obj's dry run, if Validate recorded one.
func (d DryRuns) of(obj *unstructured.Unstructured) (dryRun, bool) {
	r, ok := d.byRef[Ref(obj)]
	return r, ok
}

// exists reports whether the dry run was of an object that exists: the
// server sets no resourceVersion on the object a dry-run create returns.
func exists(applied *unstructured.Unstructured) bool {
	return applied.GetResourceVersion() != ""
}

// unchanged reports whether applying would leave the object as it is:
// the dry run was of the live object as read (same resourceVersion), gave
// the same content (metadata, spec and all, but status and the server's
// bookkeeping), left weir owning the same fields, and no field of a
// manager weir takes over remains to be taken.
func (r dryRun) unchanged(m *Manager) bool {
	if r.live == nil || r.live.GetResourceVersion() != r.applied.GetResourceVersion() {
		return false
	}
	if patch, err := takeOverPatch(r.live, m.opts.TakeOverManagers, m.opts.FieldManager); err != nil || patch != nil {
		return false
	}
	if !equality.Semantic.DeepEqual(withoutNoise(r.live), withoutNoise(r.applied)) {
		return false
	}
	before, err := appliedFields(r.live, m.opts.FieldManager)
	if err != nil {
		return false
	}
	after, err := appliedFields(r.applied, m.opts.FieldManager)
	return err == nil && before.Equals(after)
}
