package apply

import (
	"bytes"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// ownedFieldsChanged reports whether an apply by manager changed anything
// manager owns: the set of its fields, or the value of one. Controllers
// write to the same objects (status, annotations such as a Deployment's
// revision), so neither the resourceVersion nor the whole object tells
// whether the apply itself did anything.
func ownedFieldsChanged(before, after *unstructured.Unstructured, manager string) (bool, error) {
	owned, err := appliedFields(after, manager)
	if err != nil {
		return false, err
	}
	ownedBefore, err := appliedFields(before, manager)
	if err != nil {
		return false, err
	}
	if !owned.Equals(ownedBefore) {
		return true, nil
	}
	return len(differingLeaves(owned, before.Object, after.Object)) > 0, nil
}

// differingLeaves returns the leaf fields of owned whose values differ
// between two objects' contents, or that one has and the other lacks.
func differingLeaves(owned *fieldpath.Set, a, b map[string]any) []fieldpath.Path {
	var paths []fieldpath.Path
	owned.Leaves().Iterate(func(path fieldpath.Path) {
		av, inA := lookup(a, path)
		bv, inB := lookup(b, path)
		if inA != inB || inB && !value.Equals(value.NewValueInterface(av), value.NewValueInterface(bv)) {
			paths = append(paths, path.Copy())
		}
	})
	return paths
}

// appliedFields returns the fields manager owns in obj through apply.
func appliedFields(obj *unstructured.Unstructured, manager string) (*fieldpath.Set, error) {
	set := &fieldpath.Set{}
	for _, entry := range obj.GetManagedFields() {
		if entry.Manager != manager || entry.Operation != metav1.ManagedFieldsOperationApply || entry.Subresource != "" {
			continue
		}
		fields, err := entryFields(entry)
		if err != nil {
			return nil, err
		}
		set = set.Union(fields)
	}
	return set, nil
}

// entryFields returns the fields one managedFields entry records.
func entryFields(entry metav1.ManagedFieldsEntry) (*fieldpath.Set, error) {
	set := &fieldpath.Set{}
	if entry.FieldsV1 == nil {
		return set, nil
	}
	if err := set.FromJSON(bytes.NewReader(entry.FieldsV1.Raw)); err != nil {
		return nil, fmt.Errorf("read managedFields of %s: %w", entry.Manager, err)
	}
	return set, nil
}

// lookup returns the value at path in an object's content.
func lookup(content any, path fieldpath.Path) (any, bool) {
	current := content
	for _, pe := range path {
		var ok bool
		if pe.FieldName != nil {
			m, isMap := current.(map[string]any)
			current, ok = m[*pe.FieldName]
			ok = ok && isMap
		} else {
			list, _ := current.([]any)
			current, ok = listItem(list, pe)
		}
		if !ok {
			return nil, false
		}
	}
	return current, true
}

// listItem finds the item of a list that pe names by key, value or index.
func listItem(list []any, pe fieldpath.PathElement) (any, bool) {
	if i := listIndex(list, pe); i >= 0 {
		return list[i], true
	}
	return nil, false
}

// listIndex returns the index of the item of a list that pe names by key,
// value or index, or -1.
func listIndex(list []any, pe fieldpath.PathElement) int {
	if pe.Index != nil {
		if *pe.Index < 0 || *pe.Index >= len(list) {
			return -1
		}
		return *pe.Index
	}
	for i, item := range list {
		if pe.Value != nil && value.Equals(value.NewValueInterface(item), *pe.Value) {
			return i
		}
		if pe.Key != nil && hasKey(item, *pe.Key) {
			return i
		}
	}
	return -1
}

func hasKey(item any, key value.FieldList) bool {
	m, ok := item.(map[string]any)
	if !ok {
		return false
	}
	for _, field := range key {
		v, ok := m[field.Name]
		if !ok || !value.Equals(value.NewValueInterface(v), field.Value) {
			return false
		}
	}
	return true
}
