// Package approval makes the API server vouch for who approved a change
// of a Pipeline. An approval is the annotation
// approve.weir.dev/<stage>: "<change> by <user>" on the Pipeline; the
// ValidatingAdmissionPolicy this package keeps (PolicyName, with one
// binding) refuses any request that adds or changes such a value unless
// <user> is the user that the API server authenticated the request as.
// weir reads the user from the annotation, and so records who approved
// what without a webhook server and without trusting a field the user
// writes unchecked (managedFields name a field manager, which a client
// chooses, not a user).
//
//	gate := approval.NewGate(c, apiReader)
//	err := gate.Ensure(ctx, pipeline) // the policy and its binding are in force
package approval
