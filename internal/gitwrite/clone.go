package gitwrite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"weir.dev/weir/internal/source"
)

// historyDepth is how much of a branch's history is fetched first when the
// server does not serve commits by hash: enough for a release that failed
// shortly after it was pushed. Deeper ranges fetch the whole branch.
const historyDepth = 20

// clone is a temporary bare repository that holds what one attempt at a
// revert needs: the branch head, the good and the bad commits, with their
// trees. It lives in its own directory, removed by close.
type clone struct {
	dir     string
	remote  *source.Remote
	storage *filesystem.Storage
	origin  *git.Remote
}

// newClone creates an empty repository in a new directory under parent.
func newClone(parent string, remote *source.Remote) (*clone, error) {
	dir, err := os.MkdirTemp(parent, "revert-")
	if err != nil {
		return nil, fmt.Errorf("create a work directory: %w", err)
	}
	c := &clone{dir: dir, remote: remote}
	c.open()
	return c, nil
}

// open starts an object store in c.dir; go-git lays it out on first write.
func (c *clone) open() {
	c.storage = filesystem.NewStorage(osfs.New(c.dir), cache.NewObjectLRUDefault())
	c.origin = c.remote.GoGit(c.storage)
}

// close releases the store and removes its directory.
func (c *clone) close() error {
	err := c.storage.Close()
	return errors.Join(err, os.RemoveAll(c.dir))
}

// reset empties the store, so that the next fetch starts afresh: go-git
// does not reliably deepen a shallow clone.
func (c *clone) reset() error {
	if err := c.close(); err != nil {
		return fmt.Errorf("reset the work directory: %w", err)
	}
	if err := os.Mkdir(c.dir, 0o700); err != nil {
		return fmt.Errorf("reset the work directory: %w", err)
	}
	c.open()
	return nil
}

// fetch brings the branch head and the commits good and bad into the store
// and returns them. It asks for the three commits alone, at depth 1, when
// the server serves commits by hash; otherwise it fetches the branch's
// recent history, and its whole history if good or bad is older.
func (c *clone) fetch(ctx context.Context, branch string, good, bad plumbing.Hash) (head, goodC, badC *object.Commit, err error) {
	err = c.fetchRefs(ctx, 1, branchSpec(branch), hashSpec(good, "good"), hashSpec(bad, "bad"))
	if errors.Is(err, git.ErrExactSHA1NotSupported) || isRefusedWant(err) {
		err = c.fetchHistory(ctx, branch, good, bad)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	ref, err := c.storage.Reference(trackingName(branch))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read the fetched branch %s: %w", branch, err)
	}
	if head, err = c.commit(ref.Hash()); err != nil {
		return nil, nil, nil, err
	}
	for _, h := range []plumbing.Hash{good, bad} {
		if !c.hasCommit(h) {
			return nil, nil, nil, &commitNotFoundError{commit: h.String(), branch: branch}
		}
	}
	goodC, _ = c.commit(good)
	badC, _ = c.commit(bad)
	return head, goodC, badC, nil
}

// fetchHistory fetches the branch at historyDepth and, if that misses good
// or bad, again in full.
func (c *clone) fetchHistory(ctx context.Context, branch string, good, bad plumbing.Hash) error {
	for _, depth := range []int{historyDepth, 0} {
		if err := c.reset(); err != nil {
			return err
		}
		if err := c.fetchRefs(ctx, depth, branchSpec(branch)); err != nil {
			return err
		}
		if c.hasCommit(good) && c.hasCommit(bad) {
			return nil
		}
	}
	return nil // fetch reports the missing commit
}

// fetchRefs fetches specs at depth (0 for all history), without tags.
func (c *clone) fetchRefs(ctx context.Context, depth int, specs ...config.RefSpec) error {
	err := c.origin.FetchContext(ctx, &git.FetchOptions{
		RefSpecs:     specs,
		Depth:        depth,
		Auth:         c.remote.Auth(),
		Tags:         git.NoTags,
		Force:        true,
		ProxyOptions: c.remote.ProxyOptions(),
	})
	var noMatch git.NoMatchingRefSpecError
	switch {
	case errors.Is(err, git.NoErrAlreadyUpToDate):
		return nil
	case errors.As(err, &noMatch):
		return fmt.Errorf("branch %s not found", strings.TrimPrefix(specs[0].Src(), "refs/heads/"))
	}
	return err
}

// isRefusedWant reports whether the server refused to send a commit by
// hash because no ref reaches it: it says "not our ref", or, as git
// upload-pack over a pipe does, it says so and exits while the client
// still writes its wants (a broken pipe).
func isRefusedWant(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "not our ref") ||
		errors.Is(err, syscall.EPIPE) || strings.Contains(err.Error(), "broken pipe"))
}

// commit returns commit h from the store.
func (c *clone) commit(h plumbing.Hash) (*object.Commit, error) {
	commit, err := object.GetCommit(c.storage, h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	return commit, nil
}

// hasCommit reports whether the store holds commit h and its tree.
func (c *clone) hasCommit(h plumbing.Hash) bool {
	commit, err := object.GetCommit(c.storage, h)
	if err != nil {
		return false
	}
	_, err = commit.Tree()
	return err == nil
}

// writeCommit stores a commit of tree on top of parent, signed by signer
// unless it is nil, and points the local branch at it.
func (c *clone) writeCommit(branch string, tree, parent plumbing.Hash, message string, author Signature, when time.Time, signer Signer) (plumbing.Hash, error) {
	sig := object.Signature{Name: author.Name, Email: author.Email, When: when}
	commit := &object.Commit{
		Author:       sig,
		Committer:    sig,
		Message:      message,
		TreeHash:     tree,
		ParentHashes: []plumbing.Hash{parent},
	}
	if signer != nil {
		if err := sign(commit, signer); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("sign the commit: %w", err)
		}
	}
	obj := c.storage.NewEncodedObject()
	if err := commit.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write the commit: %w", err)
	}
	h, err := c.storage.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write the commit: %w", err)
	}
	ref := plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), h)
	if err := c.storage.SetReference(ref); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write the commit: %w", err)
	}
	return h, nil
}

// sign puts signer's signature of commit in it.
func sign(commit *object.Commit, signer Signer) error {
	unsigned := &plumbing.MemoryObject{}
	if err := commit.EncodeWithoutSignature(unsigned); err != nil {
		return err
	}
	r, err := unsigned.Reader()
	if err != nil {
		return err
	}
	sig, err := signer.Sign(r)
	if err != nil {
		return err
	}
	commit.PGPSignature = string(sig)
	return nil
}

// push updates the remote branch to the local one, provided the remote
// branch is still at head: a push never overwrites what someone else pushed.
func (c *clone) push(ctx context.Context, branch string, head plumbing.Hash) error {
	return c.pushRef(ctx, branch, head, false)
}

// pushRef is push; with force, the local branch need not descend from
// head (a review branch weir rewrites), and a zero head pushes a branch
// the remote does not have.
func (c *clone) pushRef(ctx context.Context, branch string, head plumbing.Hash, force bool) error {
	ref := plumbing.NewBranchReferenceName(branch)
	spec := config.RefSpec(ref + ":" + ref)
	if force {
		spec = "+" + spec
	}
	opts := &git.PushOptions{
		RemoteName:   "origin",
		RefSpecs:     []config.RefSpec{spec},
		Auth:         c.remote.Auth(),
		ProxyOptions: c.remote.ProxyOptions(),
	}
	if !head.IsZero() {
		opts.RequireRemoteRefs = []config.RefSpec{config.RefSpec(head.String() + ":" + ref.String())}
	}
	return c.origin.PushContext(ctx, opts)
}

// remoteHead asks the remote where the branch is now.
func (c *clone) remoteHead(ctx context.Context, branch string) (plumbing.Hash, error) {
	refs, err := c.origin.ListContext(ctx, &git.ListOptions{Auth: c.remote.Auth(), ProxyOptions: c.remote.ProxyOptions()})
	if err != nil {
		return plumbing.ZeroHash, err
	}
	name := plumbing.NewBranchReferenceName(branch)
	for _, r := range refs {
		if r.Name() == name {
			return r.Hash(), nil
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("branch %s not found", branch)
}

// branchSpec fetches the remote branch to its tracking ref.
func branchSpec(branch string) config.RefSpec {
	return config.RefSpec("+" + plumbing.NewBranchReferenceName(branch).String() + ":" + trackingName(branch).String())
}

// trackingName is the local ref that the remote branch is fetched to.
func trackingName(branch string) plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName("origin", branch)
}

// hashSpec fetches commit h by its hash to a local ref named for its role.
func hashSpec(h plumbing.Hash, role string) config.RefSpec {
	return config.RefSpec("+" + h.String() + ":refs/weir/" + role)
}
