package apply

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"weir.dev/weir/api/v1alpha1"
)

// LiveRead is one object as ReadObjects found it.
type LiveRead struct {
	// Object is the live object; nil when there is none.
	Object *unstructured.Unstructured
	// Served is false when the cluster does not serve the object's kind.
	Served bool
	// Err is why the object could not be read.
	Err error
}

// ReadObjects reads the objects refs name, at the version each names or,
// when the cluster no longer serves that one, at another; the result is
// in the order of refs. Objects of one kind and namespace are read with
// one list of the objects weir manages there (ManagedByLabel) rather than
// one GET each; an object the list does not hold, or every object when the
// list is refused (an identity may be allowed to get its objects but not
// to list them), is read on its own.
func ReadObjects(ctx context.Context, client dynamic.Interface, mapper meta.RESTMapper, refs []v1alpha1.ObjectRef) []LiveRead {
	reads := make([]LiveRead, len(refs))
	for _, g := range readGroups(client, mapper, refs, reads) {
		g.read(ctx, refs, reads)
	}
	return reads
}

// readGroup is the objects of refs read from one resource in one namespace.
type readGroup struct {
	res     dynamic.ResourceInterface
	indices []int
}

// readGroups sorts refs into readGroups by resource and namespace, and
// records in reads the refs it cannot map.
func readGroups(client dynamic.Interface, mapper meta.RESTMapper, refs []v1alpha1.ObjectRef, reads []LiveRead) []*readGroup {
	type key struct {
		gvr       schema.GroupVersionResource
		namespace string
	}
	byKey := map[key]*readGroup{}
	var groups []*readGroup
	for i, ref := range refs {
		mapping, err := mappingOf(mapper, ref)
		if meta.IsNoMatchError(err) {
			continue // reads[i] says so as it is
		}
		if err != nil {
			reads[i] = LiveRead{Served: true, Err: err}
			continue
		}
		k := key{gvr: mapping.Resource}
		var res dynamic.ResourceInterface = client.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			k.namespace = ref.Namespace
			res = client.Resource(mapping.Resource).Namespace(ref.Namespace)
		}
		g, ok := byKey[k]
		if !ok {
			g = &readGroup{res: res}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.indices = append(g.indices, i)
	}
	return groups
}

// mappingOf maps ref's kind to its resource, at the version it names or,
// when the cluster no longer serves that one, at another.
func mappingOf(mapper meta.RESTMapper, ref v1alpha1.ObjectRef) (*meta.RESTMapping, error) {
	gk := schema.GroupKind{Group: ref.Group, Kind: ref.Kind}
	mapping, err := mapper.RESTMapping(gk, ref.Version)
	if meta.IsNoMatchError(err) {
		mapping, err = mapper.RESTMapping(gk)
	}
	return mapping, err
}

// managedSelector selects the objects weir applied.
var managedSelector = metav1.ListOptions{LabelSelector: ManagedByLabel}

// read reads the objects of g into reads, with one list when there are
// several.
func (g *readGroup) read(ctx context.Context, refs []v1alpha1.ObjectRef, reads []LiveRead) {
	listed := map[string]*unstructured.Unstructured{}
	if len(g.indices) > 1 {
		if list, err := g.res.List(ctx, managedSelector); err == nil {
			for i := range list.Items {
				listed[list.Items[i].GetName()] = &list.Items[i]
			}
		}
	}
	for _, i := range g.indices {
		obj, ok := listed[refs[i].Name]
		var err error
		if !ok {
			obj, err = get(ctx, g.res, refs[i].Name)
		}
		reads[i] = LiveRead{Object: obj, Served: true, Err: err}
	}
}
