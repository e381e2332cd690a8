package apply

import (
	"context"
	"fmt"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	schemavalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// crdSchema checks custom resources of one version of a CRD the way the
// API server will once the CRD is served. It is built once per set and is
// safe for concurrent use.
type crdSchema struct {
	crd        *apiextensionsv1.CustomResourceDefinition
	structural *structuralschema.Structural // nil without a schema
	validator  schemavalidation.SchemaValidator
	cel        *cel.Validator // nil without CEL rules
	err        error          // why the schema cannot be used
}

// crdSchemas builds a crdSchema for every served version of crd. A schema
// the API server would not accept is an error for the CRD's own dry-run to
// report; its custom resources are then reported as unverifiable.
func crdSchemas(crd *apiextensionsv1.CustomResourceDefinition) map[schema.GroupVersionKind]*crdSchema {
	schemas := map[schema.GroupVersionKind]*crdSchema{}
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
		s, err := newCRDSchema(crd, v.Schema)
		if err != nil {
			s = &crdSchema{crd: crd, err: err}
		}
		schemas[gvk] = s
	}
	return schemas
}

func newCRDSchema(crd *apiextensionsv1.CustomResourceDefinition, v1 *apiextensionsv1.CustomResourceValidation) (*crdSchema, error) {
	s := &crdSchema{crd: crd}
	if v1 == nil || v1.OpenAPIV3Schema == nil {
		return s, nil
	}
	internal := &apiextensions.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v1, internal, nil); err != nil {
		return nil, fmt.Errorf("convert schema: %w", err)
	}
	structural, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("schema is not structural: %w", err)
	}
	if s.validator, _, err = schemavalidation.NewSchemaValidator(internal.OpenAPIV3Schema); err != nil {
		return nil, err
	}
	s.structural = structural
	s.cel = cel.NewValidator(structural, true, celconfig.PerCallLimit)
	return s, nil
}

// validate checks obj: metadata; then, on a copy, unknown fields (errors,
// as server-side apply rejects them), defaults, the OpenAPI rules and the
// CEL rules. The error reads like the API server's.
func (s *crdSchema) validate(ctx context.Context, obj *unstructured.Unstructured) error {
	if s.err != nil {
		return fmt.Errorf("cannot validate against CustomResourceDefinition %s: %w", s.crd.Name, s.err)
	}
	namespaced := s.crd.Spec.Scope == apiextensionsv1.NamespaceScoped
	errs := metavalidation.ValidateObjectMetaAccessor(obj, namespaced, metavalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	if s.structural != nil {
		errs = append(errs, s.validateContent(ctx, obj.DeepCopy().Object)...)
	}
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(obj.GroupVersionKind().GroupKind(), obj.GetName(), errs)
}

func (s *crdSchema) validateContent(ctx context.Context, content map[string]any) field.ErrorList {
	var errs field.ErrorList
	if !s.crd.Spec.PreserveUnknownFields {
		errs = append(errs, unknownFields(content, s.structural)...)
	}
	structuraldefaulting.Default(content, s.structural)
	errs = append(errs, schemavalidation.ValidateCustomResource(nil, content, s.validator)...)
	errs = append(errs, objectmeta.Validate(ctx, nil, content, s.structural, false)...)
	if s.cel != nil {
		celErrs, _ := s.cel.Validate(ctx, nil, s.structural, content, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	return errs
}

// unknownFields prunes content to its schema and reports what was pruned.
func unknownFields(content map[string]any, s *structuralschema.Structural) field.ErrorList {
	opts := structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}
	var errs field.ErrorList
	for _, path := range structuralpruning.PruneWithOptions(content, s, true, opts) {
		errs = append(errs, field.Forbidden(field.NewPath(path), "field not declared in schema"))
	}
	return errs
}
