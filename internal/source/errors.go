package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// sourceError is what Fetch returns: a message that names the URL (with
// userinfo redacted) and the ref and holds no credential. It unwraps only to
// a context error, never to the underlying error, whose text could carry
// secrets that the message had scrubbed.
type sourceError struct {
	msg   string
	cause error
}

func (e *sourceError) Error() string { return e.msg }

func (e *sourceError) Unwrap() error { return e.cause }

// refNotFoundError says that the remote has no ref, or no commit, that
// matches what was asked for; the message is completed with the URL.
type refNotFoundError struct {
	what string // "branch nope", "commit abc...", "a tag matching semver ^2"
	why  string // optional explanation
}

func (e *refNotFoundError) Error() string {
	if e.why != "" {
		return e.what + " not found: " + e.why
	}
	return e.what + " not found"
}

// hostKeyError says that the SSH server's host key was not accepted.
type hostKeyError struct {
	host   string
	reason string // "host key mismatch", "unknown host key", ...
}

func (e *hostKeyError) Error() string {
	return e.reason + " for " + e.host
}

// TimeoutError says that work on a repository ran out of time: a Fetch, its
// wait for another Fetch of the same repository, a revert. It is a
// context.DeadlineExceeded.
type TimeoutError struct {
	// After is the time the work was given.
	After time.Duration
	// What was waited for, if not the work itself: "waiting for ...".
	What string
}

// Error says how long the work was given and, if it was waiting, for what.
func (e *TimeoutError) Error() string {
	msg := "timed out after " + e.After.String()
	if e.What != "" {
		msg += " " + e.What
	}
	return msg
}

// Unwrap makes a TimeoutError a context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// Deadlined returns err, or the cause of ctx's end in its place when err
// was met once ctx's deadline had passed: go-git does not always say that
// the context ended (an SSH session closed under it fails with a network
// error), and a connection's own deadline can fire a moment before the
// context's.
func Deadlined(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		<-ctx.Done() // at once, or in a moment
		return context.Cause(ctx)
	}
	return err
}

// fail turns err, met while fetching ref from r, into the error Fetch
// returns, with every credential scrubbed from its text.
func (r *remote) fail(ref fmt.Stringer, err error) error {
	var msg string
	var nf *refNotFoundError
	if errors.As(err, &nf) {
		msg = nf.what + " not found in " + r.display
		if nf.why != "" {
			msg += ": " + nf.why
		}
	} else {
		msg = fmt.Sprintf("fetch %s from %s: %s", ref, r.display, r.describe(err))
	}
	return &sourceError{msg: r.scrub(msg), cause: causeOf(err)}
}

// describe says in a few words what went wrong, in terms a user can act on.
func (r *remote) describe(err error) string {
	var hk *hostKeyError
	var timeout *TimeoutError
	var netErr net.Error
	switch {
	case errors.As(err, &hk):
		return hk.Error()
	case errors.As(err, &timeout):
		return timeout.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timed out: the server stopped answering"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, transport.ErrAuthenticationRequired) && r.hasCredentials:
		return "authentication failed: the credentials were rejected"
	case errors.Is(err, transport.ErrAuthenticationRequired):
		return "authentication required"
	case errors.Is(err, transport.ErrAuthorizationFailed):
		return "authorization failed: the credentials do not grant access"
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return "repository not found"
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return "repository is empty"
	case strings.Contains(err.Error(), "unable to authenticate"):
		return "authentication failed: the SSH key was rejected"
	}
	return err.Error()
}

// scrub replaces the URL as given and every credential in s.
func (r *remote) scrub(s string) string {
	if r.url != r.display {
		s = strings.ReplaceAll(s, r.url, r.display)
	}
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return s
}

// causeOf is what an error of Fetch unwraps to: the context error or the
// refusal err stems from, or nil.
func causeOf(err error) error {
	for _, cause := range []error{context.Canceled, context.DeadlineExceeded, ErrCheckoutTooLarge, ErrFileSourceNotAllowed} {
		if errors.Is(err, cause) {
			return cause
		}
	}
	return nil
}

// isStoreError reports whether err means the local object store lacks
// objects it should have: go-git can leave a shallow clone in that state
// after an update, and cloning afresh mends it.
func isStoreError(err error) bool {
	return errors.Is(err, plumbing.ErrObjectNotFound) ||
		errors.Is(err, packfile.ErrReferenceDeltaNotFound) ||
		strings.Contains(err.Error(), "object not found")
}

// redactURL hides the userinfo of a URL: all of it for HTTP(S), where a
// user name can be a token, and the password for other schemes, where the
// user name (git@) is no secret.
func redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return redactSCPLike(raw)
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return raw
	}
	user, _, hasPassword := strings.Cut(authority[:at], ":")
	var userinfo string
	switch {
	case strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https"):
		userinfo = "redacted"
	case hasPassword:
		userinfo = user + ":redacted"
	default:
		return raw
	}
	return scheme + "://" + userinfo + rest[at:]
}

// redactSCPLike hides a password in "user:password@host:path", which Git
// does not support but a user may write all the same.
func redactSCPLike(raw string) string {
	at := strings.Index(raw, "@")
	if at < 0 {
		return raw
	}
	user, _, hasPassword := strings.Cut(raw[:at], ":")
	if !hasPassword {
		return raw
	}
	return user + ":redacted" + raw[at:]
}
