// Package drift watches the objects weir applied and tells the controller
// when someone else changes or deletes one, so that the Application that
// applied it is checked at once rather than at its next interval.
//
// Only the kinds in some Application's inventory are watched, in the
// namespaces that hold its objects (so namespaced grants are enough), with
// metadata-only informers filtered by weir's managed-by label: objects weir
// did not apply never reach it, and each watched object costs its metadata
// alone. An update counts only when managedFields show another writer (a
// status write or weir's own apply does not), or when a field weir owned
// was taken away. Whether the object really drifted, and in which fields,
// is for the controller to find out (see apply.Manager.Drift).
package drift
