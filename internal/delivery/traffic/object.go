package traffic

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// kindRef names an object of a kind served by a CRD, for reading and
// writing it as unstructured in the version the cluster prefers.
type kindRef struct {
	gk        schema.GroupKind
	crd       string // what to install when the kind is not served
	namespace string
	name      string
}

// String is how errors name the object: "HTTPRoute shop/web".
func (r kindRef) String() string {
	return fmt.Sprintf("%s %s/%s", r.gk.Kind, r.namespace, r.name)
}

// object returns an empty unstructured object of r's kind in the version
// the cluster prefers, named r.
func (r kindRef) object(c client.Client) (*unstructured.Unstructured, error) {
	mapping, err := c.RESTMapper().RESTMapping(r.gk)
	if meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("%s: the cluster does not serve %s (%s); install the %s CRDs", r, r.gk.Kind, r.gk.Group, r.crd)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: find the API version of %s: %w", r, r.gk, err)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(mapping.GroupVersionKind)
	u.SetNamespace(r.namespace)
	u.SetName(r.name)
	return u, nil
}

// get reads the object r names, saying so when it is missing.
func (r kindRef) get(ctx context.Context, c client.Client) (*unstructured.Unstructured, error) {
	u, err := r.object(c)
	if err != nil {
		return nil, err
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(u), u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s not found", r)
		}
		return nil, fmt.Errorf("read %s: %w", r, err)
	}
	return u, nil
}

// edit reads the object r names, lets change modify it, and writes back the
// difference as a JSON merge patch guarded by the resourceVersion it read,
// reading again and retrying when someone else wrote in between. Nothing is
// written when change leaves the object as it was.
func (r kindRef) edit(ctx context.Context, c client.Client, change func(*unstructured.Unstructured) error, opts ...client.PatchOption) error {
	return editObject(ctx, c, r.String(), func() (*unstructured.Unstructured, error) { return r.get(ctx, c) }, change, opts...)
}

// editObject is edit for any object that read returns.
func editObject(ctx context.Context, c client.Client, what string, read func() (*unstructured.Unstructured, error), change func(*unstructured.Unstructured) error, opts ...client.PatchOption) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live, err := read()
		if err != nil {
			return err
		}
		edited := live.DeepCopy()
		if err := change(edited); err != nil {
			return err
		}
		if equality.Semantic.DeepEqual(live.Object, edited.Object) {
			return nil
		}
		patch := client.MergeFromWithOptions(live, client.MergeFromWithOptimisticLock{})
		opts = append([]client.PatchOption{client.FieldOwner(FieldManager)}, opts...)
		if err := c.Patch(ctx, edited, patch, opts...); err != nil {
			return fmt.Errorf("update %s: %w", what, err)
		}
		return nil
	})
}

// ownedBy returns the owner reference and labels that mark an object weir
// created for ro. A Rollout read from the API server has a UID; one without
// (never stored) gets the label alone.
func ownedBy(ro *v1alpha1.Rollout) ([]metav1.OwnerReference, map[string]string) {
	labels := map[string]string{v1alpha1.RolloutLabel: ro.Name}
	if ro.UID == "" {
		return nil, labels
	}
	return []metav1.OwnerReference{{
		APIVersion: v1alpha1.GroupVersion.String(),
		Kind:       "Rollout",
		Name:       ro.Name,
		UID:        ro.UID,
		Controller: ptr.To(true),
	}}, labels
}

// CheckOwned refuses to take over an object that weir did not create for
// the Rollout named rollout; what names obj in the error.
func CheckOwned(obj metav1.Object, what, rollout string) error {
	if got := obj.GetLabels()[v1alpha1.RolloutLabel]; got != rollout {
		return fmt.Errorf("%s exists and is not weir's for Rollout %s (label %s=%q); rename or delete it", what, rollout, v1alpha1.RolloutLabel, got)
	}
	return nil
}

// objects returns the elements of a JSON list that are objects.
func objects(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// toList turns objects back into a JSON list.
func toList(ms []map[string]any) []any {
	out := make([]any, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}

// str returns m[key] when it is a string.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// child returns m[key] when it is an object.
func child(m map[string]any, key string) map[string]any {
	c, _ := m[key].(map[string]any)
	return c
}

// setList sets m[key] to ms, or removes the key when ms is empty.
func setList(m map[string]any, key string, ms []map[string]any) {
	if len(ms) == 0 {
		delete(m, key)
		return
	}
	m[key] = toList(ms)
}
