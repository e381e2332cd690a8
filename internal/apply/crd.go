package apply

import (
	"context"
	"fmt"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"weir.dev/weir/api/v1alpha1"
)

// crdResource is where CustomResourceDefinitions live.
var crdResource = apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")

// crdEstablishTimeout bounds the wait for an applied CRD to be served.
const crdEstablishTimeout = time.Minute

func isCRD(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Group == apiextensionsv1.GroupName && gvk.Kind == "CustomResourceDefinition"
}

func isNamespace(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "Namespace"
}

func decodeCRD(obj *unstructured.Unstructured) (*apiextensionsv1.CustomResourceDefinition, error) {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, crd); err != nil {
		return nil, fmt.Errorf("decode CustomResourceDefinition: %w", err)
	}
	return crd, nil
}

// setCRDs indexes the CustomResourceDefinitions of a set by the kind each
// defines, and reports those that cannot be decoded.
func setCRDs(objs []*unstructured.Unstructured) (map[schema.GroupKind]*apiextensionsv1.CustomResourceDefinition, []*ObjectError) {
	crds := map[schema.GroupKind]*apiextensionsv1.CustomResourceDefinition{}
	var errs []*ObjectError
	for _, obj := range objs {
		if !isCRD(obj) {
			continue
		}
		crd, err := decodeCRD(obj)
		if err != nil {
			errs = append(errs, objectError(obj, err))
			continue
		}
		crds[schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}] = crd
	}
	return crds, errs
}

// crdVersion returns the version of crd named version, if crd serves it.
func crdVersion(crd *apiextensionsv1.CustomResourceDefinition, version string) (*apiextensionsv1.CustomResourceDefinitionVersion, error) {
	for i := range crd.Spec.Versions {
		v := &crd.Spec.Versions[i]
		if v.Name == version {
			if !v.Served {
				return nil, fmt.Errorf("CustomResourceDefinition %s does not serve version %s", crd.Name, version)
			}
			return v, nil
		}
	}
	return nil, fmt.Errorf("CustomResourceDefinition %s has no version %s", crd.Name, version)
}

// waitServed waits until each CRD is Established and the Manager's mapper
// knows the kind it defines, and fails early when the API server refuses
// one (NamesAccepted False).
func (m *Manager) waitServed(ctx context.Context, crds []*unstructured.Unstructured) error {
	ctx, cancel := context.WithTimeout(ctx, crdEstablishTimeout)
	defer cancel()
	for _, obj := range crds {
		if err := poll(ctx, func() (bool, error) { return m.crdEstablished(ctx, obj.GetName()) }); err != nil {
			return fmt.Errorf("CustomResourceDefinition %s is not Established: %w", obj.GetName(), err)
		}
		if err := poll(ctx, func() (bool, error) { return m.mapperKnows(ctx, obj) }); err != nil {
			return fmt.Errorf("CustomResourceDefinition %s is not served: %w", obj.GetName(), err)
		}
	}
	return nil
}

// poll calls done every 100ms until it returns true or an error, or ctx ends.
func poll(ctx context.Context, done func() (bool, error)) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := done()
		if ok || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// mapperKnows resets the mapper and reports whether it now maps every
// version a CRD serves: discovery may lag behind the Established condition.
func (m *Manager) mapperKnows(ctx context.Context, obj *unstructured.Unstructured) (bool, error) {
	crd, err := decodeCRD(obj)
	if err != nil {
		return false, err
	}
	m.mapper.Reset(ctx)
	gk := schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		_, err := m.mapper.RESTMappingWithContext(ctx, gk, v.Name)
		if meta.IsNoMatchError(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	return true, nil
}

func (m *Manager) crdEstablished(ctx context.Context, name string) (bool, error) {
	obj, err := m.client.Resource(crdResource).Get(ctx, name, getOptions)
	if err != nil {
		return false, err
	}
	crd, err := decodeCRD(obj)
	if err != nil {
		return false, err
	}
	for _, c := range crd.Status.Conditions {
		switch {
		case c.Type == apiextensionsv1.NamesAccepted && c.Status == apiextensionsv1.ConditionFalse:
			return false, fmt.Errorf("names not accepted: %s", c.Message)
		case c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue:
			return true, nil
		}
	}
	return false, nil
}

// crdInUse returns why a CustomResourceDefinition must not be pruned:
// custom resources of its kind exist, in any namespace, that are not being
// deleted already, and it is not annotated to go with them. It returns ""
// when none exist.
func (m *Manager) crdInUse(ctx context.Context, live *unstructured.Unstructured) (string, error) {
	if live.GetAnnotations()[v1alpha1.PruneCRDWithInstancesAnnotation] == "true" {
		return "", nil
	}
	crd, err := decodeCRD(live)
	if err != nil {
		return "", err
	}
	gvr, ok := servedResource(crd)
	if !ok {
		return "", nil // nothing can be read or written through it
	}
	examples, err := m.someInstances(ctx, gvr, maxInstanceExamples)
	if err != nil || len(examples) == 0 {
		return "", err
	}
	return fmt.Sprintf("custom resources of its kind %s still exist, such as %s; deleting it would delete every one of them, in every namespace (annotate it %s: \"true\" to allow it)",
		crd.Spec.Names.Kind, strings.Join(examples, ", "), v1alpha1.PruneCRDWithInstancesAnnotation), nil
}

// maxInstanceExamples is how many custom resources crdInUse names.
const maxInstanceExamples = 3

// servedResource returns the resource of a version that crd serves.
func servedResource(crd *apiextensionsv1.CustomResourceDefinition) (schema.GroupVersionResource, bool) {
	for _, v := range crd.Spec.Versions {
		if v.Served {
			return schema.GroupVersionResource{Group: crd.Spec.Group, Version: v.Name, Resource: crd.Spec.Names.Plural}, true
		}
	}
	return schema.GroupVersionResource{}, false
}

// someInstances names up to n objects of gvr, in every namespace, that
// are not being deleted.
func (m *Manager) someInstances(ctx context.Context, gvr schema.GroupVersionResource, n int) ([]string, error) {
	var names []string
	opts := metav1.ListOptions{Limit: 500}
	for {
		list, err := m.metadata.Resource(gvr).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", gvr.GroupResource(), err)
		}
		for _, item := range list.Items {
			if item.DeletionTimestamp == nil {
				names = append(names, strings.TrimPrefix(item.Namespace+"/"+item.Name, "/"))
			}
			if len(names) == n {
				return names, nil
			}
		}
		if opts.Continue = list.Continue; opts.Continue == "" {
			return names, nil
		}
	}
}
