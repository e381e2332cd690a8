package render

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// collector gathers the objects of one render, refusing duplicates and more
// than limit objects.
type collector struct {
	limit int
	objs  []*unstructured.Unstructured
	// seen maps each named object to where it was found, "file:line".
	seen map[string]string
}

func newCollector(limit int) *collector {
	return &collector{limit: limit, seen: make(map[string]string)}
}

// from returns an emitFunc that adds the objects of a document of file.
func (c *collector) from(file string) emitFunc {
	return func(doc map[string]any, line int) error {
		return c.addDocument(doc, fmt.Sprintf("%s:%d", file, line))
	}
}

// addDocument adds the objects of a document found at where.
func (c *collector) addDocument(doc map[string]any, where string) error {
	objs, err := objectsOf(doc)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := c.add(obj, where); err != nil {
			return err
		}
	}
	return nil
}

// add appends obj, found at where, unless it is one too many or repeats an
// object already added.
func (c *collector) add(obj *unstructured.Unstructured, where string) error {
	if len(c.objs) >= c.limit {
		return fmt.Errorf("more than %d objects, the most one render may produce", c.limit)
	}
	id := objectID(obj)
	if first, ok := c.seen[id]; ok {
		return fmt.Errorf("duplicate object %s, first defined at %s", id, first)
	}
	c.seen[id] = where
	c.objs = append(c.objs, obj)
	return nil
}

// objectID identifies an object for duplicate detection the way the API
// server does: by group, kind, namespace and name, as in
// "Deployment.apps shop/web".
func objectID(obj *unstructured.Unstructured) string {
	gk := obj.GroupVersionKind().GroupKind()
	name := obj.GetName()
	if ns := obj.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return gk.String() + " " + name
}

// objectsOf returns the objects a document holds: the document itself, or
// the items of a List.
func objectsOf(doc map[string]any) ([]*unstructured.Unstructured, error) {
	obj := &unstructured.Unstructured{Object: doc}
	if !isList(obj) {
		if err := validate(obj); err != nil {
			return nil, err
		}
		return []*unstructured.Unstructured{obj}, nil
	}
	items, _ := doc["items"].([]any)
	objs := make([]*unstructured.Unstructured, 0, len(items))
	for i, item := range items {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s item %d is not an object", obj.GetKind(), i+1)
		}
		o := &unstructured.Unstructured{Object: m}
		if err := validate(o); err != nil {
			return nil, fmt.Errorf("%s item %d: %w", obj.GetKind(), i+1, err)
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// isList reports whether obj is a list to expand: kind List, or any kind
// ending in List that has an items array, as kubectl treats them.
func isList(obj *unstructured.Unstructured) bool {
	kind, _ := obj.Object["kind"].(string)
	if kind == "List" {
		return true
	}
	_, hasItems := obj.Object["items"].([]any)
	return hasItems && strings.HasSuffix(kind, "List")
}

// validate checks that obj names its type and itself. An object named
// only by metadata.generateName is refused: server-side apply needs a name,
// and a generated one would make every sync create another object.
func validate(obj *unstructured.Unstructured) error {
	apiVersion, _ := obj.Object["apiVersion"].(string)
	kind, _ := obj.Object["kind"].(string)
	switch {
	case apiVersion == "":
		return errors.New("missing apiVersion")
	case kind == "":
		return errors.New("missing kind")
	}
	if _, err := schema.ParseGroupVersion(apiVersion); err != nil {
		return fmt.Errorf("%s: invalid apiVersion %q", kind, apiVersion)
	}
	if md, ok := obj.Object["metadata"]; ok && md != nil {
		if _, ok := md.(map[string]any); !ok {
			return fmt.Errorf("%s: metadata is not an object", kind)
		}
	}
	switch {
	case obj.GetName() == "" && obj.GetGenerateName() != "":
		return fmt.Errorf("%s: metadata.generateName %q without metadata.name is not supported: weir applies every object by name, so that the next sync updates it rather than create another; give it a metadata.name", kind, obj.GetGenerateName())
	case obj.GetName() == "":
		return fmt.Errorf("%s: missing metadata.name", kind)
	}
	if _, ok := obj.Object["sops"]; ok {
		return fmt.Errorf("%s %s: has SOPS metadata: it is encrypted and was not decrypted", kind, obj.GetName())
	}
	return nil
}
