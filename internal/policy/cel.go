package policy

import (
	"context"
	"errors"
	"fmt"
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	admissioncel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/matching"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/environment"
	corelisters "k8s.io/client-go/listers/core/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// celProgram is a ValidatingAdmissionPolicy spec compiled by the API
// server's own library, so that its expressions mean what they mean at
// admission.
type celProgram struct {
	validator validating.Validator
	criteria  criteria
}

// The environment every policy compiles in: the API server's, with the
// cost limits it sets, at the Kubernetes version weir is built with.
var (
	celEnvOnce sync.Once
	celEnv     *environment.EnvSet
)

func baseEnv() *environment.EnvSet {
	celEnvOnce.Do(func() {
		celEnv = environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion())
	})
	return celEnv
}

// compileCEL compiles a policy as the ValidatingAdmissionPolicy plugin does
// (validating.compilePolicy), and returns every expression that does not
// compile. The authorizer is not declared: weir has none to offer, so a
// policy that asks for it does not compile.
func compileCEL(p *weirv1.CELPolicy) (program, error) {
	spec := p.Spec
	if p.Params != nil && p.ParamRef != nil {
		return nil, errors.New("set at most one of params and paramRef")
	}
	compiler, err := admissioncel.NewCompositedCompiler(baseEnv())
	if err != nil {
		return nil, err
	}
	decls := admissioncel.OptionalVariableDeclarations{HasParams: p.Params != nil || p.ParamRef != nil || spec.ParamKind != nil}
	var errs []error
	for _, v := range spec.Variables {
		if res := compiler.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, decls, environment.StoredExpressions); res.Error != nil {
			errs = append(errs, fmt.Errorf("variables[%s]: %w", v.Name, res.Error))
		}
	}
	var matcher matchconditions.Matcher
	if len(spec.MatchConditions) > 0 {
		conds := make([]admissioncel.ExpressionAccessor, len(spec.MatchConditions))
		for i := range spec.MatchConditions {
			conds[i] = (*matchconditions.MatchCondition)(&spec.MatchConditions[i])
		}
		filter := compiler.CompileCondition(conds, decls, environment.StoredExpressions)
		errs = append(errs, labelled("matchConditions", filter.CompilationErrors())...)
		matcher = matchconditions.NewMatcher(filter, spec.FailurePolicy, "policy", "validate", "")
	}
	validations, messages := make([]admissioncel.ExpressionAccessor, len(spec.Validations)), make([]admissioncel.ExpressionAccessor, len(spec.Validations))
	for i, v := range spec.Validations {
		validations[i] = &validating.ValidationCondition{Expression: v.Expression, Message: v.Message, Reason: v.Reason}
		if v.MessageExpression != "" {
			messages[i] = &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression}
		}
	}
	validationFilter := compiler.CompileCondition(validations, decls, environment.StoredExpressions)
	messageFilter := compiler.CompileCondition(messages, decls, environment.StoredExpressions)
	errs = append(errs, labelled("validations", validationFilter.CompilationErrors())...)
	errs = append(errs, labelled("messageExpression", messageFilter.CompilationErrors())...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	audits := compiler.CompileCondition(nil, decls, environment.StoredExpressions)
	sel, err := newCriteria(spec.MatchConstraints)
	if err != nil {
		return nil, err
	}
	return &celProgram{
		validator: validating.NewValidator(validationFilter, matcher, audits, messageFilter, spec.FailurePolicy, nil),
		criteria:  sel,
	}, nil
}

func labelled(field string, errs []error) []error {
	out := make([]error, len(errs))
	for i, err := range errs {
		out[i] = fmt.Errorf("%s: %w", field, err)
	}
	return out
}

// eval runs the validations on obj when the policy matches it, and
// returns a finding for each decision that is not to admit.
func (c *celProgram) eval(ctx context.Context, obj Object, set Set, params runtime.Object) ([]finding, error) {
	attr := attributes(obj)
	matches, gvr, gvk, err := newMatcher(set).Matches(attr, objectInterfaces{}, c.criteria)
	if err != nil {
		return nil, err // Engine.evaluate applies the failurePolicy
	}
	if !matches {
		return nil, nil
	}
	versioned := &admission.VersionedAttributes{
		Attributes:         attr,
		VersionedKind:      gvk,
		VersionedObject:    admission.NewLazyObject(obj.Desired),
		VersionedOldObject: admission.NewLazyObject(liveOrNil(obj)),
	}
	result := c.validator.Validate(ctx, gvr, versioned, params, set.Namespaces[obj.Desired.GetNamespace()], celconfig.RuntimeCELCostBudget, nil)
	var found []finding
	for _, d := range result.Decisions {
		if d.Action == validating.ActionDeny {
			found = append(found, finding{message: d.Message})
		}
	}
	return found, nil
}

// liveOrNil is the live object as a runtime.Object, nil (not a typed nil)
// when there is none, which oldObject reads as null.
func liveOrNil(obj Object) runtime.Object {
	if obj.Live == nil {
		return nil
	}
	return obj.Live
}

// attributes are those of the request that would apply obj: a create when
// it does not exist, else an update.
func attributes(obj Object) admission.Attributes {
	op, opts := admission.Create, runtime.Object(&metav1.CreateOptions{})
	if obj.Live != nil {
		op, opts = admission.Update, &metav1.UpdateOptions{}
	}
	d := obj.Desired
	return admission.NewAttributesRecord(d, liveOrNil(obj), d.GroupVersionKind(), d.GetNamespace(), d.GetName(), obj.Resource, "", op, opts, false, nil)
}

// criteria is a policy's matchConstraints, as matching.Matcher reads them.
type criteria struct {
	resources         admissionregistrationv1.MatchResources
	namespaceSelector labels.Selector
	objectSelector    labels.Selector
}

func newCriteria(mr *admissionregistrationv1.MatchResources) (criteria, error) {
	c := criteria{namespaceSelector: labels.Everything(), objectSelector: labels.Everything()}
	if mr == nil {
		return c, nil
	}
	c.resources = *mr
	var err error
	if mr.NamespaceSelector != nil {
		if c.namespaceSelector, err = metav1.LabelSelectorAsSelector(mr.NamespaceSelector); err != nil {
			return c, fmt.Errorf("matchConstraints.namespaceSelector: %w", err)
		}
	}
	if mr.ObjectSelector != nil {
		if c.objectSelector, err = metav1.LabelSelectorAsSelector(mr.ObjectSelector); err != nil {
			return c, fmt.Errorf("matchConstraints.objectSelector: %w", err)
		}
	}
	return c, nil
}

func (c criteria) GetParsedNamespaceSelector() (labels.Selector, error) {
	return c.namespaceSelector, nil
}
func (c criteria) GetParsedObjectSelector() (labels.Selector, error) { return c.objectSelector, nil }
func (c criteria) GetMatchResources() admissionregistrationv1.MatchResources {
	return c.resources
}

// newMatcher matches objects of the set; their namespaces are the set's.
func newMatcher(set Set) *matching.Matcher {
	return matching.NewMatcher(namespaces(set.Namespaces), nil)
}

// namespaces lists the namespaces of a set for matching.Matcher. A
// namespace the set does not know is one with no labels, never NotFound,
// so that the matcher never falls back to its (absent) client.
type namespaces map[string]*corev1.Namespace

func (n namespaces) List(labels.Selector) ([]*corev1.Namespace, error) {
	return nil, apierrors.NewMethodNotSupported(corev1.Resource("namespaces"), "list")
}

func (n namespaces) Get(name string) (*corev1.Namespace, error) {
	if ns, ok := n[name]; ok {
		return ns, nil
	}
	ns := &corev1.Namespace{}
	ns.Name = name
	return ns, nil
}

var _ corelisters.NamespaceLister = namespaces(nil)

// objectInterfaces offers matchPolicy Equivalent no equivalent resources:
// each object is matched by its own resource.
type objectInterfaces struct{ admission.ObjectInterfaces }

func (objectInterfaces) GetEquivalentResourceMapper() runtime.EquivalentResourceMapper {
	return runtime.NewEquivalentResourceRegistry()
}
