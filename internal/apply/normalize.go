package apply

import (
	"context"
	"errors"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Normalize prepares a rendered set for the other steps, in place: a
// namespaced object without a namespace gets defaultNamespace, a
// cluster-scoped object loses any namespace it names. Scope comes from the
// cluster, or for a kind not served yet from a CustomResourceDefinition in
// the same set. The error names every object without a name, of an unknown
// kind, or namespaced with no namespace to give it.
func (m *Manager) Normalize(ctx context.Context, objs []*unstructured.Unstructured, defaultNamespace string) error {
	crds, errs := setCRDs(objs)
	for _, obj := range objs {
		if err := m.normalize(ctx, obj, crds, defaultNamespace); err != nil {
			errs = append(errs, objectError(obj, err))
		}
	}
	return setError("normalize", len(objs), errs)
}

func (m *Manager) normalize(ctx context.Context, obj *unstructured.Unstructured, crds map[schema.GroupKind]*apiextensionsv1.CustomResourceDefinition, defaultNamespace string) error {
	if obj.GetName() == "" {
		return errors.New("object has no metadata.name")
	}
	namespaced, err := m.namespaced(ctx, obj, crds)
	if err != nil {
		return err
	}
	switch {
	case !namespaced:
		obj.SetNamespace("")
	case obj.GetNamespace() == "" && defaultNamespace == "":
		return errors.New("namespaced object has no namespace and no default namespace is set")
	case obj.GetNamespace() == "":
		obj.SetNamespace(defaultNamespace)
	}
	return nil
}

// namespaced reports whether obj's kind is namespaced.
func (m *Manager) namespaced(ctx context.Context, obj *unstructured.Unstructured, crds map[schema.GroupKind]*apiextensionsv1.CustomResourceDefinition) (bool, error) {
	gvk := obj.GroupVersionKind()
	if gvk.Kind == "" || gvk.Version == "" {
		return false, errors.New("object has no apiVersion or kind")
	}
	mapping, err := m.mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
	if err == nil {
		return mapping.Scope.Name() == meta.RESTScopeNameNamespace, nil
	}
	if !meta.IsNoMatchError(err) {
		return false, fmt.Errorf("look up kind %s: %w", gvk, err)
	}
	crd, ok := crds[gvk.GroupKind()]
	if !ok {
		return false, fmt.Errorf("the cluster does not serve %s and no CustomResourceDefinition in the set defines it", gvk)
	}
	if _, err := crdVersion(crd, gvk.Version); err != nil {
		return false, err
	}
	return crd.Spec.Scope == apiextensionsv1.NamespaceScoped, nil
}
