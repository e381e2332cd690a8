package gitwrite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"weir.dev/weir/internal/source"
)

// ErrNothingToCommit is the cause of the error Commit returns when the
// Editor changes no file: the branch already says what it would write.
var ErrNothingToCommit = errors.New("nothing to commit")

// CommitRequest asks for one commit of edited files.
type CommitRequest struct {
	// URL is the repository, as for RevertRequest.
	URL string
	// Branch is the branch whose head the commit edits.
	Branch string
	// PushBranch, when set and not Branch, is a branch for review that
	// the commit goes to instead, on top of Branch's head: weir replaces
	// it each time, unless it already holds the same files.
	PushBranch string
	// Credentials authenticate the fetch and the push.
	Credentials source.Credentials
	// Path limits the files Editor is shown to this directory
	// (slash-separated, relative to the root); empty shows them all.
	Path string
	// Editor rewrites the files.
	Editor Editor
	// Message is the commit message; it must not be empty.
	Message string
	// Author of the commit, also its committer; the zero value is
	// "weir <weir@weir.dev>".
	Author Signature
	// Signer, when set, signs the commit.
	Signer Signer
}

// Commit pushes one commit of the files of req.Branch's head as
// req.Editor rewrites them, and returns its hash. When the editor changes
// nothing, nothing is pushed and the error's cause is
// ErrNothingToCommit. A push that loses a race with another writer is
// redone on the new head, its files edited afresh, a few times, as Revert
// does. Errors name the branch and the URL, and never hold a credential.
func (r *Reverter) Commit(ctx context.Context, req CommitRequest) (string, error) {
	if err := os.MkdirAll(r.workDir, 0o700); err != nil {
		return "", fmt.Errorf("commit to branch %s: create the work directory: %w", req.Branch, err)
	}
	remote, err := source.NewRemote(req.URL, req.Credentials, r.workDir, r.opts)
	if err == nil {
		err = req.validate()
	}
	if err != nil {
		return "", req.fail(remote, err)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, r.opts.Timeout, &source.TimeoutError{After: r.opts.Timeout})
	defer cancel()
	h, err := r.retry(ctx, func(attempt int) (plumbing.Hash, error) { return r.commitOnce(ctx, remote, req, attempt) })
	err = source.Deadlined(ctx, err)
	if err != nil {
		return "", req.fail(remote, err)
	}
	return h, nil
}

// commitOnce fetches, edits and pushes once, in a clone of its own.
func (r *Reverter) commitOnce(ctx context.Context, remote *source.Remote, req CommitRequest, attempt int) (plumbing.Hash, error) {
	c, err := newClone(r.workDir, remote)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer func() { _ = c.close() }()
	if err := c.fetchRefs(ctx, 1, branchSpec(req.Branch)); err != nil {
		return plumbing.ZeroHash, err
	}
	head, err := c.tracked(req.Branch)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	target, base := req.target(), head
	if target != req.Branch {
		if base, err = c.reviewHead(ctx, target); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	headC, err := c.commit(head)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	te := &treeEditor{s: c.storage, editor: req.Editor, only: path.Clean("/" + req.Path)[1:]}
	tree, err := te.edit("", headC.TreeHash)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if tree == headC.TreeHash || c.holdsTree(base, tree) {
		return plumbing.ZeroHash, fmt.Errorf("%w: branch %s already says so", ErrNothingToCommit, target)
	}
	h, err := c.writeCommit(target, tree, head, req.message(), authorOr(req.Author), r.now(), req.Signer)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if r.beforePush != nil {
		r.beforePush(ctx, attempt)
	}
	if err := c.pushRef(ctx, target, base, target != req.Branch); err != nil {
		return h, r.pushFailed(ctx, c, target, base, h, err)
	}
	return h, nil
}

// tracked is the commit the branch was fetched at.
func (c *clone) tracked(branch string) (plumbing.Hash, error) {
	ref, err := c.storage.Reference(trackingName(branch))
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read the fetched branch %s: %w", branch, err)
	}
	return ref.Hash(), nil
}

// reviewHead fetches the review branch and returns its head, or the zero
// hash when the remote has no such branch yet.
func (c *clone) reviewHead(ctx context.Context, branch string) (plumbing.Hash, error) {
	err := c.fetchRefs(ctx, 1, branchSpec(branch))
	if err != nil && strings.HasSuffix(err.Error(), "not found") {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return c.tracked(branch)
}

// holdsTree reports whether commit h (the zero hash for none) has tree.
func (c *clone) holdsTree(h, tree plumbing.Hash) bool {
	if h.IsZero() {
		return false
	}
	commit, err := c.commit(h)
	return err == nil && commit.TreeHash == tree
}

// target is the branch the commit is pushed to.
func (req CommitRequest) target() string {
	if req.PushBranch != "" {
		return req.PushBranch
	}
	return req.Branch
}

// validate checks what Commit needs before it reaches the remote.
func (req CommitRequest) validate() error {
	switch {
	case req.Branch == "":
		return errors.New("no branch")
	case req.Editor == nil:
		return errors.New("no editor")
	case strings.TrimSpace(req.Message) == "":
		return errors.New("no commit message")
	}
	if err := plumbing.NewBranchReferenceName(req.Branch).Validate(); err != nil {
		return err
	}
	return plumbing.NewBranchReferenceName(req.target()).Validate()
}

// message is the commit message, ending with a newline as Git's do.
func (req CommitRequest) message() string {
	if !strings.HasSuffix(req.Message, "\n") {
		return req.Message + "\n"
	}
	return req.Message
}

// fail wraps err, met while serving req, into the error Commit returns:
// it names the branch and the URL, and holds no credential.
func (req CommitRequest) fail(remote *source.Remote, err error) error {
	cause := causeOf(err)
	if errors.Is(err, ErrNothingToCommit) {
		cause = ErrNothingToCommit
	}
	msg := fmt.Sprintf("commit to branch %s of %s: %s", req.target(), remote.Display(), remote.Describe(err))
	return &revertError{msg: msg, cause: cause}
}
