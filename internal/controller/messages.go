package controller

import (
	"unicode/utf8"

	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/decrypt"
)

// maxMessage bounds the message of a failure in conditions, history,
// Events and the log, so that one object's error cannot fill `weir get
// apps` or the Application's status.
const maxMessage = 1024

// truncationMarker ends a message cut at maxMessage.
const truncationMarker = " … (truncated)"

// failureMessage is what users are told of err: on one line, each object
// that failed named with the fields the API server refused and why rather
// than its whole dump (apply.Describe), no value of secrets, at most
// maxMessage bytes.
func failureMessage(err error, secrets *decrypt.Redactor) string {
	return truncate(secrets.String(apply.Describe(err)), maxMessage)
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
