package sourcepolicy

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// The controller reads SourcePolicies, and the labels of the namespaces
// they select.
// +kubebuilder:rbac:groups=weir.dev,resources=sourcepolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list

// Reader finds the SourcePolicies that bind Applications.
type Reader struct {
	// Cache lists SourcePolicies and Applications: the manager's client,
	// whose cache watches both.
	Cache client.Reader
	// Namespaces reads Namespaces, uncached: they are read only when a
	// policy selects namespaces by label.
	Namespaces client.Reader
}

// For returns the Rules that bind app: those of every SourcePolicy whose
// selector matches the labels of app's namespace.
func (r *Reader) For(ctx context.Context, app *weirv1.Application) (Rules, error) {
	list := &weirv1.SourcePolicyList{}
	if err := r.Cache.List(ctx, list); err != nil {
		return Rules{}, fmt.Errorf("list SourcePolicies: %w", err)
	}
	var nsLabels labels.Set
	for _, p := range list.Items {
		if p.Spec.NamespaceSelector != nil {
			ns := &corev1.Namespace{}
			if err := r.Namespaces.Get(ctx, client.ObjectKey{Name: app.Namespace}, ns); err != nil {
				return Rules{}, fmt.Errorf("read the labels of namespace %s: %w", app.Namespace, err)
			}
			nsLabels = ns.Labels
			break
		}
	}
	return Select(list.Items, nsLabels)
}

// Applications returns the Applications that policy binds: those of the
// namespaces its selector matches.
func (r *Reader) Applications(ctx context.Context, policy *weirv1.SourcePolicy) ([]types.NamespacedName, error) {
	sel, err := selector(policy)
	if err != nil {
		return nil, err
	}
	namespaces := []string{""} // every namespace
	if !sel.Empty() {
		list := &corev1.NamespaceList{}
		if err := r.Namespaces.List(ctx, list, client.MatchingLabelsSelector{Selector: sel}); err != nil {
			return nil, fmt.Errorf("list the namespaces of SourcePolicy %s: %w", policy.Name, err)
		}
		namespaces = namespaces[:0]
		for _, ns := range list.Items {
			namespaces = append(namespaces, ns.Name)
		}
	}
	var apps []types.NamespacedName
	for _, ns := range namespaces {
		list := &weirv1.ApplicationList{}
		if err := r.Cache.List(ctx, list, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("list Applications: %w", err)
		}
		for _, app := range list.Items {
			apps = append(apps, client.ObjectKeyFromObject(&app))
		}
	}
	return apps, nil
}
