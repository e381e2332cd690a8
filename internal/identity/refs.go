package identity

import (
	"fmt"
	"maps"
	"slices"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/delivery"
)

// CrossNamespaceError is a reference to another namespace that the
// controller's --no-cross-namespace-refs refuses.
type CrossNamespaceError struct {
	// Object holding the reference: "Application shop/web".
	Object string
	// Field holding the reference, as a path.
	Field string
	// Namespace it names.
	Namespace string
}

func (e *CrossNamespaceError) Error() string {
	return fmt.Sprintf("%s: %s names namespace %q; references must stay in the object's own namespace (--no-cross-namespace-refs)", e.Object, e.Field, e.Namespace)
}

// CheckApplication returns a *CrossNamespaceError when p refuses
// references across namespaces and a field of app names another namespace
// than app's: its destination or its Helm release namespace. Secrets are
// always read in app's namespace.
func (p Policy) CheckApplication(app *weirv1.Application) error {
	if !p.NoCrossNamespaceRefs {
		return nil
	}
	refs := map[string]string{"spec.destination.namespace": app.Spec.Destination.Namespace}
	if h := app.Spec.Render.Helm; h != nil {
		refs["spec.render.helm.namespace"] = h.Namespace
	}
	for _, field := range slices.Sorted(maps.Keys(refs)) {
		if ns := refs[field]; ns != "" && ns != app.Namespace {
			return &CrossNamespaceError{Object: "Application " + app.Namespace + "/" + app.Name, Field: field, Namespace: ns}
		}
	}
	return nil
}

// CheckRollout returns a *CrossNamespaceError when p refuses references
// across namespaces and ro names an Application of another namespace (the
// weir.dev/application annotation). Its target, Services, router objects
// and AnalysisTemplates are always in ro's namespace.
func (p Policy) CheckRollout(ro *weirv1.Rollout) error {
	if !p.NoCrossNamespaceRefs {
		return nil
	}
	if app, ok := delivery.ApplicationOf(ro); ok && app.Namespace != ro.Namespace {
		return &CrossNamespaceError{Object: "Rollout " + ro.Namespace + "/" + ro.Name,
			Field: "metadata.annotations[" + weirv1.ApplicationAnnotation + "]", Namespace: app.Namespace}
	}
	return nil
}
