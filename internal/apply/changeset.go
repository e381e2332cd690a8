package apply

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/api/v1alpha1"
)

// Action is what a step did to an object.
type Action string

// Actions, in the order a summary lists them.
const (
	// Created: the object did not exist and was created.
	Created Action = "Created"
	// Configured: the object existed and apply changed it.
	Configured Action = "Configured"
	// Replaced: the object was deleted and created again: a hook whose
	// previous run is deleted first, or an object whose immutable fields
	// changed that asks to be replaced.
	Replaced Action = "Replaced"
	// Unchanged: the object already matched; apply was a no-op.
	Unchanged Action = "Unchanged"
	// Deleted: prune deleted the object.
	Deleted Action = "Deleted"
	// Skipped: prune left the object alone; Reason says why.
	Skipped Action = "Skipped"
)

var actionOrder = []Action{Created, Configured, Replaced, Unchanged, Deleted, Skipped}

// Change records what happened to one object.
type Change struct {
	// Object the change is about.
	Object v1alpha1.ObjectRef
	// Action taken.
	Action Action
	// Reason explains a Skipped action; empty otherwise.
	Reason string
	// Applied is the object as the server returned it when it was
	// applied, or as it was when it was left unchanged; nil when unknown,
	// and after a prune. Its status tells whether it is healthy as it is.
	Applied *unstructured.Unstructured
}

// String reads like "apps/Deployment shop/web configured" or
// "ConfigMap shop/old skipped: prune disabled by annotation".
func (c Change) String() string {
	s := c.Object.String() + " " + strings.ToLower(string(c.Action))
	if c.Reason != "" {
		s += ": " + c.Reason
	}
	return s
}

// ChangeSet is what one step did to a set of objects.
type ChangeSet []Change

// Count returns how many changes took action a.
func (cs ChangeSet) Count(a Action) int {
	n := 0
	for _, c := range cs {
		if c.Action == a {
			n++
		}
	}
	return n
}

// Changed reports whether any object was created, configured, replaced or
// deleted.
func (cs ChangeSet) Changed() bool {
	return cs.Count(Created)+cs.Count(Configured)+cs.Count(Replaced)+cs.Count(Deleted) > 0
}

// Summary counts the changes by action, like "3 created, 1 configured,
// 2 unchanged, 1 deleted"; actions that did not occur are left out, and an
// empty set reads "no changes".
func (cs ChangeSet) Summary() string {
	var parts []string
	for _, a := range actionOrder {
		if n := cs.Count(a); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(string(a))))
		}
	}
	if len(parts) == 0 {
		return "no changes"
	}
	return strings.Join(parts, ", ")
}

// Skips names the Skipped changes with their reasons, at most limit of
// them, like "ConfigMap shop/old skipped: prune disabled by annotation
// weir.dev/prune"; the rest are counted. It is "" when none was skipped.
func (cs ChangeSet) Skips(limit int) string {
	var named []string
	n := 0
	for _, c := range cs {
		if c.Action != Skipped {
			continue
		}
		if n++; len(named) < limit {
			named = append(named, c.String())
		}
	}
	if n > len(named) {
		named = append(named, fmt.Sprintf("and %d more", n-len(named)))
	}
	return strings.Join(named, "; ")
}

// String is the Summary.
func (cs ChangeSet) String() string { return cs.Summary() }
