package policy

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
)

// LiveReader reads a set's objects from the cluster (apply.Manager.Live).
type LiveReader interface {
	Live(ctx context.Context, objs []*unstructured.Unstructured) ([]apply.LiveObject, error)
}

// Checker finds the ClusterSyncPolicies that bind an Application and
// evaluates them on a set, with what they read from the cluster: the live
// objects, their namespaces and the policies' params.
type Checker struct {
	// Reader reads ClusterSyncPolicies, Namespaces and ConfigMaps.
	Reader client.Reader
	// Known, when set, caches the ClusterSyncPolicies (the manager's
	// cache, which SyncPolicyReconciler's watch fills): while it holds
	// none, Check reads nothing, so that a sync or a heal where no policy
	// exists costs no request. Reader is listed otherwise, so that a
	// policy changed a moment ago applies at once.
	Known  client.Reader
	Engine *Engine
}

// Check evaluates the policies that bind app on objs, a normalized set,
// reading the live objects with live when some policy binds app. An error
// says that the policies could not be read or their inputs gathered; what
// the policies found is in the Report.
func (c *Checker) Check(ctx context.Context, app *weirv1.Application, objs []*unstructured.Unstructured, live LiveReader) (Report, error) {
	bound, err := c.bound(ctx, app.Namespace)
	if err != nil || len(bound) == 0 {
		return Report{}, err
	}
	set, err := c.set(ctx, objs, live)
	if err != nil {
		return Report{}, err
	}
	return c.Engine.Evaluate(ctx, bound, set), nil
}

// bound lists the policies whose namespaceSelector selects namespace,
// with their params.
func (c *Checker) bound(ctx context.Context, namespace string) ([]Bound, error) {
	if c.noneKnown(ctx) {
		c.Engine.Forget(nil)
		return nil, nil
	}
	var list weirv1.ClusterSyncPolicyList
	if err := c.Reader.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list ClusterSyncPolicies: %w", err)
	}
	c.Engine.Forget(list.Items)
	if len(list.Items) == 0 {
		return nil, nil
	}
	ns := &corev1.Namespace{}
	if err := c.Reader.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		return nil, fmt.Errorf("read namespace %s: %w", namespace, err)
	}
	var bound []Bound
	for i := range list.Items {
		p := &list.Items[i]
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.NamespaceSelector)
		if err != nil {
			// Fail closed: a policy whose selector is invalid binds all.
			sel = labels.Everything()
		}
		if p.Spec.NamespaceSelector != nil && !sel.Matches(labels.Set(ns.Labels)) {
			continue
		}
		params, err := c.params(ctx, p)
		if err != nil {
			return nil, err
		}
		bound = append(bound, Bound{Policy: p, Params: params})
	}
	return bound, nil
}

// noneKnown reports whether Known holds no ClusterSyncPolicy.
func (c *Checker) noneKnown(ctx context.Context) bool {
	if c.Known == nil {
		return false
	}
	var list weirv1.ClusterSyncPolicyList
	return c.Known.List(ctx, &list, client.Limit(1)) == nil && len(list.Items) == 0
}

// params is what a CEL policy reads as params: its inline object, or the
// ConfigMap it names.
func (c *Checker) params(ctx context.Context, p *weirv1.ClusterSyncPolicy) (runtime.Object, error) {
	cel := p.Spec.CEL
	switch {
	case cel == nil:
		return nil, nil
	case cel.Params != nil:
		obj := &unstructured.Unstructured{}
		if err := json.Unmarshal(cel.Params.Raw, &obj.Object); err != nil {
			return nil, fmt.Errorf("ClusterSyncPolicy %s: params: %w", p.Name, err)
		}
		return obj, nil
	case cel.ParamRef != nil:
		cm := &corev1.ConfigMap{}
		key := client.ObjectKey{Namespace: cel.ParamRef.Namespace, Name: cel.ParamRef.Name}
		if err := c.Reader.Get(ctx, key, cm); err != nil {
			return nil, fmt.Errorf("ClusterSyncPolicy %s: params: read ConfigMap %s: %w", p.Name, key, err)
		}
		return cm, nil
	}
	return nil, nil
}

// set pairs each object with its live state and resource, and gathers
// their namespaces: those of the set as they will be, the others as they
// are.
func (c *Checker) set(ctx context.Context, objs []*unstructured.Unstructured, reader LiveReader) (Set, error) {
	live, err := reader.Live(ctx, objs)
	if err != nil {
		return Set{}, err
	}
	set := Set{Objects: make([]Object, len(objs)), Namespaces: map[string]*corev1.Namespace{}}
	for i, obj := range objs {
		set.Objects[i] = Object{Desired: obj, Live: live[i].Live, Resource: live[i].Resource}
		if obj.GroupVersionKind() == corev1.SchemeGroupVersion.WithKind("Namespace") {
			ns := &corev1.Namespace{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, ns); err != nil {
				return Set{}, fmt.Errorf("Namespace %s: %w", obj.GetName(), err)
			}
			set.Namespaces[ns.Name] = ns
		}
	}
	for _, obj := range objs {
		name := obj.GetNamespace()
		if _, known := set.Namespaces[name]; known || name == "" {
			continue
		}
		ns := &corev1.Namespace{}
		err := c.Reader.Get(ctx, client.ObjectKey{Name: name}, ns)
		if err != nil && !apierrors.IsNotFound(err) {
			return Set{}, fmt.Errorf("read namespace %s: %w", name, err)
		}
		ns.Name = name // when it does not exist yet
		set.Namespaces[name] = ns
	}
	return set, nil
}
