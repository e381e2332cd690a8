package delivery

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/delivery/traffic"
)

// FieldManager is the field manager of every write of delivery: weir's
// own, so that the drift watcher does not take them for someone else's.
const FieldManager = traffic.FieldManager

// Release writes, after a sync applied the rest of its set, the copy of
// each template the plan holds back and does not quarantine, and removes
// copies of templates Git no longer wants. A copy that already releases the
// same template is left as it is, replicas and all, so that a sync in the
// middle of a rollout changes nothing of it.
func (h *Holder) Release(ctx context.Context, plan Plan) error {
	var errs []error
	released := map[types.NamespacedName]bool{}
	for _, rel := range plan.Releases {
		released[rel.Rollout] = true
		if !rel.Quarantined {
			errs = append(errs, h.writeCopy(ctx, rel))
		}
	}
	for key, hash := range plan.Wanted {
		if !released[key] {
			errs = append(errs, h.retire(ctx, key, hash))
		}
	}
	return errors.Join(errs...)
}

// writeCopy creates or replaces the copy of one release.
func (h *Holder) writeCopy(ctx context.Context, rel Release) error {
	ro := &v1alpha1.Rollout{}
	if err := h.Reader.Get(ctx, rel.Rollout, ro); err != nil {
		return fmt.Errorf("read Rollout %s: %w", rel.Rollout, err)
	}
	current := &appsv1.Deployment{}
	err := h.Reader.Get(ctx, types.NamespacedName{Namespace: ro.Namespace, Name: CopyName(ro)}, current)
	switch {
	case err == nil && current.Annotations[v1alpha1.TemplateHashAnnotation] == rel.Hash:
		return nil
	case err != nil && !apierrors.IsNotFound(err):
		return fmt.Errorf("read Deployment %s/%s: %w", ro.Namespace, CopyName(ro), err)
	}
	if err == nil {
		if err := checkCopy(current, ro); err != nil {
			return err
		}
	}
	cp := newCopy(ro, rel.desired, rel)
	if err := applyObject(ctx, h.Writer, cp); err != nil {
		return fmt.Errorf("write Deployment %s/%s for Rollout %s: %w", cp.Namespace, cp.Name, ro.Name, err)
	}
	return nil
}

// applyObject server-side applies a typed object whole, as FieldManager.
func applyObject(ctx context.Context, c client.Client, obj client.Object) error {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: content}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership)
}

// retire deletes the copy of a Rollout unless it releases want, the
// template Git has now; a Promoting rollout keeps its copy until the stable
// Deployment has taken over.
func (h *Holder) retire(ctx context.Context, key types.NamespacedName, want string) error {
	ro := &v1alpha1.Rollout{}
	if err := h.Reader.Get(ctx, key, ro); err != nil {
		return client.IgnoreNotFound(err)
	}
	cp := &appsv1.Deployment{}
	if err := h.Reader.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: CopyName(ro)}, cp); err != nil {
		return client.IgnoreNotFound(err)
	}
	hash := cp.Annotations[v1alpha1.TemplateHashAnnotation]
	if checkCopy(cp, ro) != nil || (hash == want && ro.Status.Phase == v1alpha1.RolloutPromoting) {
		return nil
	}
	if err := h.Writer.Delete(ctx, cp, client.PropagationPolicy("Background")); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete Deployment %s/%s: %w", cp.Namespace, cp.Name, err)
	}
	return nil
}

// checkCopy refuses to overwrite a Deployment that is not the Rollout's
// copy: one the user made with the same name.
func checkCopy(d *appsv1.Deployment, ro *v1alpha1.Rollout) error {
	return traffic.CheckOwned(d, fmt.Sprintf("Deployment %s/%s", d.Namespace, d.Name), ro.Name)
}
