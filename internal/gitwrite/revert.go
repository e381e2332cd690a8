package gitwrite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"weir.dev/weir/internal/source"
)

// defaultAttempts is how many times Revert fetches, reverts and pushes
// before it gives up on a branch that others keep pushing to.
const defaultAttempts = 4

// defaultAuthor is who weir's commits are by, unless a request says.
var defaultAuthor = Signature{Name: "weir", Email: "weir@weir.dev"}

// Signature is the author and committer of a commit weir pushes.
type Signature struct {
	Name, Email string
}

// RevertRequest asks for one commit that undoes a failed release.
type RevertRequest struct {
	// URL is the repository, as internal/source fetches it (https://,
	// ssh://, git@host:path, file://).
	URL string
	// Branch is the branch to push the revert commit to: the tracked one.
	Branch string
	// Credentials authenticate the fetch and the push.
	Credentials source.Credentials
	// Good and Bad are full commit hashes: the changes of the commits in
	// (Good, Bad] are undone. Both must be in the branch's history; Bad
	// need not be its head.
	Good, Bad string
	// Message is the commit message; empty gives "Revert <good>..<bad>".
	Message string
	// Author of the commit, also its committer; the zero value is
	// "weir <weir@weir.dev>".
	Author Signature
	// Signer, when set, signs the commit (see ParseSigningKey), so that
	// an Application that verifies signatures applies it.
	Signer Signer
}

// Reverter pushes commits that undo failed releases (Revert) and commits
// of edited files (Commit). It is safe for concurrent use.
type Reverter struct {
	workDir  string
	opts     source.RemoteOptions
	attempts int
	now      func() time.Time
	// beforePush, when set, runs in each attempt just before the push:
	// tests push to the branch there, as another writer would.
	beforePush func(ctx context.Context, attempt int)
}

// NewReverter returns a Reverter that makes its temporary clones under
// workDir, which it creates if need be. Each clone is removed when the
// Revert that made it returns. opts say which repositories it may reach,
// and bound each Revert in time (opts.Timeout, or source.DefaultTimeout).
func NewReverter(workDir string, opts source.RemoteOptions) *Reverter {
	if opts.Timeout <= 0 {
		opts.Timeout = source.DefaultTimeout
	}
	return &Reverter{workDir: workDir, opts: opts, attempts: defaultAttempts, now: time.Now}
}

// Revert pushes to req.Branch of req.URL one commit that undoes the changes
// made by the commits in (req.Good, req.Bad], and returns its hash.
//
// The commit's tree is the branch head's with the inverse of diff(Good,
// Bad) merged in three ways (base Bad, ours the head, theirs Good), so
// changes pushed after Bad are kept. When they touch the same lines (or the
// same file in ways that do not merge), the error's cause is a
// *ConflictError naming the files, and nothing is pushed. When the head has
// none of the changes to undo (someone reverted them already), nothing is
// pushed and the error's cause is ErrAlreadyReverted. A push rejected
// because the branch moved meanwhile is redone from a fresh fetch, a few
// times; if what moved it is the very commit Revert would push (another
// Revert of the same release, in the same second), Revert returns its hash.
// Errors name the range, the branch and the URL, and never hold a
// credential. A Revert that runs out of its time fails with a
// *source.TimeoutError, a context.DeadlineExceeded.
func (r *Reverter) Revert(ctx context.Context, req RevertRequest) (string, error) {
	if err := os.MkdirAll(r.workDir, 0o700); err != nil {
		return "", fmt.Errorf("revert %s..%s on branch %s: create the work directory: %w", short(req.Good), short(req.Bad), req.Branch, err)
	}
	remote, err := source.NewRemote(req.URL, req.Credentials, r.workDir, r.opts)
	if err == nil {
		err = req.validate()
	}
	if err != nil {
		return "", fail(req, remote, err)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, r.opts.Timeout, &source.TimeoutError{After: r.opts.Timeout})
	defer cancel()
	h, err := r.retry(ctx, func(attempt int) (plumbing.Hash, error) { return r.attempt(ctx, remote, req, attempt) })
	err = source.Deadlined(ctx, err)
	if err != nil {
		return "", fail(req, remote, err)
	}
	return h, nil
}

// retry makes attempts until one pushes or fails for good: an attempt
// whose push lost a race with another writer is made again, from a fresh
// fetch, up to r.attempts times.
func (r *Reverter) retry(ctx context.Context, attempt func(n int) (plumbing.Hash, error)) (string, error) {
	for n := 1; ; n++ {
		h, err := attempt(n)
		if errors.Is(err, errBranchMoved) && n < r.attempts && ctx.Err() == nil {
			continue
		}
		if errors.Is(err, errBranchMoved) {
			err = fmt.Errorf("gave up after %d attempts: %w", n, err)
		}
		if err != nil {
			return "", err
		}
		return h.String(), nil
	}
}

// attempt fetches, reverts and pushes once, in a clone of its own.
func (r *Reverter) attempt(ctx context.Context, remote *source.Remote, req RevertRequest, attempt int) (plumbing.Hash, error) {
	c, err := newClone(r.workDir, remote)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	// Removing the clone is best effort: a directory left behind must not
	// fail a revert that was pushed, nor hide why one was not.
	defer func() { _ = c.close() }()
	good, bad := plumbing.NewHash(req.Good), plumbing.NewHash(req.Bad)
	head, goodC, badC, err := c.fetch(ctx, req.Branch, good, bad)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	tree, conflicts, err := mergeTrees(c.storage, badC.TreeHash, head.TreeHash, goodC.TreeHash)
	switch {
	case err != nil:
		return plumbing.ZeroHash, err
	case len(conflicts) > 0:
		return plumbing.ZeroHash, &ConflictError{Paths: conflicts}
	case tree == head.TreeHash:
		return plumbing.ZeroHash, fmt.Errorf("%w: branch head %s has none of the changes to undo", ErrAlreadyReverted, short(head.Hash.String()))
	}
	h, err := c.writeCommit(req.Branch, tree, head.Hash, req.message(), authorOr(req.Author), r.now(), req.Signer)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if r.beforePush != nil {
		r.beforePush(ctx, attempt)
	}
	if err := c.push(ctx, req.Branch, head.Hash); err != nil {
		return h, r.pushFailed(ctx, c, req.Branch, head.Hash, h, err)
	}
	return h, nil
}

// pushFailed tells a push that lost a race from one refused for good: it
// asks where the branch is now. If it moved past head, the push is worth
// redoing; if it is at the revert commit, the push went through after all.
// A server may refuse a push while another one holds the branch, before
// that one's commit shows, so the branch is asked about once more after
// raceSettle before the refusal is taken as final.
func (r *Reverter) pushFailed(ctx context.Context, c *clone, branch string, head, revert plumbing.Hash, err error) error {
	for check := 0; ; check++ {
		now, listErr := c.remoteHead(ctx, branch)
		switch {
		case listErr != nil:
			return fmt.Errorf("push: %w", err)
		case now == revert:
			return nil
		case now != head:
			return errBranchMoved
		case check > 0:
			return fmt.Errorf("push: %w", err)
		}
		select {
		case <-time.After(raceSettle):
		case <-ctx.Done():
			return fmt.Errorf("push: %w", err)
		}
	}
}

// raceSettle is how long a push that another push may be completing gets
// to show, before a refused push is taken as refused for good.
const raceSettle = 500 * time.Millisecond

// fail wraps err, met while serving req, into the error Revert returns:
// it names the range, the branch and the URL, and holds no credential.
func fail(req RevertRequest, remote *source.Remote, err error) error {
	msg := fmt.Sprintf("revert %s..%s on branch %s of %s: %s",
		short(req.Good), short(req.Bad), req.Branch, remote.Display(), remote.Describe(err))
	return &revertError{msg: msg, cause: causeOf(err)}
}

var fullSHA1 = regexp.MustCompile(`^[0-9a-f]{40}$`)

// validate checks what Revert needs before it reaches the remote.
func (req RevertRequest) validate() error {
	switch {
	case !fullSHA1.MatchString(req.Good) || !fullSHA1.MatchString(req.Bad):
		return errors.New("good and bad must be full SHA-1 hashes of 40 lowercase hex digits")
	case req.Good == req.Bad:
		return errors.New("good and bad are the same commit: there is nothing to revert")
	case req.Branch == "":
		return errors.New("no branch")
	}
	return plumbing.NewBranchReferenceName(req.Branch).Validate()
}

// message is the commit message, ending with a newline as Git's do.
func (req RevertRequest) message() string {
	m := req.Message
	if strings.TrimSpace(m) == "" {
		m = fmt.Sprintf("Revert %s..%s", short(req.Good), short(req.Bad))
	}
	if !strings.HasSuffix(m, "\n") {
		m += "\n"
	}
	return m
}

// authorOr is author, or the default for the zero Signature.
func authorOr(author Signature) Signature {
	if author == (Signature{}) {
		return defaultAuthor
	}
	return author
}

// short abbreviates a commit hash as Git shows it.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
