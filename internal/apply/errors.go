package apply

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/api/v1alpha1"
)

// ObjectError is what went wrong with one object of a set.
type ObjectError struct {
	// Object is the object the error is about.
	Object v1alpha1.ObjectRef
	// Err is the cause, usually the API server's message.
	Err error
}

// Error is "<object>: <cause>".
func (e *ObjectError) Error() string { return e.Object.String() + ": " + e.Err.Error() }

// Unwrap returns the cause, so that apierrors.IsInvalid and friends work.
func (e *ObjectError) Unwrap() error { return e.Err }

func objectError(obj *unstructured.Unstructured, err error) *ObjectError {
	return &ObjectError{Object: Ref(obj), Err: err}
}

// SetError reports every object of a set that failed one step (normalize,
// validate, apply, prune, diff), not only the first. When Validate returns
// one, nothing of the set has been applied.
type SetError struct {
	// Op is the step that failed: "normalize", "validate", ...
	Op string
	// Total is the number of objects the step was given.
	Total int
	// Objects lists the failures, in the order of the set.
	Objects []*ObjectError
}

// Error counts the failures, then names each object with its error, one
// per line.
func (e *SetError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d of %d objects failed", e.Op, len(e.Objects), e.Total)
	for _, oe := range e.Objects {
		b.WriteString("\n  ")
		b.WriteString(oe.Error())
	}
	return b.String()
}

// Unwrap returns the errors of the objects, for errors.Is and errors.As.
func (e *SetError) Unwrap() []error {
	errs := make([]error, len(e.Objects))
	for i, oe := range e.Objects {
		errs[i] = oe
	}
	return errs
}

// setError returns a *SetError for errs, or nil when there are none.
func setError(op string, total int, errs []*ObjectError) error {
	if len(errs) == 0 {
		return nil
	}
	return &SetError{Op: op, Total: total, Objects: errs}
}
