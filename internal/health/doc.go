// Package health tells whether applied objects have become what they
// declare, using kstatus: a Deployment is Current once its new pods are
// available, a Job once it has completed (running, it is InProgress), a
// custom resource once its Ready condition is True, and so on.
//
// A Checker reads objects live; Check reports once, Wait checks at once and
// then with a doubling backoff until every object is Current or time runs
// out:
//
//	checker := health.NewChecker(manager.Client(), manager.RESTMapper())
//	report, err := checker.Wait(ctx, inventory, 5*time.Minute)
//
// Compute is the pure part: the status of one object as read.
package health
