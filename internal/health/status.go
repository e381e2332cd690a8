package health

import (
	"fmt"
	"slices"
	"strings"

	kstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
)

// Status is an object's kstatus.
type Status string

// Statuses, as kstatus defines them.
const (
	// Current: the object is fully reconciled and ready.
	Current Status = "Current"
	// InProgress: the object is being reconciled.
	InProgress Status = "InProgress"
	// Failed: the object's controller reports it cannot reconcile it.
	Failed Status = "Failed"
	// Terminating: the object is being deleted.
	Terminating Status = "Terminating"
	// NotFound: the object, or its kind, does not exist.
	NotFound Status = "NotFound"
	// Unknown: the status could not be computed.
	Unknown Status = "Unknown"
)

// ObjectStatus is the status of one object.
type ObjectStatus struct {
	// Object the status is about.
	Object v1alpha1.ObjectRef
	// Status of the object.
	Status Status
	// Message explains the status, e.g. "Deployment is available. Replicas: 3".
	Message string
}

// String is "<object>: <status>: <message>".
func (s ObjectStatus) String() string {
	return fmt.Sprintf("%s: %s: %s", s.Object.String(), s.Status, s.Message)
}

// Compute returns the kstatus of obj as given, including its status.
//
// A Job is Current once it has completed, Failed once it has failed, and
// InProgress until then (kstatus counts a running Job as Current).
//
// A Rollout is the exception: it is Current unless it is Stalled (what it
// names is missing) or has not seen its spec yet. A release takes as long as
// its pauses and analyses, and one that failed waits for Git to move on: the
// Application reports both in status.rollouts, and neither may hold up the
// sync that brings the next revision, or the revert.
func Compute(obj *unstructured.Unstructured) ObjectStatus {
	s := ObjectStatus{Object: apply.Ref(obj)}
	if obj.GroupVersionKind().GroupKind() == v1alpha1.RolloutKind.GroupKind() {
		s.Status, s.Message = rolloutStatus(obj)
		return s
	}
	res, err := kstatus.Compute(obj)
	if err != nil {
		s.Status, s.Message = Unknown, err.Error()
		return s
	}
	s.Status, s.Message = Status(res.Status), res.Message
	if s.Status == Current && isJob(obj) && !jobComplete(obj) {
		// kstatus counts a running Job as Current; a wave that waits
		// for a migration must wait until it has completed.
		s.Status = InProgress
	}
	return s
}

// jobKind is the group and kind of a Job, whose health Compute and
// FailedForGood treat apart.
var jobKind = schema.GroupKind{Group: "batch", Kind: "Job"}

func isJob(obj *unstructured.Unstructured) bool {
	return obj.GroupVersionKind().GroupKind() == jobKind
}

// jobComplete reports whether a Job's Complete condition is True.
func jobComplete(obj *unstructured.Unstructured) bool {
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conditions {
		cond, _ := c.(map[string]any)
		if cond["type"] == "Complete" && cond["status"] == "True" {
			return true
		}
	}
	return false
}

// Report holds the status of a set of objects.
type Report struct {
	// Objects are the statuses, in the order the objects were given.
	Objects []ObjectStatus
}

// Healthy reports whether every object is Current.
func (r Report) Healthy() bool { return len(r.NotCurrent()) == 0 }

// FailedForGood reports whether an object failed in a way that waiting
// cannot mend: a Job that failed never runs again.
func (r Report) FailedForGood() bool {
	return slices.ContainsFunc(r.Objects, func(s ObjectStatus) bool {
		return s.Status == Failed && schema.GroupKind{Group: s.Object.Group, Kind: s.Object.Kind} == jobKind
	})
}

// NotCurrent returns the statuses of the objects that are not Current.
func (r Report) NotCurrent() []ObjectStatus {
	var out []ObjectStatus
	for _, s := range r.Objects {
		if s.Status != Current {
			out = append(out, s)
		}
	}
	return out
}

// String says that all objects are Current, or names each that is not with
// its status and message.
func (r Report) String() string {
	notCurrent := r.NotCurrent()
	if len(notCurrent) == 0 {
		return fmt.Sprintf("all %d objects are Current", len(r.Objects))
	}
	lines := make([]string, len(notCurrent))
	for i, s := range notCurrent {
		lines[i] = s.String()
	}
	return fmt.Sprintf("%d of %d objects are not Current: %s", len(notCurrent), len(r.Objects), strings.Join(lines, "; "))
}

// rolloutStatus is the health of a Rollout (see Compute).
func rolloutStatus(obj *unstructured.Unstructured) (Status, string) {
	observed, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	if observed != obj.GetGeneration() {
		return InProgress, fmt.Sprintf("Rollout generation is %d, but latest observed generation is %d", obj.GetGeneration(), observed)
	}
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conditions {
		cond, _ := c.(map[string]any)
		if cond["type"] == v1alpha1.StalledCondition && cond["status"] == "True" {
			return Failed, fmt.Sprint(cond["message"])
		}
	}
	msg, _, _ := unstructured.NestedString(obj.Object, "status", "message")
	return Current, msg
}
