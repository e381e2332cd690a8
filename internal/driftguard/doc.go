// Package driftguard has the API server itself refuse changes to the
// objects of an Application that prevents drift (spec.sync.preventDrift),
// with a ValidatingAdmissionPolicy: no webhook server, nothing to run
// beside the API server.
//
// One policy, PolicyName, holds the rule; each protected Application has
// two bindings of it (Bindings), whose parameter is the Application itself.
// The policy is compiled once by the API server, whatever the number of
// Applications, and the bindings narrow the requests that reach its CEL
// with what the API server matches without CEL: the namespaces the
// Application deploys to, weir's label on the object, and cluster-scoped
// objects only for Applications that have some. A request about an object
// that is not weir's is never evaluated; one about weir's is evaluated
// once per Application that deploys to its namespace.
//
//	guard := driftguard.NewGuard(c, reader, driftguard.Options{BreakGlassGroups: []string{"oncall"}})
//	err := guard.Guard(ctx, app)    // protect app's objects, or stop, as its spec says
//	err = guard.Forget(ctx, appKey) // app is gone: stop protecting its objects
//
// An object is the Application's when it carries the annotation
// weir.dev/owner naming it (before or after the change), or, for the scale
// subresource, whose Scale object has no annotations, when the
// Application's inventory lists it. Allowed are weir itself (the user it
// authenticates as), requests that weir makes as another identity for that
// very Application (the user extra identity.ApplicationExtra names it), the
// break-glass groups, and the control plane (ExemptUsers, ExemptGroups):
// garbage collection, namespace deletion and kubelets must go on. Status
// and every other subresource but scale are left alone.
package driftguard
