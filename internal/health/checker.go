package health

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
)

// DefaultInterval is the longest Wait waits between two checks when
// Checker.Interval is zero.
const DefaultInterval = 2 * time.Second

// FirstDelay is how long Wait waits after its first check before the
// second; each later wait doubles, up to the Checker's interval.
const FirstDelay = 50 * time.Millisecond

// Checker reads objects from a cluster and computes their status.
type Checker struct {
	client dynamic.Interface
	mapper meta.RESTMapper
	// Interval is the longest wait between two checks in Wait; zero means
	// DefaultInterval.
	Interval time.Duration
	// after is time.After, replaced in tests to see the waits.
	after func(time.Duration) <-chan time.Time
}

// NewChecker returns a Checker that reads with client and maps kinds to
// resources with mapper (apply.Manager's, to know kinds it just added).
func NewChecker(client dynamic.Interface, mapper meta.RESTMapper) *Checker {
	return &Checker{client: client, mapper: mapper, after: time.After}
}

// Check reads each object and computes its status. A missing object, or one
// whose kind the cluster does not serve, is NotFound. The error names the
// first object that could not be read for another reason.
//
// Objects of one kind and namespace are read with one list of the objects
// weir manages there (apply.ReadObjects) rather than one GET each.
func (c *Checker) Check(ctx context.Context, refs []v1alpha1.ObjectRef) (Report, error) {
	report := Report{Objects: make([]ObjectStatus, len(refs))}
	for i, live := range apply.ReadObjects(ctx, c.client, c.mapper, refs) {
		switch {
		case live.Err != nil:
			return Report{}, fmt.Errorf("health of %s: %w", refs[i].String(), live.Err)
		case !live.Served:
			report.Objects[i] = ObjectStatus{Object: refs[i], Status: NotFound, Message: "the cluster does not serve its kind"}
		default:
			report.Objects[i] = statusOf(refs[i], live.Object)
		}
	}
	return report, nil
}

// statusOf is the status of ref, read as obj (nil when it is missing).
func statusOf(ref v1alpha1.ObjectRef, obj *unstructured.Unstructured) ObjectStatus {
	if obj == nil {
		return ObjectStatus{Object: ref, Status: NotFound, Message: "object not found"}
	}
	s := Compute(obj)
	s.Object = ref
	return s
}

// Wait checks refs until all are Current, and returns the last complete
// report. It checks at once, so objects that are Current as applied
// (ConfigMaps, Services, unchanged workloads) cost no wait; then after
// FirstDelay, doubling up to the interval, so a rollout that is done in a
// few hundred milliseconds is seen then rather than at the next interval.
// A failed Job ends the wait at once with an error naming it.
// When timeout passes or ctx ends first, the error names every object
// that is not Current with its status and message. Errors reading objects
// are retried until then; the last one is reported.
func (c *Checker) Wait(ctx context.Context, refs []v1alpha1.ObjectRef, timeout time.Duration) (Report, error) {
	// The timeout is a timer, not a context deadline, so that it never
	// cuts a check short and leaves only a half-read report.
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var (
		last    Report
		lastErr error
		delay   = min(FirstDelay, c.interval())
	)
	for {
		report, err := c.Check(ctx, refs)
		switch {
		case err == nil && report.Healthy():
			return report, nil
		case err == nil && report.FailedForGood():
			return report, fmt.Errorf("failed: %s", report)
		case err == nil:
			last, lastErr = report, nil
		case ctx.Err() == nil:
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return last, waitError(fmt.Sprintf("stopped waiting for health: %v", ctx.Err()), last, lastErr)
		case <-deadline.C:
			return last, waitError(fmt.Sprintf("not healthy within %s", timeout), last, lastErr)
		case <-c.after(delay):
			delay = min(2*delay, c.interval())
		}
	}
}

func (c *Checker) interval() time.Duration {
	if c.Interval <= 0 {
		return DefaultInterval
	}
	return c.Interval
}

func waitError(what string, last Report, lastErr error) error {
	switch {
	case lastErr != nil:
		return fmt.Errorf("%s: %w", what, lastErr)
	case len(last.Objects) == 0:
		return fmt.Errorf("%s: no check completed", what)
	default:
		return fmt.Errorf("%s: %s", what, last)
	}
}
