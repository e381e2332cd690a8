package apply

import (
	"context"
	"fmt"
	"maps"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

var getOptions = metav1.GetOptions{}

// Apply server-side-applies one stage as the field manager, taking over
// fields other managers own, and reports per object whether it was Created,
// Configured, Replaced or Unchanged, with the object as the server returned
// it. An object whose dry run in dryRuns (from Validate) changed nothing is
// not sent; one that it read is not read again. An object another
// Application owns is refused with an *OwnershipError (see Validate). All
// objects are attempted; the error names each that failed. When the stage
// holds CustomResourceDefinitions, Apply returns once they are Established
// and the Manager's RESTMapper serves their kinds, so the next stage can use
// them.
func (m *Manager) Apply(ctx context.Context, stage []*unstructured.Unstructured, dryRuns DryRuns) (ChangeSet, error) {
	results := make([]Change, len(stage))
	failures := make([]error, len(stage))
	m.each(len(stage), func(i int) {
		if r, ok := dryRuns.of(stage[i]); ok {
			results[i], failures[i] = m.applyDryRun(ctx, stage[i], r)
		} else {
			results[i], failures[i] = m.applyOne(ctx, stage[i])
		}
	})
	var (
		changes ChangeSet
		errs    []*ObjectError
		crds    []*unstructured.Unstructured
	)
	for i, obj := range stage {
		if failures[i] != nil {
			errs = append(errs, objectError(obj, failures[i]))
			continue
		}
		changes = append(changes, results[i])
		if isCRD(obj) {
			crds = append(crds, obj)
		}
	}
	if err := m.waitServed(ctx, crds); err != nil {
		return changes, err
	}
	return changes, setError("apply", len(stage), errs)
}

// applyDryRun applies obj as Validate's dry run r found it: not at all
// when it changes nothing, and otherwise over the live object r read,
// which Validate checked the owner of.
func (m *Manager) applyDryRun(ctx context.Context, obj *unstructured.Unstructured, r dryRun) (Change, error) {
	if r.unchanged(m) {
		return Change{Object: Ref(obj), Action: Unchanged, Applied: r.applied}, nil
	}
	res, err := m.resource(ctx, Ref(obj))
	if err != nil {
		return Change{}, err
	}
	return m.applyOver(ctx, res, obj, r.live)
}

// applyOne reads obj's live object, checks its owner and applies obj as
// its directives say.
func (m *Manager) applyOne(ctx context.Context, obj *unstructured.Unstructured) (Change, error) {
	ref := Ref(obj)
	d, _ := ReadDirectives(obj) // NewPlan has refused invalid ones
	res, err := m.resource(ctx, ref)
	if err != nil {
		return Change{}, err
	}
	before, err := get(ctx, res, obj.GetName())
	if err != nil {
		return Change{}, err
	}
	if before == nil {
		return m.applyOver(ctx, res, obj, nil)
	}
	// Validate checked the set; another Application may have claimed the
	// object since.
	if err := m.checkOwner(ctx, obj, before.GetAnnotations()); err != nil {
		return Change{}, err
	}
	switch d.ifExists() {
	case keepExisting:
		return Change{Object: ref, Action: Unchanged, Applied: before}, nil
	case recreateExisting:
		if err := deleteAndWait(ctx, res, before); err != nil {
			return Change{}, fmt.Errorf("delete the previous hook: %w", err)
		}
		return m.create(ctx, res, obj, Replaced)
	}
	return m.applyOver(ctx, res, obj, before)
}

// applyOver applies obj over before, its live object (nil when there is
// none), once weir has taken over before's fields from the managers it
// takes over; an object whose immutable fields change is deleted and
// created anew when its directives ask for it.
func (m *Manager) applyOver(ctx context.Context, res dynamic.ResourceInterface, obj, before *unstructured.Unstructured) (Change, error) {
	d, _ := ReadDirectives(obj)
	if before != nil {
		var err error
		if before, err = m.takeOver(ctx, res, before); err != nil {
			return Change{}, err
		}
	}
	after, err := res.Apply(ctx, obj.GetName(), m.applyConfiguration(obj), m.applyOptions(false))
	err = asImmutable(err)
	if isImmutable(err) && d.Replace && before != nil {
		if err := deleteAndWait(ctx, res, before); err != nil {
			return Change{}, fmt.Errorf("replace: %w", err)
		}
		return m.create(ctx, res, obj, Replaced)
	}
	if err != nil {
		return Change{}, err
	}
	action, err := m.actionOf(before, after)
	return Change{Object: Ref(obj), Action: action, Applied: after}, err
}

// create applies obj, which does not exist, and reports it as action.
func (m *Manager) create(ctx context.Context, res dynamic.ResourceInterface, obj *unstructured.Unstructured, action Action) (Change, error) {
	created, err := res.Apply(ctx, obj.GetName(), m.applyConfiguration(obj), m.applyOptions(false))
	if err != nil {
		return Change{}, asImmutable(err)
	}
	return Change{Object: Ref(obj), Action: action, Applied: created}, nil
}

// actionOf tells what an apply did from the object before and after it.
// A no-op apply leaves the resourceVersion alone; but a controller may
// write to the object in between, so a moved resourceVersion only counts
// when a field the manager owns changed.
func (m *Manager) actionOf(before, after *unstructured.Unstructured) (Action, error) {
	if before == nil {
		return Created, nil
	}
	if before.GetResourceVersion() == after.GetResourceVersion() {
		return Unchanged, nil
	}
	changed, err := ownedFieldsChanged(before, after, m.opts.FieldManager)
	if err != nil || !changed {
		return Unchanged, err
	}
	return Configured, nil
}

// serverFields are the metadata fields the server keeps for itself.
var serverFields = []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"}

// applyOptions force ownership: Git is the source of truth, so weir takes
// fields over from other managers rather than failing on conflicts.
func (m *Manager) applyOptions(dryRun bool) metav1.ApplyOptions {
	opts := metav1.ApplyOptions{FieldManager: m.opts.FieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return opts
}

// applyConfiguration is what Apply sends for obj: obj with Options.Labels
// and the managed-by label, and without the server-owned metadata a
// rendered object may carry (copied from `kubectl get -o yaml`): a
// resourceVersion would turn the apply into a conditional update.
func (m *Manager) applyConfiguration(obj *unstructured.Unstructured) *unstructured.Unstructured {
	cfg := obj.DeepCopy()
	for _, field := range serverFields {
		unstructured.RemoveNestedField(cfg.Object, "metadata", field)
	}
	labels := cfg.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, m.opts.Labels)
	labels[ManagedByLabel] = m.opts.FieldManager
	cfg.SetLabels(labels)
	return cfg
}

// get returns the live object, or nil when there is none.
func get(ctx context.Context, res dynamic.ResourceInterface, name string) (*unstructured.Unstructured, error) {
	obj, err := res.Get(ctx, name, getOptions)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	return obj, nil
}
