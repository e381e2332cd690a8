package bootstrap

import (
	"context"
	"fmt"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// fieldManager is bootstrap's field manager: weir's own ("weir") takes
// the fields over when its Application syncs the same values.
const fieldManager = "weir-bootstrap"

// crdTimeout bounds the wait for weir's CRDs to be served.
const crdTimeout = time.Minute

// applyAll server-side applies objs, Namespaces and CRDs first, the rest
// once those CRDs are served (so that a newer weir's Deployment never runs
// before the kinds it watches), and weir's own kinds last, and returns how
// many it created or changed.
func applyAll(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) (int, error) {
	var first, rest, custom []*unstructured.Unstructured
	for _, o := range objs {
		switch {
		case o.GroupVersionKind().Group == weirv1.GroupVersion.Group:
			custom = append(custom, o)
		case neededFirst(o):
			first = append(first, o)
		default:
			rest = append(rest, o)
		}
	}
	changed, err := applyEach(ctx, c, first)
	if err != nil {
		return changed, err
	}
	for _, o := range first {
		if o.GetKind() == "CustomResourceDefinition" {
			if err := awaitEstablished(ctx, c, o.GetName()); err != nil {
				return changed, err
			}
		}
	}
	for _, set := range [][]*unstructured.Unstructured{rest, custom} {
		n, err := applyEach(ctx, c, set)
		changed += n
		if err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// neededFirst says whether o is of what others need first: Namespaces and
// CRDs.
func neededFirst(o *unstructured.Unstructured) bool {
	switch o.GetKind() {
	case "Namespace", "CustomResourceDefinition":
		return true
	}
	return false
}

// applyEach applies objs in order and returns how many it created or
// changed, stopping at the first error.
func applyEach(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) (int, error) {
	changed := 0
	for _, o := range objs {
		n, err := applyOne(ctx, c, o)
		if err != nil {
			return changed, err
		}
		changed += n
	}
	return changed, nil
}

// applyOne applies o and returns 1 when that created or changed it. A
// role that aggregates others is left as it is when it exists.
func applyOne(ctx context.Context, c client.Client, o *unstructured.Unstructured) (int, error) {
	id := fmt.Sprintf("%s %s", o.GetKind(), client.ObjectKeyFromObject(o))
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(o.GroupVersionKind())
	before := ""
	switch err := c.Get(ctx, client.ObjectKeyFromObject(o), live); {
	case err == nil && aggregates(o):
		return 0, nil
	case err == nil:
		before = live.GetResourceVersion()
	case !apierrors.IsNotFound(err):
		return 0, fmt.Errorf("read %s: %w", id, err)
	}
	applied := o.DeepCopy()
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(applied), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		return 0, fmt.Errorf("apply %s: %w", id, err)
	}
	if applied.GetResourceVersion() == before {
		return 0, nil
	}
	return 1, nil
}

// awaitEstablished waits until the API server serves the CRD name.
func awaitEstablished(ctx context.Context, c client.Client, name string) error {
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, crdTimeout, true, func(ctx context.Context) (bool, error) {
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
		if err := c.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, cond := range conditions {
			m, _ := cond.(map[string]any)
			if m["type"] == string(apiextensionsv1.Established) && m["status"] == string(apiextensionsv1.ConditionTrue) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("CustomResourceDefinition %s is not served: %w", name, err)
	}
	return nil
}
