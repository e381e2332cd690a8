package health

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
// weir manages there (apply.ManagedByLabel) rather than one GET each; an
// object the list does not hold is read on its own.
func (c *Checker) Check(ctx context.Context, refs []v1alpha1.ObjectRef) (Report, error) {
	report := Report{Objects: make([]ObjectStatus, len(refs))}
	groups, err := c.group(refs, report.Objects)
	if err != nil {
		return Report{}, err
	}
	for _, g := range groups {
		if err := c.checkGroup(ctx, g, refs, report.Objects); err != nil {
			return Report{}, err
		}
	}
	return report, nil
}

// readGroup is the objects of refs read from one resource in one namespace.
type readGroup struct {
	res     dynamic.ResourceInterface
	indices []int
}

// group sorts refs into readGroups by resource and namespace, and marks as
// NotFound in statuses those whose kind the cluster does not serve.
func (c *Checker) group(refs []v1alpha1.ObjectRef, statuses []ObjectStatus) ([]*readGroup, error) {
	type key struct {
		gvr       schema.GroupVersionResource
		namespace string
	}
	byKey := map[key]*readGroup{}
	var groups []*readGroup
	for i, ref := range refs {
		mapping, err := c.mapping(ref)
		if meta.IsNoMatchError(err) {
			statuses[i] = ObjectStatus{Object: ref, Status: NotFound, Message: "the cluster does not serve its kind"}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("health of %s: %w", ref.String(), err)
		}
		k := key{gvr: mapping.Resource}
		var res dynamic.ResourceInterface = c.client.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			k.namespace = ref.Namespace
			res = c.client.Resource(mapping.Resource).Namespace(ref.Namespace)
		}
		g, ok := byKey[k]
		if !ok {
			g = &readGroup{res: res}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.indices = append(g.indices, i)
	}
	return groups, nil
}

// mapping maps ref's kind to its resource, at the version it was applied
// as or, when the cluster no longer serves that one, at another.
func (c *Checker) mapping(ref v1alpha1.ObjectRef) (*meta.RESTMapping, error) {
	gk := schema.GroupKind{Group: ref.Group, Kind: ref.Kind}
	mapping, err := c.mapper.RESTMapping(gk, ref.Version)
	if meta.IsNoMatchError(err) {
		mapping, err = c.mapper.RESTMapping(gk)
	}
	return mapping, err
}

// managedSelector selects the objects weir applied.
var managedSelector = metav1.ListOptions{LabelSelector: apply.ManagedByLabel}

// checkGroup reads the objects of g, with one list when there are several,
// and sets their statuses. When the list fails (an identity allowed to get
// its objects but not to list them), each is read on its own.
func (c *Checker) checkGroup(ctx context.Context, g *readGroup, refs []v1alpha1.ObjectRef, statuses []ObjectStatus) error {
	listed := map[string]*unstructured.Unstructured{}
	if len(g.indices) > 1 {
		if list, err := g.res.List(ctx, managedSelector); err == nil {
			for i := range list.Items {
				listed[list.Items[i].GetName()] = &list.Items[i]
			}
		}
	}
	for _, i := range g.indices {
		obj, ok := listed[refs[i].Name]
		if !ok {
			var err error
			if obj, err = read(ctx, g.res, refs[i].Name); err != nil {
				return fmt.Errorf("health of %s: %w", refs[i].String(), err)
			}
		}
		statuses[i] = statusOf(refs[i], obj)
	}
	return nil
}

// read returns the named object, or nil when there is none.
func read(ctx context.Context, res dynamic.ResourceInterface, name string) (*unstructured.Unstructured, error) {
	obj, err := res.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return obj, err
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
