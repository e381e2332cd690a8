package policy

import (
	"fmt"
	"strings"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Violation is what one policy found on one object of a set.
type Violation struct {
	// Policy is the name of the ClusterSyncPolicy.
	Policy string
	// Object is the object; zero when the policy failed as a whole (it
	// does not compile, or ran out of time).
	Object weirv1.ObjectRef
	// Message says what is wrong, in the policy's words.
	Message string
	warn    bool
}

// String names the policy, the object and the message.
func (v Violation) String() string {
	if v.Object.Name == "" {
		return fmt.Sprintf("policy %s: %s", v.Policy, v.Message)
	}
	return fmt.Sprintf("policy %s: %s: %s", v.Policy, describe(v.Object), v.Message)
}

func describe(ref weirv1.ObjectRef) string {
	if ref.Namespace == "" {
		return ref.Kind + " " + ref.Name
	}
	return ref.Kind + " " + ref.Namespace + "/" + ref.Name
}

// Report is what the policies of a sync found.
type Report struct {
	// Denials are violations of Deny policies: the set must not be applied.
	Denials []Violation
	// Warnings are violations of Warn policies, and the findings of warn
	// rules: the set is applied, and they are reported.
	Warnings []Violation
}

func (r *Report) add(p *weirv1.ClusterSyncPolicy, found []Violation) {
	deny := p.Spec.EnforcementOrDefault() == weirv1.EnforcementDeny
	for _, v := range found {
		v.Policy = p.Name
		// Compilers and evaluators spread their errors over lines;
		// conditions and Events read better on one.
		v.Message = strings.Join(strings.Fields(v.Message), " ")
		if deny && !v.warn {
			r.Denials = append(r.Denials, v)
		} else {
			r.Warnings = append(r.Warnings, v)
		}
	}
}

// maxShown is how many violations a summary names; it counts the rest.
const maxShown = 5

// Summary says what the violations are on one line: the first few in
// full, then how many more.
func Summary(vs []Violation) string {
	shown := make([]string, 0, min(len(vs), maxShown))
	for _, v := range vs[:min(len(vs), maxShown)] {
		shown = append(shown, v.String())
	}
	s := strings.Join(shown, "; ")
	if more := len(vs) - len(shown); more > 0 {
		s += fmt.Sprintf("; and %d more", more)
	}
	return s
}

// Err is a *DeniedError when a Deny policy found a violation, else nil.
func (r Report) Err() error {
	if len(r.Denials) == 0 {
		return nil
	}
	return &DeniedError{Violations: r.Denials}
}

// DeniedError is a set that Deny policies refuse.
type DeniedError struct {
	Violations []Violation
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("%d policy violation(s), nothing applied: %s", len(e.Violations), Summary(e.Violations))
}
