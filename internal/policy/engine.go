package policy

import (
	"context"
	"fmt"
	"sync"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Timeout bounds the evaluation of one policy on a whole set: what bounds
// a Rego policy, while a CEL policy has the API server's cost budget per
// object as well.
const Timeout = 10 * time.Second

// Object is one object of a set: what Git declares and what the cluster
// holds.
type Object struct {
	// Desired is the object as rendered and normalized.
	Desired *unstructured.Unstructured
	// Live is the object in the cluster; nil when it does not exist yet.
	Live *unstructured.Unstructured
	// Resource is the object's resource; when the cluster does not serve
	// its kind yet, the guess of meta.UnsafeGuessKindToResource.
	Resource schema.GroupVersionResource
}

// Set is what a sync would apply.
type Set struct {
	Objects []Object
	// Namespaces are the namespaces of the objects, as they will be (the
	// set's own Namespace objects) or are; a CEL policy's namespaceSelector
	// and namespaceObject read them. One not given has no labels.
	Namespaces map[string]*corev1.Namespace
}

// Bound is a policy bound to a sync, with the params it reads.
type Bound struct {
	Policy *weirv1.ClusterSyncPolicy
	// Params is what a CEL policy reads as `params`: its inline params or
	// the ConfigMap it names; nil when it has none.
	Params runtime.Object
}

// program is a compiled policy.
type program interface {
	// eval returns the findings of the policy on one object; an error
	// when it could not decide.
	eval(ctx context.Context, obj Object, set Set, params runtime.Object) ([]finding, error)
}

// finding is a violation or a warning of one object.
type finding struct {
	message string
	// warn is true for Conftest's warn rules, whatever the enforcement.
	warn bool
}

// compiled is a policy's program, or why it has none, for one generation.
type compiled struct {
	generation int64
	prog       program
	err        error
}

// Engine compiles policies once per generation and evaluates them. It is
// safe for concurrent use.
type Engine struct {
	mu    sync.Mutex
	cache map[types.UID]compiled
}

// NewEngine returns an Engine with nothing compiled.
func NewEngine() *Engine {
	return &Engine{cache: map[types.UID]compiled{}}
}

// Compile compiles p, or finds it compiled at its generation, and returns
// why it does not compile.
func (e *Engine) Compile(p *weirv1.ClusterSyncPolicy) error {
	_, err := e.program(p)
	return err
}

// Forget drops what was compiled for policies other than those kept.
func (e *Engine) Forget(keep []weirv1.ClusterSyncPolicy) {
	kept := make(map[types.UID]bool, len(keep))
	for _, p := range keep {
		kept[p.UID] = true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for uid := range e.cache {
		if !kept[uid] {
			delete(e.cache, uid)
		}
	}
}

func (e *Engine) program(p *weirv1.ClusterSyncPolicy) (program, error) {
	e.mu.Lock()
	c, ok := e.cache[p.UID]
	e.mu.Unlock()
	if ok && c.generation == p.Generation {
		return c.prog, c.err
	}
	c = compiled{generation: p.Generation}
	c.prog, c.err = compile(p)
	e.mu.Lock()
	e.cache[p.UID] = c
	e.mu.Unlock()
	return c.prog, c.err
}

func compile(p *weirv1.ClusterSyncPolicy) (program, error) {
	switch {
	case p.Spec.CEL != nil:
		return compileCEL(p.Spec.CEL)
	case p.Spec.Rego != nil:
		return compileRego(p.Spec.Rego)
	default:
		return nil, fmt.Errorf("policy %s holds neither cel nor rego", p.Name)
	}
}

// Evaluate runs each policy on every object of the set and reports what
// they found.
func (e *Engine) Evaluate(ctx context.Context, policies []Bound, set Set) Report {
	var report Report
	for _, b := range policies {
		report.add(b.Policy, e.evaluate(ctx, b, set))
	}
	return report
}

// evaluate runs one policy on the set. A policy that does not compile or
// cannot decide on an object fails closed: its error is a finding.
func (e *Engine) evaluate(ctx context.Context, b Bound, set Set) []Violation {
	prog, err := e.program(b.Policy)
	if err != nil && ignoresFailures(b.Policy) {
		return nil
	}
	if err != nil {
		return []Violation{{Message: "the policy does not compile: " + err.Error()}}
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var found []Violation
	for _, obj := range set.Objects {
		findings, err := prog.eval(ctx, obj, set, b.Params)
		if err != nil && ignoresFailures(b.Policy) {
			continue
		}
		if err != nil {
			findings = []finding{{message: "the policy failed to evaluate: " + err.Error()}}
		}
		for _, f := range findings {
			found = append(found, Violation{Object: refOf(obj.Desired), Message: f.message, warn: f.warn})
		}
		if ctx.Err() != nil {
			return append(found, Violation{Message: fmt.Sprintf("the policy did not finish within %s", Timeout)})
		}
	}
	return found
}

// ignoresFailures is true for a CEL policy whose failurePolicy is Ignore:
// as at admission, what it cannot decide it admits.
func ignoresFailures(p *weirv1.ClusterSyncPolicy) bool {
	cel := p.Spec.CEL
	return cel != nil && cel.Spec.FailurePolicy != nil && *cel.Spec.FailurePolicy == admissionregistrationv1.Ignore
}

func refOf(obj *unstructured.Unstructured) weirv1.ObjectRef {
	gvk := obj.GroupVersionKind()
	return weirv1.ObjectRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}
