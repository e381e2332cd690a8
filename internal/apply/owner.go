package apply

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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

// readAndCheckOwners reads the live objects of a set (see ReadObjects),
// but for those whose dry run (applied[i]; nil when there was none) shows
// they do not exist, and returns what each dry run found with the object
// it ran on. The errors name every object that belongs to another
// Application (see checkOwner) or could not be read.
func (m *Manager) readAndCheckOwners(ctx context.Context, objs, applied []*unstructured.Unstructured) (DryRuns, []*ObjectError) {
	var (
		dryRuns DryRuns
		errs    []*ObjectError
		read    []int // indices of the objects read
		refs    []v1alpha1.ObjectRef
	)
	for i, obj := range objs {
		if applied[i] != nil && !exists(applied[i]) {
			dryRuns.add(Ref(obj), nil, applied[i])
			continue
		}
		read = append(read, i)
		refs = append(refs, Ref(obj))
	}
	for j, live := range ReadObjects(ctx, m.client, m.mapper, refs) {
		i, err := read[j], live.Err
		if err == nil && live.Object != nil {
			err = m.checkOwner(ctx, objs[i], live.Object.GetAnnotations())
		}
		switch {
		case err != nil:
			errs = append(errs, objectError(objs[i], err))
		case applied[i] != nil:
			dryRuns.add(Ref(objs[i]), live.Object, applied[i])
		}
	}
	return dryRuns, errs
}
