package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Modes of exported entries. Files are read-only, as the tree is never to
// change; directories stay writable by the owner so pruning can remove them.
const (
	dirMode        fs.FileMode = 0o755
	fileMode       fs.FileMode = 0o444
	executableMode fs.FileMode = 0o555
)

// exportPrefix starts the names of directories being written.
const exportPrefix = ".export-"

// maxSymlinkTarget bounds a symlink's target, as file systems do.
const maxSymlinkTarget = 4096

// export writes c's tree to <repoDir>/<commit> unless it is there already,
// and returns that directory. The tree is written to a temporary directory
// that is renamed into place, so no reader sees half a tree.
func export(ctx context.Context, c *object.Commit, repoDir string) (string, error) {
	dir := filepath.Join(repoDir, c.Hash.String())
	if isDir(dir) {
		return dir, nil
	}
	tree, err := c.Tree()
	if err != nil {
		return "", fmt.Errorf("read tree of %s: %w", c.Hash, err)
	}
	tmp, err := os.MkdirTemp(repoDir, exportPrefix)
	if err != nil {
		return "", fmt.Errorf("export %s: %w", c.Hash, err)
	}
	if err := writeTreeTo(ctx, tree, tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("export %s: %w", c.Hash, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("export %s: %w", c.Hash, err)
	}
	return dir, nil
}

// writeTreeTo writes tree into the empty directory dir.
func writeTreeTo(ctx context.Context, tree *object.Tree, dir string) error {
	if err := os.Chmod(dir, dirMode); err != nil {
		return err
	}
	// An os.Root refuses any path that leaves dir, even through a symlink
	// written earlier, on top of the checks on names below.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return writeTree(ctx, root, ".", tree)
}

// writeTree writes the entries of tree under dir, a path within root.
func writeTree(ctx context.Context, root *os.Root, dir string, tree *object.Tree) error {
	for _, e := range tree.Entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !validName(e.Name) {
			return fmt.Errorf("invalid file name %q in %s", e.Name, dir)
		}
		name := path.Join(dir, e.Name)
		if err := writeEntry(ctx, root, name, tree, e); err != nil {
			return err
		}
	}
	return nil
}

// writeEntry writes one entry of tree at name. Submodules are left out:
// their commits live in other repositories.
func writeEntry(ctx context.Context, root *os.Root, name string, tree *object.Tree, e object.TreeEntry) error {
	switch e.Mode {
	case filemode.Dir:
		sub, err := tree.Tree(e.Name)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		if err := root.Mkdir(name, dirMode); err != nil {
			return err
		}
		return writeTree(ctx, root, name, sub)
	case filemode.Regular, filemode.Deprecated:
		return writeFile(root, name, tree, e, fileMode)
	case filemode.Executable:
		return writeFile(root, name, tree, e, executableMode)
	case filemode.Symlink:
		return writeSymlink(root, name, tree, e)
	case filemode.Submodule:
		return nil
	}
	return fmt.Errorf("%s has unsupported mode %s", name, e.Mode)
}

// validName reports whether a tree entry's name is a single path element.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." &&
		!strings.ContainsAny(name, "/\\\x00")
}

// writeFile writes the blob of e to a new file at name.
func writeFile(root *os.Root, name string, tree *object.Tree, e object.TreeEntry, mode fs.FileMode) error {
	blob, err := tree.TreeEntryFile(&e)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	r, err := blob.Reader()
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	defer r.Close()
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// writeSymlink recreates the symlink e at name, pointing where it points
// in Git; the target is never followed here.
func writeSymlink(root *os.Root, name string, tree *object.Tree, e object.TreeEntry) error {
	blob, err := tree.TreeEntryFile(&e)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if blob.Size > maxSymlinkTarget {
		return fmt.Errorf("symlink %s: target too long", name)
	}
	target, err := blob.Contents()
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return root.Symlink(target, name)
}

// isDir reports whether dir is a directory (not a symlink to one).
func isDir(dir string) bool {
	fi, err := os.Lstat(dir)
	return err == nil && fi.IsDir()
}

// touch marks dir as just used; pruning keeps recently used commits.
func touch(dir string) error {
	now := time.Now()
	return os.Chtimes(dir, now, now)
}

// exportedCommit is a commit directory of a repository's cache.
type exportedCommit struct {
	name    string
	lastUse time.Time
}

// prune removes commit directories of repoDir beyond the keep most recently
// used, sparing current and any used within grace, and leftovers of
// interrupted exports. It returns the commits it removed.
func prune(repoDir, current string, keep int, grace time.Duration) ([]string, error) {
	entries, err := os.ReadDir(repoDir)
	if err != nil {
		return nil, err
	}
	var commits []exportedCommit
	var errs []error
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), exportPrefix):
			// Exports happen under the repository's lock, which the
			// caller holds: any temporary directory is a leftover.
			errs = append(errs, os.RemoveAll(filepath.Join(repoDir, e.Name())))
		case e.IsDir() && fullSHA1.MatchString(e.Name()):
			if fi, err := e.Info(); err == nil {
				commits = append(commits, exportedCommit{e.Name(), fi.ModTime()})
			}
		}
	}
	sort.Slice(commits, func(i, j int) bool { return commits[i].lastUse.After(commits[j].lastUse) })
	var removed []string
	for i, c := range commits {
		if i < keep || c.name == current || time.Since(c.lastUse) < grace {
			continue
		}
		if err := os.RemoveAll(filepath.Join(repoDir, c.name)); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, c.name)
	}
	return removed, errors.Join(errs...)
}
