// Package apply turns a rendered set of objects into cluster state with
// server-side apply, the way weir's data flow describes: plan, then apply in
// stages, then prune.
//
// A sync uses a Manager in this order:
//
//	apply.SetOwner(objs, owner)                 // the Application the set is for
//	plan, _ := apply.NewPlan(objs)              // CRDs and Namespaces, PreSync hooks, waves, PostSync hooks
//	m.Normalize(ctx, plan.Applied(), namespace) // namespaces filled in or cleared
//	m.Validate(ctx, plan.Applied())             // the whole set, before anything is applied
//	for _, stage := range plan.Stages {
//		changes, err := m.Apply(ctx, stage)
//		// wait for health between waves (package health), then
//		m.DeleteHooks(ctx, stage, apply.HookSucceeded) // or HookFailed
//	}
//	m.Prune(ctx, owner, inventory, objs) // what left Git, with guards
//
// What a sync does with an object is said by its annotations, weir's own
// or the Argo CD, Flux and Helm ones weir honours in their place
// (ReadDirectives): its wave, whether it is a hook and when it is deleted,
// whether prune keeps it, whether an immutable change replaces it.
//
// Validate is what keeps a set from being half-applied: every object whose
// kind the cluster serves is dry-run on the server, and every custom
// resource whose CustomResourceDefinition arrives in the same set is checked
// against that definition's schema, so that an invalid object in the last
// wave stops the sync before the first wave is touched.
//
// Every object is applied as one field manager ("weir") with the label
// weir.dev/managed-by, forcing ownership of conflicting fields, after
// taking over the fields that kubectl, Argo CD or Flux applied
// (Options.TakeOverManagers), so that what leaves Git leaves the cluster.
// Prune relies on that field manager: it deletes only objects weir still
// manages, so an object someone else has taken over survives leaving Git.
// Each object
// also names the Application it belongs to (SetOwner): an object another
// Application owns fails Validate and Apply with an *OwnershipError, and
// Prune leaves it alone.
//
// Diff shows, per object, what Apply would change, with Secret values masked.
//
// A step that fails returns a *SetError naming every object that failed;
// Describe puts it on one line for users, with the fields the API server
// refused rather than its dump of the object.
package apply
