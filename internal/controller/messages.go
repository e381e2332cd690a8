package controller

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/decrypt"
)

// maxMessage bounds the message of a failure in conditions, history,
// Events and the log, so that one object's error cannot fill `weir get
// apps` or the Application's status.
const maxMessage = 1024

// truncationMarker ends a message cut at maxMessage.
const truncationMarker = " … (truncated)"

// maxQuotedValue is the longest value of a refused field that a message
// quotes; a longer one (the API server quotes whole Go structures for an
// immutable field) is left out.
const maxQuotedValue = 64

// failureMessage is what users are told of err: on one line, each object
// that failed named with the fields the API server refused and why rather
// than its whole dump, no value of secrets, at most maxMessage bytes.
func failureMessage(err error, secrets *decrypt.Redactor) string {
	return truncate(secrets.String(describe(err)), maxMessage)
}

// describe writes err on one line, summarising the API server's errors.
func describe(err error) string {
	if se := (*apply.SetError)(nil); errors.As(err, &se) {
		parts := make([]string, len(se.Objects))
		for i, oe := range se.Objects {
			parts[i] = oe.Object.String() + ": " + describe(oe.Err)
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

// truncate cuts s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(truncationMarker)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncationMarker
}
