package apply

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// maxQuotedValue is the longest value of a refused field that Describe
// quotes; a longer one (the API server quotes whole Go structures for an
// immutable field) is left out.
const maxQuotedValue = 64

// Describe writes err on one line for users: each object of a *SetError
// named with the fields the API server refused and why, rather than the
// server's whole dump of it. It neither bounds the message nor redacts
// secrets.
func Describe(err error) string {
	if se := (*SetError)(nil); errors.As(err, &se) {
		parts := make([]string, len(se.Objects))
		for i, oe := range se.Objects {
			parts[i] = oe.Object.String() + ": " + Describe(oe.Err)
		}
		return within(err, se, fmt.Sprintf("%s: %d of %d objects failed: %s", se.Op, len(se.Objects), se.Total, strings.Join(parts, "; ")))
	}
	if status := apiStatus(err); status != nil && status.Details != nil && len(status.Details.Causes) > 0 {
		causes := make([]string, len(status.Details.Causes))
		for i, c := range status.Details.Causes {
			causes[i] = describeCause(c)
		}
		return within(err, status, strings.Join(causes, "; "))
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// apiStatus returns the status of the API server's error that err wraps,
// or nil.
func apiStatus(err error) *metav1.Status {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return nil
	}
	status := se.Status()
	return &status
}

// within replaces, in err's message, the message of inner (an error err
// wraps, or the status of one) by summary, keeping the context err adds.
func within(err error, inner any, summary string) string {
	var innerMsg string
	switch in := inner.(type) {
	case error:
		innerMsg = in.Error()
	case *metav1.Status:
		innerMsg = in.Message
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, innerMsg); innerMsg != "" && i >= 0 {
		msg = msg[:i] + summary + msg[i+len(innerMsg):]
	} else {
		msg = summary
	}
	return strings.Join(strings.Fields(msg), " ")
}

// describeCause says which field the API server refused and why; the value
// it quotes is kept only when short.
func describeCause(c metav1.StatusCause) string {
	msg := c.Message
	if value, detail, ok := strings.Cut(msg, ": "); ok && c.Type == metav1.CauseTypeFieldValueInvalid && value == "Invalid value" {
		if i := strings.LastIndex(detail, ": "); i >= 0 && len(detail[:i]) > maxQuotedValue {
			msg = detail[i+2:]
		}
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if c.Field == "" {
		return msg
	}
	return c.Field + ": " + msg
}
