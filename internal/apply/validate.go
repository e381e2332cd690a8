package apply

import (
	"context"
	"fmt"
	"maps"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Validate checks the whole set before any of it is applied, and returns a
// *SetError naming every invalid object with the reason.
//
//   - An object whose kind the cluster serves is dry-run on the server with
//     the same server-side apply Apply sends, so defaulting, validation and
//     admission all have their say.
//   - A custom resource whose CustomResourceDefinition is in the set is
//     checked against that definition's schema (unknown fields, types,
//     enums, required fields, defaults, CEL rules), unless the cluster
//     already serves the very same definition, in which case it is dry-run.
//   - An object in a Namespace that the set creates is dry-run as a create
//     in Options.DryRunNamespace, since its own namespace does not exist yet.
//   - An object that Apply only ever creates (a hook deleted before it is
//     created again, a Flux "ssa: IfNotPresent" object), or that asks to be
//     replaced and changes an immutable field, is dry-run as a create.
//
// An object that exists and belongs to another Application than the one
// the set is marked for (SetOwner) fails the set with an *OwnershipError;
// the other errors are then left out.
//
// The DryRuns returned hold what the dry runs made of the objects dry-run
// as applies, for Apply. Objects must have been normalized.
func (m *Manager) Validate(ctx context.Context, objs []*unstructured.Unstructured) (DryRuns, error) {
	v, errs := m.newValidation(ctx, objs)
	applied := make([]*unstructured.Unstructured, len(objs))
	failures := make([]error, len(objs))
	m.each(len(objs), func(i int) {
		if !isCRD(objs[i]) && !isNamespace(objs[i]) { // done by newValidation
			applied[i], failures[i] = v.validate(ctx, objs[i])
		}
	})
	dryRuns, conflicts := m.readAndCheckOwners(ctx, objs, applied)
	if len(conflicts) > 0 {
		return DryRuns{}, setError("validate", len(objs), conflicts)
	}
	for i, err := range failures {
		if err != nil {
			errs = append(errs, objectError(objs[i], err))
		}
	}
	return dryRuns, setError("validate", len(objs), errs)
}

// validation is what Validate learns about a set before checking its objects.
type validation struct {
	m *Manager
	// schemas check the custom resources whose CRD is in the set and not
	// served as it is there, by kind and version.
	schemas map[schema.GroupVersionKind]*crdSchema
	// offline are the kinds checked against schemas, not by the server.
	offline map[schema.GroupKind]bool
	// newNamespaces are Namespaces in the set that do not exist yet.
	newNamespaces map[string]bool
}

// newValidation dry-runs the set's CRDs and Namespaces, and learns which
// CRDs change what the cluster serves and which Namespaces are new.
func (m *Manager) newValidation(ctx context.Context, objs []*unstructured.Unstructured) (*validation, []*ObjectError) {
	var errs []*ObjectError
	v := &validation{
		m:             m,
		schemas:       map[schema.GroupVersionKind]*crdSchema{},
		offline:       map[schema.GroupKind]bool{},
		newNamespaces: map[string]bool{},
	}
	for _, obj := range objs {
		var err error
		switch {
		case isCRD(obj):
			err = v.checkCRD(ctx, obj)
		case isNamespace(obj):
			err = v.checkNamespace(ctx, obj)
		}
		if err != nil {
			errs = append(errs, objectError(obj, err))
		}
	}
	return v, errs
}

// checkCRD dry-runs a CRD and, unless the cluster already serves it as it
// is, prepares to check its custom resources against its schema.
func (v *validation) checkCRD(ctx context.Context, obj *unstructured.Unstructured) error {
	dryRun, err := v.m.DryRun(ctx, obj)
	if err != nil {
		return err
	}
	live, err := get(ctx, v.m.client.Resource(crdResource), obj.GetName())
	if err != nil {
		return err
	}
	if live != nil && equality.Semantic.DeepEqual(live.Object["spec"], dryRun.Object["spec"]) {
		return nil // the server validates its custom resources
	}
	crd, err := decodeCRD(dryRun) // with the server's defaults, as it will be served
	if err != nil {
		return err
	}
	maps.Copy(v.schemas, crdSchemas(crd))
	v.offline[schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}] = true
	return nil
}

// checkNamespace dry-runs a Namespace and notes whether it is new.
func (v *validation) checkNamespace(ctx context.Context, obj *unstructured.Unstructured) error {
	live, err := get(ctx, v.m.client.Resource(namespaceResource), obj.GetName())
	if err != nil {
		return err
	}
	v.newNamespaces[obj.GetName()] = live == nil
	_, err = v.m.DryRun(ctx, obj)
	return err
}

var namespaceResource = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// validate checks one object, and returns what a dry-run apply made of
// it when it was checked that way.
func (v *validation) validate(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	gvk := obj.GroupVersionKind()
	if s, ok := v.schemas[gvk]; ok {
		return nil, s.validate(ctx, obj)
	}
	if v.offline[gvk.GroupKind()] {
		return nil, fmt.Errorf("the CustomResourceDefinition in the set does not serve version %s", gvk.Version)
	}
	if v.newNamespaces[obj.GetNamespace()] {
		return nil, v.m.dryRunCreateIn(ctx, obj, v.m.opts.DryRunNamespace)
	}
	d, _ := ReadDirectives(obj)
	if d.ifExists() != updateExisting {
		// Applied only as a create: whether it would be a valid update
		// of the live object does not matter.
		return nil, v.m.dryRunCreateIn(ctx, obj, obj.GetNamespace())
	}
	applied, err := v.m.DryRun(ctx, obj)
	if isImmutable(err) && d.Replace {
		return nil, v.m.dryRunCreateIn(ctx, obj, obj.GetNamespace())
	}
	return applied, err
}

// DryRun returns what a server-side apply of obj would produce, without
// changing the cluster. obj must have been normalized. A change to an
// immutable field is an *ImmutableError.
func (m *Manager) DryRun(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	res, err := m.resource(ctx, Ref(obj))
	if meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("the cluster does not serve %s and no CustomResourceDefinition in the set defines it", obj.GroupVersionKind())
	}
	if err != nil {
		return nil, err
	}
	applied, err := res.Apply(ctx, obj.GetName(), m.applyConfiguration(obj), m.applyOptions(true))
	return applied, asImmutable(err)
}

// dryRunCreateIn dry-runs obj as a create in namespace ns. A create is used
// rather than an apply so that an object of the same name in ns is not
// validated as an update of it; AlreadyExists comes after validation and
// admission, so it means obj passed.
func (m *Manager) dryRunCreateIn(ctx context.Context, obj *unstructured.Unstructured, ns string) error {
	standIn := m.applyConfiguration(obj)
	standIn.SetNamespace(ns)
	res, err := m.resource(ctx, Ref(standIn))
	if err != nil {
		return err
	}
	_, err = res.Create(ctx, standIn, metav1.CreateOptions{
		DryRun:          []string{metav1.DryRunAll},
		FieldManager:    m.opts.FieldManager,
		FieldValidation: metav1.FieldValidationStrict,
	})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}
