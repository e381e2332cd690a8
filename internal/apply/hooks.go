package apply

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DeleteHooks deletes the hooks of a stage that policy p deletes:
// HookSucceeded once the stage is healthy, HookFailed when it failed. Each
// is reported Deleted, or Skipped when already gone; deletion propagates
// in the background. All are attempted; the error names each failure.
// (BeforeHookCreation is Apply's: it deletes a hook's previous run just
// before creating it again.)
func (m *Manager) DeleteHooks(ctx context.Context, stage []*unstructured.Unstructured, p DeletePolicy) (ChangeSet, error) {
	var hooks []*unstructured.Unstructured
	for _, obj := range stage {
		if d, _ := ReadDirectives(obj); d.Deletes(p) {
			hooks = append(hooks, obj)
		}
	}
	return eachObject(m, "delete hooks", hooks, func(obj *unstructured.Unstructured) (Change, error) {
		return m.deleteHook(ctx, obj, p)
	})
}

func (m *Manager) deleteHook(ctx context.Context, obj *unstructured.Unstructured, p DeletePolicy) (Change, error) {
	ref := Ref(obj)
	res, err := m.resource(ctx, ref)
	if err != nil {
		return Change{}, err
	}
	background := metav1.DeletePropagationBackground
	err = res.Delete(ctx, obj.GetName(), metav1.DeleteOptions{PropagationPolicy: &background})
	if apierrors.IsNotFound(err) {
		return Change{Object: ref, Action: Skipped, Reason: "already gone"}, nil
	}
	if err != nil {
		return Change{}, fmt.Errorf("delete hook (%s): %w", p, err)
	}
	return Change{Object: ref, Action: Deleted, Reason: "hook delete policy " + string(p)}, nil
}
