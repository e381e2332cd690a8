package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"weir.dev/weir/api/v1alpha1"
)

// ImmutableError is an apply that the API server refused because it
// changes fields that cannot change once set (a Job's template, a
// Deployment's selector). Its message is one line naming the fields, never
// their values, which the server's message dumps whole.
type ImmutableError struct {
	// Fields are the paths the server named, as "spec.template".
	Fields []string
}

// Error names the immutable fields and the annotation that has weir
// replace the object.
func (e *ImmutableError) Error() string {
	return fmt.Sprintf("%s: field is immutable; to have weir delete and recreate the object when it changes, annotate it %s: Replace=true",
		strings.Join(e.Fields, ", "), v1alpha1.SyncOptionsAnnotation)
}

// immutableMarkers are how the API server and admission say that a field
// cannot change: "field is immutable" (apimachinery's validation), "may
// not change once set" (a Service's clusterIP), and CEL rules' wording.
var immutableMarkers = []string{"immutable", "may not change once set", "cannot be changed"}

// asImmutable returns an *ImmutableError for an Invalid error whose
// causes say fields are immutable, and err itself otherwise.
func asImmutable(err error) error {
	var status apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &status) || status.Status().Details == nil {
		return err
	}
	var fields []string
	for _, cause := range status.Status().Details.Causes {
		if slices.ContainsFunc(immutableMarkers, func(m string) bool { return strings.Contains(cause.Message, m) }) {
			fields = append(fields, cmp.Or(cause.Field, "(object)"))
		}
	}
	if len(fields) == 0 {
		return err
	}
	slices.Sort(fields)
	return &ImmutableError{Fields: slices.Compact(fields)}
}

// isImmutable reports whether err is an *ImmutableError.
func isImmutable(err error) bool {
	var ie *ImmutableError
	return errors.As(err, &ie)
}

// deleteTimeout bounds how long a replace waits for the old object to go.
const deleteTimeout = time.Minute

// deleteAndWait deletes live and waits until it is gone, so that an apply
// creates it anew. The error names finalizers that hold it.
func deleteAndWait(ctx context.Context, res dynamic.ResourceInterface, live *unstructured.Unstructured) error {
	uid := live.GetUID()
	err := deleteLive(ctx, res, live)
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete: %w", err)
	}
	var last *unstructured.Unstructured
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, deleteTimeout, true, func(ctx context.Context) (bool, error) {
		current, err := get(ctx, res, live.GetName())
		last = current
		return err == nil && (current == nil || current.GetUID() != uid), err
	})
	if err != nil && last != nil {
		return fmt.Errorf("still being deleted after %s (finalizers: %s): %w", deleteTimeout, strings.Join(last.GetFinalizers(), ", "), err)
	}
	return err
}
