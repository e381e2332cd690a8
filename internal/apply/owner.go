package apply

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"weir.dev/weir/api/v1alpha1"
)

// Owner is the Application that applies a set of objects. SetOwner marks
// the objects with it; Validate and Apply refuse objects another
// Application owns, and Prune leaves them alone.
type Owner struct {
	Namespace, Name string
	UID             types.UID
}

// OwnerOf returns app as an Owner.
func OwnerOf(app *v1alpha1.Application) Owner {
	return Owner{Namespace: app.Namespace, Name: app.Name, UID: app.UID}
}

// String is "namespace/name", the value of v1alpha1.OwnerAnnotation.
func (o Owner) String() string { return o.Namespace + "/" + o.Name }

// SetOwner marks every object of objs as owner's, with
// v1alpha1.OwnerAnnotation and v1alpha1.OwnerUIDAnnotation, over whatever
// owner an object names in Git: a set cannot claim to be another's.
func SetOwner(objs []*unstructured.Unstructured, owner Owner) {
	for _, obj := range objs {
		annotations := obj.GetAnnotations()
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[v1alpha1.OwnerAnnotation] = owner.String()
		annotations[v1alpha1.OwnerUIDAnnotation] = string(owner.UID)
		obj.SetAnnotations(annotations)
	}
}

// OwnershipError says that an object belongs to another Application.
type OwnershipError struct {
	// Owner is the Application that owns the object, as "namespace/name".
	Owner string
}

// Error names the owner and how to give the object up.
func (e *OwnershipError) Error() string {
	return fmt.Sprintf("owned by Application %s: one object can only belong to one Application; "+
		"remove it from one of them, or from %s first, which gives it up", e.Owner, e.Owner)
}

// ownedElsewhere returns the Application other than owner that live's
// annotations name, or "" when they name none or owner.
func ownedElsewhere(live map[string]string, owner string) string {
	if have := live[v1alpha1.OwnerAnnotation]; have != owner {
		return have
	}
	return ""
}

// checkOwner returns an *OwnershipError when the live object, whose
// annotations are given (nil when there is none), belongs to an
// Application other than the one obj is marked for (see SetOwner) that
// still exists. An object without an owner (new, applied before weir
// recorded owners, or by someone else) is free; so is one whose owner is
// gone: the first Application to apply it claims it.
func (m *Manager) checkOwner(ctx context.Context, obj *unstructured.Unstructured, live map[string]string) error {
	other := ownedElsewhere(live, obj.GetAnnotations()[v1alpha1.OwnerAnnotation])
	if other == "" {
		return nil
	}
	exists, err := m.applicationExists(ctx, other, types.UID(live[v1alpha1.OwnerUIDAnnotation]))
	if err != nil || !exists {
		return err
	}
	return &OwnershipError{Owner: other}
}

// applicationResource is where Applications live.
var applicationResource = v1alpha1.GroupVersion.WithResource("applications")

// applicationExists reports whether the Application named "namespace/name"
// exists with the UID given; a UID of "" matches any.
func (m *Manager) applicationExists(ctx context.Context, name string, uid types.UID) (bool, error) {
	ns, n, ok := strings.Cut(name, "/")
	if !ok || ns == "" || n == "" {
		return false, nil // not an Application's name: nobody holds the object
	}
	app, err := m.owners.Resource(applicationResource).Namespace(ns).Get(ctx, n, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read its owner, Application %s: %w", name, err)
	}
	return uid == "" || app.UID == uid, nil
}

// checkOwners runs checkOwner on every object of a set that exists.
func (m *Manager) checkOwners(ctx context.Context, objs []*unstructured.Unstructured) []*ObjectError {
	failures := make([]error, len(objs))
	m.each(len(objs), func(i int) {
		live, err := m.liveAnnotations(ctx, Ref(objs[i]))
		if err == nil {
			err = m.checkOwner(ctx, objs[i], live)
		}
		failures[i] = err
	})
	var errs []*ObjectError
	for i, err := range failures {
		if err != nil {
			errs = append(errs, objectError(objs[i], err))
		}
	}
	return errs
}

// liveAnnotations returns the annotations of ref's live object, or nil when
// there is none or the cluster does not serve its kind yet.
func (m *Manager) liveAnnotations(ctx context.Context, ref v1alpha1.ObjectRef) (map[string]string, error) {
	mapping, err := m.mapper.RESTMappingWithContext(ctx, schema.GroupKind{Group: ref.Group, Kind: ref.Kind}, ref.Version)
	if meta.IsNoMatchError(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	res := m.metadata.Resource(mapping.Resource)
	var live *metav1.PartialObjectMetadata
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		live, err = res.Namespace(ref.Namespace).Get(ctx, ref.Name, getOptions)
	} else {
		live, err = res.Get(ctx, ref.Name, getOptions)
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	return live.GetAnnotations(), nil
}
