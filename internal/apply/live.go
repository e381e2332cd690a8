package apply

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// LiveObject is an object of a set as the cluster holds it.
type LiveObject struct {
	// Resource is the object's resource; for a kind the cluster does not
	// serve yet (its CRD is in the set), the conventional guess.
	Resource schema.GroupVersionResource
	// Live is the object in the cluster; nil when absent.
	Live *unstructured.Unstructured
}

// Live reads each object of a normalized set from the cluster, for checks
// that compare what Git declares with what is there (policies' oldObject).
// The result is in the order of objs; a *SetError names the objects that
// could not be read.
func (m *Manager) Live(ctx context.Context, objs []*unstructured.Unstructured) ([]LiveObject, error) {
	return eachObject(m, "read", objs, func(obj *unstructured.Unstructured) (LiveObject, error) {
		ref := Ref(obj)
		mapping, err := m.mapper.RESTMappingWithContext(ctx, schema.GroupKind{Group: ref.Group, Kind: ref.Kind}, ref.Version)
		if meta.IsNoMatchError(err) {
			gvr, _ := meta.UnsafeGuessKindToResource(obj.GroupVersionKind())
			return LiveObject{Resource: gvr}, nil
		}
		if err != nil {
			return LiveObject{}, err
		}
		res, err := m.resource(ctx, ref)
		if err != nil {
			return LiveObject{}, err
		}
		live, err := get(ctx, res, obj.GetName())
		return LiveObject{Resource: mapping.Resource, Live: live}, err
	})
}
