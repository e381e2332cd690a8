package apply

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// namespaceInUse returns why Namespace ns must not be pruned: it holds
// objects that deleting it would take along. It returns "" for a namespace
// that holds only dependents and what Kubernetes creates in every namespace.
func (m *Manager) namespaceInUse(ctx context.Context, ns string) (string, error) {
	kinds, err := m.namespacedKinds(ctx)
	if err != nil {
		return "", fmt.Errorf("list what namespace %s holds: %w", ns, err)
	}
	var examples []string
	total := 0
	for _, gvr := range slices.SortedFunc(maps.Keys(kinds), byName) {
		kind := kinds[gvr]
		names, err := m.independentObjects(ctx, gvr, ns)
		if err != nil {
			return "", fmt.Errorf("list %s in namespace %s: %w", gvr.Resource, ns, err)
		}
		total += len(names)
		for _, name := range names {
			if len(examples) < 3 {
				examples = append(examples, kind+"/"+name)
			}
		}
	}
	if total == 0 {
		return "", nil
	}
	return fmt.Sprintf("namespace still holds %d object(s) not pruned with it, such as %s",
		total, strings.Join(examples, ", ")), nil
}

// ignoredResources are created and removed by Kubernetes itself.
var ignoredResources = map[schema.GroupResource]bool{
	{Resource: "events"}:                         true,
	{Group: "events.k8s.io", Resource: "events"}: true,
	{Resource: "endpoints"}:                      true, // mirror Services
}

// namespacedKinds returns every namespaced resource that can be listed and
// deleted, with its kind, from fresh discovery: a stale cache would miss
// kinds and so objects.
func (m *Manager) namespacedKinds(ctx context.Context) (map[schema.GroupVersionResource]string, error) {
	m.mapper.Reset(ctx)
	lists, err := discovery.ServerPreferredNamespacedResources(m.mapper.discovery)
	if err != nil {
		return nil, err
	}
	lists = discovery.FilteredBy(discovery.SupportsAllVerbs{Verbs: []string{"list", "delete"}}, lists)
	kinds := map[schema.GroupVersionResource]string{}
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			return nil, err
		}
		for _, r := range list.APIResources {
			if !ignoredResources[gv.WithResource(r.Name).GroupResource()] {
				kinds[gv.WithResource(r.Name)] = r.Kind
			}
		}
	}
	return kinds, nil
}

// independentObjects lists the names of the objects of one resource in ns
// that would be lost with it: not dependents of another object, not being
// deleted already, not Kubernetes' own.
func (m *Manager) independentObjects(ctx context.Context, gvr schema.GroupVersionResource, ns string) ([]string, error) {
	var names []string
	opts := metav1.ListOptions{Limit: 500}
	for {
		list, err := m.metadata.Resource(gvr).Namespace(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, item := range list.Items {
			if len(item.OwnerReferences) == 0 && item.DeletionTimestamp == nil && !builtIn(gvr, item.Name) {
				names = append(names, item.Name)
			}
		}
		if opts.Continue = list.Continue; opts.Continue == "" {
			return names, nil
		}
	}
}

// builtIn reports whether an object is one Kubernetes puts in every namespace.
func builtIn(gvr schema.GroupVersionResource, name string) bool {
	switch {
	case gvr.Group == "" && gvr.Resource == "serviceaccounts":
		return name == "default"
	case gvr.Group == "" && gvr.Resource == "configmaps":
		return name == "kube-root-ca.crt"
	default:
		return false
	}
}

func byName(a, b schema.GroupVersionResource) int { return strings.Compare(a.String(), b.String()) }
