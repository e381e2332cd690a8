package controller

import (
	"cmp"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
)

// inventoryOf lists objects as inventory entries, sorted for stable status.
func inventoryOf(objs []*unstructured.Unstructured) []weirv1.ObjectRef {
	refs := make([]weirv1.ObjectRef, 0, len(objs))
	for _, o := range objs {
		refs = append(refs, apply.Ref(o))
	}
	sortRefs(refs)
	return refs
}

// healthRefs are the objects of refs whose health a sync of app waits for
// and reports: all but app itself. An Application that applies itself, as
// the one `weir bootstrap` makes does, is in progress until its sync ends,
// so that waiting for it would never end; Flux leaves a Kustomization that
// applies itself out of its health checks too.
func healthRefs(app *weirv1.Application, refs []weirv1.ObjectRef) []weirv1.ObjectRef {
	self := weirv1.ObjectRef{Group: weirv1.GroupVersion.Group, Kind: "Application", Namespace: app.Namespace, Name: app.Name}
	return slices.DeleteFunc(slices.Clone(refs), func(r weirv1.ObjectRef) bool {
		r.Version = ""
		return r == self
	})
}

// mergeInventory adds the objects a partial sync created or configured to
// the inventory and drops those it deleted.
func mergeInventory(inv []weirv1.ObjectRef, changes apply.ChangeSet) []weirv1.ObjectRef {
	set := map[weirv1.ObjectRef]bool{}
	for _, ref := range inv {
		set[ref] = true
	}
	for _, c := range changes {
		switch c.Action {
		case apply.Deleted:
			delete(set, c.Object)
		case apply.Created, apply.Configured, apply.Replaced, apply.Unchanged:
			set[c.Object] = true
		}
	}
	refs := make([]weirv1.ObjectRef, 0, len(set))
	for ref := range set {
		refs = append(refs, ref)
	}
	sortRefs(refs)
	return refs
}

func sortRefs(refs []weirv1.ObjectRef) {
	slices.SortFunc(refs, func(a, b weirv1.ObjectRef) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
}
