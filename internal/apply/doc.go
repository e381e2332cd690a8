// Package apply turns a rendered set of objects into cluster state with
// server-side apply, the way weir's data flow describes: plan, then apply in
// stages, then prune.
//
// A sync uses a Manager in this order:
//
//	apply.SetOwner(objs, owner)       // the Application the set is for
//	m.Normalize(ctx, objs)            // namespaces filled in or cleared
//	m.Validate(ctx, objs)             // the whole set, before anything is applied
//	stages, _ := apply.Stages(objs)   // CRDs and Namespaces, then sync waves
//	for _, stage := range stages {
//		changes, err := m.Apply(ctx, stage)
//		// wait for health between waves (package health)
//	}
//	m.Prune(ctx, owner, inventory, objs) // what left Git, with guards
//
// Validate is what keeps a set from being half-applied: every object whose
// kind the cluster serves is dry-run on the server, and every custom
// resource whose CustomResourceDefinition arrives in the same set is checked
// against that definition's schema, so that an invalid object in the last
// wave stops the sync before the first wave is touched.
//
// Every object is applied as one field manager ("weir") with the label
// weir.dev/managed-by, forcing ownership of conflicting fields. Prune relies
// on that field manager: it deletes only objects weir still manages, so an
// object someone else has taken over survives leaving Git. Each object
// also names the Application it belongs to (SetOwner): an object another
// Application owns fails Validate and Apply with an *OwnershipError, and
// Prune leaves it alone.
//
// Diff shows, per object, what Apply would change, with Secret values masked.
package apply
