// Package policy checks a rendered set of objects against policies as code
// before any of it is applied: CEL policies with the semantics of a
// Kubernetes ValidatingAdmissionPolicy, evaluated by the API server's own
// library, and Rego policies in Conftest's form, evaluated by OPA.
//
// An Engine compiles each ClusterSyncPolicy once per generation and keeps
// the compiled program; Evaluate runs every policy bound to a sync on each
// object of the set, with the live object beside it:
//
//	engine := policy.NewEngine()
//	if err := engine.Compile(p); err != nil { ... } // for the policy's status
//	report := engine.Evaluate(ctx, []policy.Bound{{Policy: p, Params: params}}, policy.Set{Objects: objs})
//	if err := report.Err(); err != nil { ... }       // a Deny policy found a violation: apply nothing
//	for _, w := range report.Warnings { ... }        // Warn policies: apply, and report
//
// Evaluation is bounded as at admission: a CEL policy has the API server's
// cost budget per object, a Rego policy a time budget per set (Timeout).
// A policy that does not compile, or fails to evaluate, fails closed: it
// denies (or, with Warn, warns about) every set it binds, unless a CEL
// policy's failurePolicy is Ignore, as admission does.
package policy
