package apply

import (
	"context"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"weir.dev/weir/api/v1alpha1"
)

// ObjectDrift is how a live object strays from its desired version, and
// who made it stray. It holds field paths, never values, so a drifted
// Secret reveals nothing.
type ObjectDrift struct {
	// Object the drift is about.
	Object v1alpha1.ObjectRef
	// Deleted is true when the object is gone.
	Deleted bool
	// Fields are the paths of the fields the field manager applies whose
	// live values differ, at most v1alpha1.MaxDriftFields.
	Fields []string
	// Managers changed those fields: the other managers that own one of
	// them, or, for a field someone removed (and so nobody owns), the last
	// other manager to write the object. A manager that wrote through a
	// subresource is named with it: "kubectl (scale)".
	Managers []string
	// run is the check's dry run, when Apply may apply the object over the
	// live object it read (see DryRunsOf).
	run *dryRun
}

// DryRunsOf returns the dry runs of the drift checks of found, for Apply:
// a heal then re-applies each drifted object over the live object its
// check read, with no read of its own. An object another Application's
// annotations claim, or whose directives do more than apply it, is left
// out, and so read and checked again by Apply.
func DryRunsOf(found []ObjectDrift) DryRuns {
	var dryRuns DryRuns
	for _, d := range found {
		if d.run != nil {
			dryRuns.add(d.Object, d.run.live, d.run.applied)
		}
	}
	return dryRuns
}

// Drifted reports whether the object strays at all.
func (d ObjectDrift) Drifted() bool { return d.Deleted || len(d.Fields) > 0 }

// Drift compares each live object with what a server-side apply of objs
// would make of it (a dry-run) and returns the objects that differ. Only
// the fields the field manager applies count: what the server defaults or
// other controllers add is the same on both sides or not weir's, and so
// never drift; nor does an object Apply leaves as it is once it exists
// (Flux's "ssa: IfNotPresent"). Objects must have been normalized.
func (m *Manager) Drift(ctx context.Context, objs []*unstructured.Unstructured) ([]ObjectDrift, error) {
	all, err := eachObject(m, "drift", objs, func(obj *unstructured.Unstructured) (ObjectDrift, error) {
		return m.driftOne(ctx, obj)
	})
	return slices.DeleteFunc(all, func(d ObjectDrift) bool { return !d.Drifted() }), err
}

func (m *Manager) driftOne(ctx context.Context, obj *unstructured.Unstructured) (ObjectDrift, error) {
	d := ObjectDrift{Object: Ref(obj)}
	live, applied, err := m.liveAndApplied(ctx, obj)
	if err != nil {
		return d, err
	}
	if reusable(obj, live) {
		d.run = &dryRun{live: live, applied: applied}
	}
	if live == nil {
		d.Deleted = true
		return d, nil
	}
	owned, err := appliedFields(applied, m.opts.FieldManager)
	if err != nil {
		return d, err
	}
	paths := differingLeaves(owned, live.Object, applied.Object)
	if isSecret(obj) {
		paths = append(paths, secretDrift(applied, live)...)
	}
	if paths, err = withoutOwnUpdates(live, paths, m.opts.FieldManager); err != nil {
		return d, err
	}
	paths = slices.DeleteFunc(paths, isOwnerField)
	if len(paths) == 0 {
		return d, nil
	}
	for _, p := range paths {
		d.Fields = append(d.Fields, p.String())
	}
	slices.Sort(d.Fields)
	d.Fields = slices.Compact(d.Fields)
	d.Fields = d.Fields[:min(len(d.Fields), v1alpha1.MaxDriftFields)]
	d.Managers, err = changedBy(live, paths, m.opts.FieldManager)
	return d, err
}

// reusable reports whether Apply may apply obj over live, as a drift
// check read it, with no check of its own: live is claimed by no other
// Application (checkOwner costs no request then), and obj's directives
// apply it over whatever exists.
func reusable(obj, live *unstructured.Unstructured) bool {
	d, err := ReadDirectives(obj)
	if err != nil || d.ifExists() != updateExisting {
		return false
	}
	return live == nil || ownedElsewhere(live.GetAnnotations(), obj.GetAnnotations()[v1alpha1.OwnerAnnotation]) == ""
}

// secretDrift returns the data keys of a live Secret whose values differ
// from those of applied, what an apply makes of it. The server turns
// stringData into data, so a Secret applied with stringData owns fields no
// live object has; its values are compared decoded instead.
func secretDrift(applied, live *unstructured.Unstructured) []fieldpath.Path {
	want, got := secretValues(applied.Object), secretValues(live.Object)
	var paths []fieldpath.Path
	for key, value := range want {
		if current, ok := got[key]; !ok || current != value {
			paths = append(paths, fieldpath.MakePathOrDie("data", key))
		}
	}
	return paths
}

// ownerFields are the annotations SetOwner adds. They are not Git's, so
// they never drift: an object applied before weir recorded owners lacks
// them until its next sync.
var ownerFields = []fieldpath.Path{
	fieldpath.MakePathOrDie("metadata", "annotations", v1alpha1.OwnerAnnotation),
	fieldpath.MakePathOrDie("metadata", "annotations", v1alpha1.OwnerUIDAnnotation),
}

func isOwnerField(p fieldpath.Path) bool {
	return slices.ContainsFunc(ownerFields, p.Equals)
}

// withoutOwnUpdates drops the paths that self last wrote with an update
// rather than an apply: weir's own changes beside Git (a rollout's weights
// and replicas), which are not drift even when a check compares them with
// a desired state read a moment before.
func withoutOwnUpdates(live *unstructured.Unstructured, paths []fieldpath.Path, self string) ([]fieldpath.Path, error) {
	for _, entry := range live.GetManagedFields() {
		if entry.Manager != self || entry.Operation != metav1.ManagedFieldsOperationUpdate || entry.Subresource != "" {
			continue
		}
		fields, err := entryFields(entry)
		if err != nil {
			return nil, err
		}
		paths = slices.DeleteFunc(paths, func(p fieldpath.Path) bool { return fields.Has(p) })
	}
	return paths, nil
}

// changedBy names the managers other than self that own one of paths in
// live; when some path has no owner (someone removed it), it also names
// the last other manager to write live.
func changedBy(live *unstructured.Unstructured, paths []fieldpath.Path, self string) ([]string, error) {
	var names []string
	var latest *metav1.ManagedFieldsEntry
	owned := make([]bool, len(paths))
	for _, entry := range live.GetManagedFields() {
		if entry.Manager == self || entry.Subresource == "status" {
			continue
		}
		if latest == nil || entry.Time != nil && latest.Time != nil && latest.Time.Before(entry.Time) {
			latest = &entry
		}
		fields, err := entryFields(entry)
		if err != nil {
			return nil, err
		}
		for i, p := range paths {
			if fields.Has(p) {
				owned[i] = true
				names = append(names, managerName(entry))
			}
		}
	}
	if slices.Contains(owned, false) && latest != nil {
		names = append(names, managerName(*latest))
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// managerName is how a status names the writer of a managedFields entry.
func managerName(entry metav1.ManagedFieldsEntry) string {
	if entry.Subresource != "" {
		return entry.Manager + " (" + entry.Subresource + ")"
	}
	return entry.Manager
}
