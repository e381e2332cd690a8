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
