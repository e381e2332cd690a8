package gitwrite

import (
	"context"
	"errors"
	"strings"

	"weir.dev/weir/internal/source"
)

// ErrAlreadyReverted is the cause of the error Revert returns when the
// branch head has none of the changes to undo: a person reverted them
// first, or the range changed nothing. Revert then pushes nothing; the
// caller may treat it as success.
var ErrAlreadyReverted = errors.New("already reverted")

// ConflictError is the cause of the error Revert returns when commits on
// the branch after the bad one changed the same lines (or the same files, in
// ways that cannot be merged) as the revert would. Revert then pushes
// nothing; a person has to resolve it.
type ConflictError struct {
	// Paths are the files in conflict, relative to the repository root.
	Paths []string
}

func (e *ConflictError) Error() string {
	return "conflict in " + strings.Join(e.Paths, ", ") +
		": changed on the branch after the bad commit in ways that the revert cannot merge"
}

// errBranchMoved says that the push was rejected because the branch moved
// on after it was fetched, so the attempt is worth repeating.
var errBranchMoved = errors.New("the branch moved on while the revert was pushed")

// revertError is what Revert returns: a message that names the range, the
// branch and the URL (userinfo redacted), and holds no credential. It
// unwraps only to causes a caller acts on, never to the underlying error,
// whose text could carry secrets that the message had scrubbed.
type revertError struct {
	msg   string
	cause error
}

func (e *revertError) Error() string { return e.msg }

func (e *revertError) Unwrap() error { return e.cause }

// causeOf is what a revertError for err unwraps to: ErrAlreadyReverted, a
// *ConflictError, a context error, source.ErrFileSourceNotAllowed, or nil.
func causeOf(err error) error {
	var conflict *ConflictError
	switch {
	case errors.As(err, &conflict):
		return conflict
	case errors.Is(err, ErrAlreadyReverted):
		return ErrAlreadyReverted
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	case errors.Is(err, source.ErrFileSourceNotAllowed):
		return source.ErrFileSourceNotAllowed
	}
	return nil
}

// commitNotFoundError says that a commit of the range is not on the remote.
type commitNotFoundError struct {
	commit, branch string
}

func (e *commitNotFoundError) Error() string {
	return "commit " + e.commit + " not found in the history of branch " + e.branch
}
