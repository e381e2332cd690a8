package drift

import (
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// changedOutside reports whether an update of an object was made by
// someone other than self, judging by managedFields:
//
//   - another manager's entry appeared or changed (status writes excepted:
//     they never touch what weir applies);
//   - self's entry changed but not its time: another writer took fields
//     from self, or removed them;
//   - the generation moved while self's entry stayed as it was: a second
//     edit within the second of the first leaves the entries equal.
func changedOutside(old, obj *metav1.PartialObjectMetadata, self string) bool {
	if old == nil || obj == nil {
		return obj != nil
	}
	before := map[entryID]metav1.ManagedFieldsEntry{}
	for _, e := range old.ManagedFields {
		before[idOf(e)] = e
	}
	selfTouched := false
	for _, e := range obj.ManagedFields {
		prev, existed := before[idOf(e)]
		changed := !existed || !equality.Semantic.DeepEqual(prev, e)
		switch {
		case e.Subresource == "status":
		case e.Manager != self && changed:
			return true
		case e.Manager == self && changed:
			if prev.Time.Equal(e.Time) {
				return true
			}
			selfTouched = true
		}
	}
	return !selfTouched && old.Generation != obj.Generation
}

// entryID identifies a managedFields entry: one per manager, operation,
// API version and subresource.
type entryID struct {
	manager, operation, apiVersion, subresource string
}

func idOf(e metav1.ManagedFieldsEntry) entryID {
	return entryID{e.Manager, string(e.Operation), e.APIVersion, e.Subresource}
}

// ownWrite reports whether an update was self's apply alone: self's entry
// moved to a new time, and no other entry changed, appeared or left. What
// self applies is judged by the sync that applies it; what its controller
// makes of it (a Deployment's status) is another's write.
func ownWrite(old, obj *metav1.PartialObjectMetadata, self string) bool {
	if len(old.ManagedFields) != len(obj.ManagedFields) || obj.DeletionTimestamp != nil {
		return false
	}
	before := map[entryID]metav1.ManagedFieldsEntry{}
	for _, e := range old.ManagedFields {
		before[idOf(e)] = e
	}
	touched := false
	for _, e := range obj.ManagedFields {
		prev, existed := before[idOf(e)]
		switch {
		case existed && equality.Semantic.DeepEqual(prev, e):
		case !existed || e.Manager != self || e.Subresource != "" || prev.Time.Equal(e.Time):
			return false
		default:
			touched = true
		}
	}
	return touched
}
