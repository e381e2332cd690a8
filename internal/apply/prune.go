package apply

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"weir.dev/weir/api/v1alpha1"
)

// Prune deletes the objects of previous, owner's inventory of the last
// sync, that desired no longer holds (an object counts as held whatever
// version of its kind desired uses). Deletion propagates in the background.
//
// Prune leaves an object alone, as a Skipped change with the reason, when:
//   - it is annotated "weir.dev/prune: disabled", or carries an alias:
//     "weir.dev/sync-options: Prune=false", Argo CD's
//     "argocd.argoproj.io/sync-options: Prune=false" (or Prune=confirm),
//     Flux's "kustomize.toolkit.fluxcd.io/prune: disabled", or Helm's
//     "helm.sh/resource-policy: keep";
//   - its managedFields no longer name the field manager: someone else has
//     taken it over, or weir never applied it;
//   - it belongs to another Application (v1alpha1.OwnerAnnotation), which
//     has claimed it since. An object without an owner, applied before
//     weir recorded owners, is owner's since its inventory holds it;
//   - it is a CustomResourceDefinition of which custom resources exist that
//     this prune does not delete, unless it is annotated
//     "weir.dev/prune-crd-with-instances: true": deleting it would delete
//     them all, in every namespace;
//   - it is a Namespace that still holds objects this prune does not
//     delete, because deleting the Namespace would take them with it.
//     Objects with an owner, and what Kubernetes puts in every namespace
//     (the "default" ServiceAccount, the "kube-root-ca.crt" ConfigMap,
//     Events and Endpoints), do not count;
//   - it is already gone or being deleted;
//   - desired holds it as a Skip hook: a sync no longer applies it, and,
//     as Argo CD does, leaves it in the cluster.
//
// An object left alone loses owner's mark (see SetOwner), since it leaves
// owner's inventory: another Application may declare it then.
//
// Objects are deleted before CustomResourceDefinitions, and those before
// Namespaces. All candidates are attempted; the error names each failure.
// Refusing to prune everything after an empty render is not Prune's job:
// a render that produces no object fails unless the Application allows it
// (render.Options.AllowEmpty).
func (m *Manager) Prune(ctx context.Context, owner Owner, previous []v1alpha1.ObjectRef, desired []*unstructured.Unstructured) (ChangeSet, error) {
	candidates := pruneCandidates(previous, desired)
	var (
		changes ChangeSet
		errs    []*ObjectError
	)
	for _, c := range candidates {
		change, err := m.pruneOne(ctx, owner, c)
		if err != nil {
			errs = append(errs, &ObjectError{Object: c.ref, Err: err})
			continue
		}
		changes = append(changes, change)
	}
	return changes, setError("prune", len(candidates), errs)
}

// candidate is an object of the inventory that leaves it.
type candidate struct {
	ref v1alpha1.ObjectRef
	// kept says why it stays in the cluster whatever it is like; "" when
	// only its live state can tell (see keepReason).
	kept string
}

// skipHookReason is why Prune keeps an object that desired holds as a
// Skip hook.
const skipHookReason = "a Skip hook: no longer applied, left in the cluster"

// pruneCandidates returns the refs of previous whose objects desired does
// not hold, or holds as Skip hooks, once each, in the order they are
// deleted.
func pruneCandidates(previous []v1alpha1.ObjectRef, desired []*unstructured.Unstructured) []candidate {
	held, skipHooks := map[v1alpha1.ObjectRef]bool{}, map[v1alpha1.ObjectRef]bool{}
	for _, obj := range desired {
		if d, _ := ReadDirectives(obj); d.Hook == Skip {
			skipHooks[Ref(obj).Key()] = true
		} else {
			held[Ref(obj).Key()] = true
		}
	}
	var candidates []candidate
	for _, ref := range previous {
		if held[ref.Key()] {
			continue
		}
		held[ref.Key()] = true // once each
		c := candidate{ref: ref}
		if skipHooks[ref.Key()] {
			c.kept = skipHookReason
		}
		candidates = append(candidates, c)
	}
	slices.SortStableFunc(candidates, func(a, b candidate) int {
		return cmp.Compare(pruneRank(a.ref), pruneRank(b.ref))
	})
	return candidates
}

// pruneRank orders deletion: what lives in a namespace or is an instance of
// a CRD goes before the namespace or CRD.
func pruneRank(ref v1alpha1.ObjectRef) int {
	switch {
	case ref.Group == "" && ref.Kind == "Namespace":
		return 2
	case ref.Group == crdResource.Group && ref.Kind == "CustomResourceDefinition":
		return 1
	default:
		return 0
	}
}

func (m *Manager) pruneOne(ctx context.Context, owner Owner, c candidate) (Change, error) {
	ref := c.ref
	skip := func(reason string) (Change, error) {
		return Change{Object: ref, Action: Skipped, Reason: reason}, nil
	}
	anyVersion := ref
	anyVersion.Version = "" // the object outlives the version it was applied as
	res, err := m.resource(ctx, anyVersion)
	if meta.IsNoMatchError(err) {
		return skip("already gone: the cluster no longer serves its kind")
	}
	if err != nil {
		return Change{}, err
	}
	live, err := get(ctx, res, ref.Name)
	if err != nil {
		return Change{}, err
	}
	if live == nil {
		return skip("already gone")
	}
	reason, err := c.kept, error(nil)
	if reason == "" {
		reason, err = m.keepReason(ctx, owner, live)
	}
	if err == nil && reason != "" {
		err = m.release(ctx, res, live, owner)
	}
	if err != nil || reason != "" {
		return Change{Object: ref, Action: Skipped, Reason: reason}, err
	}
	err = deleteLive(ctx, res, live)
	if apierrors.IsNotFound(err) {
		return skip("already gone")
	}
	if err != nil {
		return Change{}, fmt.Errorf("delete: %w", err)
	}
	return Change{Object: ref, Action: Deleted}, nil
}

// deleteLive deletes live, propagating in the background, provided it is
// still the object read: not a namesake created since.
func deleteLive(ctx context.Context, res dynamic.ResourceInterface, live *unstructured.Unstructured) error {
	background := metav1.DeletePropagationBackground
	uid := live.GetUID()
	return res.Delete(ctx, live.GetName(), metav1.DeleteOptions{
		PropagationPolicy: &background,
		Preconditions:     &metav1.Preconditions{UID: &uid},
	})
}

// release removes owner's mark (SetOwner) from an object that leaves its
// inventory but stays in the cluster, so that another Application may
// declare it; it leaves another Application's mark alone.
func (m *Manager) release(ctx context.Context, res dynamic.ResourceInterface, live *unstructured.Unstructured, owner Owner) error {
	if live.GetAnnotations()[v1alpha1.OwnerAnnotation] != owner.String() || live.GetDeletionTimestamp() != nil {
		return nil
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:null,%q:null}}}`, v1alpha1.OwnerAnnotation, v1alpha1.OwnerUIDAnnotation)
	_, err := res.Patch(ctx, live.GetName(), types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: m.opts.FieldManager})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("give up ownership: %w", err)
	}
	return nil
}

// keepReason says why live must not be pruned, or "" when it may be.
func (m *Manager) keepReason(ctx context.Context, owner Owner, live *unstructured.Unstructured) (string, error) {
	optOut, other := pruneOptOut(live), ownedElsewhere(live.GetAnnotations(), owner.String())
	switch {
	case optOut != "":
		return "prune disabled by annotation " + optOut, nil
	case !managedBy(live, m.opts.FieldManager):
		return fmt.Sprintf("not managed by %q: its managedFields have no entry for it", m.opts.FieldManager), nil
	case other != "":
		return "owned by Application " + other, nil
	case live.GetDeletionTimestamp() != nil:
		return "already being deleted", nil
	case isNamespace(live):
		return m.namespaceInUse(ctx, live.GetName())
	case isCRD(live):
		return m.crdInUse(ctx, live)
	default:
		return "", nil
	}
}

// pruneOptOut names the annotation by which obj opts out of prune, or ""
// (see Directives).
func pruneOptOut(obj *unstructured.Unstructured) string {
	d, _ := ReadDirectives(obj) // an invalid wave does not hide an opt-out
	return d.PruneOptOut
}

// managedBy reports whether fieldManager owns any field of obj.
func managedBy(obj *unstructured.Unstructured, fieldManager string) bool {
	for _, entry := range obj.GetManagedFields() {
		if entry.Manager == fieldManager {
			return true
		}
	}
	return false
}
