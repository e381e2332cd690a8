package apply

import (
	"context"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/csaupgrade"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// DefaultTakeOverManagers are the field managers whose fields weir takes
// over when it applies an object they wrote: kubectl's client-side apply
// (and Argo CD's, which is the same), Argo CD's and Flux's server-side
// apply, and the entry the API server makes for an object written before
// managed fields existed.
var DefaultTakeOverManagers = []string{"kubectl-client-side-apply", "argocd-controller", "kustomize-controller", "before-first-apply"}

// takeOver hands to the field manager every field that the take-over
// managers own in live, before an apply, and returns live as it is then.
// Server-side apply removes a field only when its manager stops applying
// it and nobody else owns it: without this, a field that kubectl, Argo CD
// or Flux applied would outlive its removal from Git.
//
// A client-side apply is upgraded with client-go's csaupgrade; a foreign
// server-side apply entry is merged the same way, as Flux's ssa package
// does. The last-applied-configuration annotation kubectl keeps then
// belongs to weir, and its next apply drops it.
func (m *Manager) takeOver(ctx context.Context, res dynamic.ResourceInterface, live *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	current := live
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		patch, err := takeOverPatch(current, m.opts.TakeOverManagers, m.opts.FieldManager)
		if err != nil || patch == nil {
			return err
		}
		patched, err := res.Patch(ctx, live.GetName(), types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: m.opts.FieldManager})
		if err == nil {
			current = patched
			return nil
		}
		if fresh, getErr := get(ctx, res, live.GetName()); getErr == nil && fresh != nil {
			current = fresh
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("take over fields from %v: %w", m.opts.TakeOverManagers, err)
	}
	return current, nil
}

// takeOverPatch returns a JSON patch of live's managedFields that merges
// the entries of managers into self's apply entry, or nil when live has
// none of theirs. The patch fails on a conflict if live changed since.
func takeOverPatch(live *unstructured.Unstructured, managers []string, self string) ([]byte, error) {
	entries := live.GetManagedFields()
	if !slices.ContainsFunc(entries, func(e metav1.ManagedFieldsEntry) bool { return takenOver(e, managers) }) {
		return nil, nil
	}
	obj := live.DeepCopy()
	asUpdates := make([]metav1.ManagedFieldsEntry, len(entries))
	for i, e := range entries {
		if takenOver(e, managers) {
			e.Operation = metav1.ManagedFieldsOperationUpdate // so that csaupgrade merges it too
		}
		asUpdates[i] = e
	}
	obj.SetManagedFields(asUpdates)
	patch, err := csaupgrade.UpgradeManagedFieldsPatch(obj, sets.New(managers...), self)
	if err != nil {
		return nil, fmt.Errorf("upgrade managed fields: %w", err)
	}
	return patch, nil
}

// takenOver reports whether weir takes over the fields of entry.
func takenOver(entry metav1.ManagedFieldsEntry, managers []string) bool {
	return entry.Subresource == "" && slices.Contains(managers, entry.Manager)
}

// afterTakeOver edits applied, what a dry-run apply of an object made of
// live, into what the apply will make of it once weir has taken live over:
// the fields that only the take-over managers own, and that weir no longer
// applies, are gone. So a diff shows a field removed from Git as removed,
// before the sync.
func afterTakeOver(live, applied *unstructured.Unstructured, managers []string) error {
	taken := &fieldpath.Set{}
	for _, entry := range live.GetManagedFields() {
		if takenOver(entry, managers) {
			fields, err := entryFields(entry)
			if err != nil {
				return err
			}
			taken = taken.Union(fields)
		}
	}
	if taken.Empty() {
		return nil
	}
	kept := &fieldpath.Set{}
	for _, entry := range applied.GetManagedFields() {
		if !takenOver(entry, managers) {
			fields, err := entryFields(entry)
			if err != nil {
				return err
			}
			kept = kept.Union(fields)
		}
	}
	removed := taken.Difference(kept)
	var paths []fieldpath.Path
	removed.Iterate(func(p fieldpath.Path) {
		if !ownsBelow(kept, p) {
			paths = append(paths, p.Copy())
		}
	})
	slices.SortFunc(paths, func(a, b fieldpath.Path) int { return len(a) - len(b) })
	for _, p := range paths {
		applied.Object, _ = removeAt(applied.Object, p).(map[string]any)
	}
	return nil
}

// ownsBelow reports whether set holds a field at or below path.
func ownsBelow(set *fieldpath.Set, path fieldpath.Path) bool {
	found := false
	set.Iterate(func(p fieldpath.Path) {
		found = found || len(p) >= len(path) && p[:len(path)].Equals(path)
	})
	return found
}

// removeAt returns node without the value at path; node itself when there
// is none.
func removeAt(node any, path fieldpath.Path) any {
	if len(path) == 0 {
		return node
	}
	pe := path[0]
	if pe.FieldName != nil {
		m, ok := node.(map[string]any)
		if !ok {
			return node
		}
		if len(path) == 1 {
			delete(m, *pe.FieldName)
		} else if child, ok := m[*pe.FieldName]; ok {
			m[*pe.FieldName] = removeAt(child, path[1:])
		}
		return m
	}
	list, _ := node.([]any)
	i := listIndex(list, pe)
	switch {
	case i < 0:
		return node
	case len(path) == 1:
		return slices.Delete(list, i, i+1)
	default:
		list[i] = removeAt(list[i], path[1:])
		return list
	}
}
