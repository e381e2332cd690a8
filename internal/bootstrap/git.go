package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/util"
	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"

	"weir.dev/weir/internal/source"
)

// committer signs bootstrap's commits.
var committer = object.Signature{Name: "weir bootstrap", Email: "bootstrap@weir.dev"}

// commitFiles writes files under dir of the branch, in a commit pushed to
// the remote, and returns the branch's head. It makes no commit when the
// branch holds them already. An empty repository gets the branch.
func commitFiles(ctx context.Context, remote *source.Remote, url, branch, dir string, files tree, message string) (head string, committed bool, err error) {
	repo, err := clone(ctx, remote, url, branch)
	if err != nil {
		return "", false, fmt.Errorf("clone %s: %s", remote.Display(), remote.Describe(err))
	}
	wt, err := repo.Worktree()
	if err != nil {
		return "", false, err
	}
	if err := writeTree(wt, dir, files); err != nil {
		return "", false, err
	}
	status, err := wt.Status()
	if err != nil {
		return "", false, err
	}
	if status.IsClean() {
		h, err := repo.Head()
		if err != nil {
			return "", false, err
		}
		return h.Hash().String(), false, nil
	}
	sig := committer
	sig.When = time.Now()
	h, err := wt.Commit(message, &git.CommitOptions{Author: &sig, Committer: &sig})
	if err != nil {
		return "", false, fmt.Errorf("commit: %w", err)
	}
	ref := plumbing.NewBranchReferenceName(branch)
	err = repo.PushContext(ctx, &git.PushOptions{
		RefSpecs:     []gitconfig.RefSpec{gitconfig.RefSpec(ref + ":" + ref)},
		Auth:         remote.Auth(),
		ProxyOptions: remote.ProxyOptions(),
	})
	if err != nil {
		return "", false, fmt.Errorf("push to %s: %s", remote.Display(), remote.Describe(err))
	}
	return h.String(), true, nil
}

// clone checks out branch of url in memory; an empty repository gives an
// empty work tree on that branch.
func clone(ctx context.Context, remote *source.Remote, url, branch string) (*git.Repository, error) {
	ref := plumbing.NewBranchReferenceName(branch)
	repo, err := git.CloneContext(ctx, memory.NewStorage(), memfs.New(), &git.CloneOptions{
		URL:           url,
		Auth:          remote.Auth(),
		ReferenceName: ref,
		SingleBranch:  true,
		Tags:          git.NoTags,
		ProxyOptions:  remote.ProxyOptions(),
	})
	if !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return repo, err
	}
	repo, err = git.InitWithOptions(memory.NewStorage(), memfs.New(), git.InitOptions{DefaultBranch: ref})
	if err != nil {
		return nil, err
	}
	_, err = repo.CreateRemote(&gitconfig.RemoteConfig{Name: git.DefaultRemoteName, URLs: []string{url}})
	return repo, err
}

// writeTree writes and stages the files of t under dir of wt, and those of
// its seeds that are missing.
func writeTree(wt *git.Worktree, dir string, t tree) error {
	write := maps.Clone(t.files)
	for name, data := range t.seeds {
		if _, err := wt.Filesystem.Stat(path.Join(dir, name)); errors.Is(err, fs.ErrNotExist) {
			write[name] = data
		}
	}
	for name, data := range write {
		p := path.Join(dir, name)
		if err := util.WriteFile(wt.Filesystem, p, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if _, err := wt.Add(p); err != nil {
			return fmt.Errorf("add %s: %w", p, err)
		}
	}
	return nil
}
