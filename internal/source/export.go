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

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"k8s.io/apimachinery/pkg/api/resource"
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

// Limits bound what one checkout may hold, so that no commit can fill the
// controller's disk or memory: a blob that Git compresses to a few hundred
// KiB can hold gigabytes.
type Limits struct {
	// MaxBytes bounds the total size of its files and symbolic links.
	MaxBytes int64
	// MaxFiles bounds how many files, directories and symbolic links it
	// holds.
	MaxFiles int
}

// Default limits of a checkout.
const (
	DefaultMaxCheckoutBytes int64 = 128 << 20
	DefaultMaxCheckoutFiles       = 25000
)

// withDefaults replaces unset limits with the defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxCheckoutBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxCheckoutFiles
	}
	return l
}

// maxObject bounds each object a fetch brings in: a file the checkout could
// hold, or a directory listing it could hold.
func (l Limits) maxObject() int64 {
	return max(l.MaxBytes, int64(l.MaxFiles)*maxEntryBytes)
}

// ErrCheckoutTooLarge is the cause of a Fetch refused because the commit
// holds more than its Limits allow.
var ErrCheckoutTooLarge = errors.New("checkout too large")

// objectReader reads objects, and their sizes without reading them.
type objectReader interface {
	storer.EncodedObjectStorer
	EncodedObjectSize(h plumbing.Hash) (int64, error)
}

// export writes c's tree to <repoDir>/<commit> unless it is there already,
// and returns that directory. The tree is written to a temporary directory
// that is renamed into place, so no reader sees half a tree; a tree over
// limits is not written past the object that exceeds them, and nothing of
// it is left.
func export(ctx context.Context, objects objectReader, c *object.Commit, repoDir string, limits Limits) (string, error) {
	dir := filepath.Join(repoDir, c.Hash.String())
	if isDir(dir) {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(repoDir, exportPrefix)
	if err != nil {
		return "", fmt.Errorf("export %s: %w", c.Hash, err)
	}
	x := &exporter{objects: objects, limits: limits}
	if err := x.writeTo(ctx, c.TreeHash, tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("export %s: %w", c.Hash, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("export %s: %w", c.Hash, err)
	}
	return dir, nil
}

// exporter writes one tree within its limits. Every object's size is read
// from its header and checked before the object is read; blobs are
// streamed to disk, never held whole in memory.
type exporter struct {
	objects objectReader
	limits  Limits
	root    *os.Root
	bytes   int64 // written so far
	files   int   // entries written so far
}

// writeTo writes the tree h into the empty directory dir.
func (x *exporter) writeTo(ctx context.Context, h plumbing.Hash, dir string) error {
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
	x.root = root
	tree, err := x.tree(h, ".")
	if err != nil {
		return err
	}
	return x.writeTree(ctx, ".", tree)
}

// writeTree writes the entries of tree under dir, a path within the root.
func (x *exporter) writeTree(ctx context.Context, dir string, tree *object.Tree) error {
	for _, e := range tree.Entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !validName(e.Name) {
			return fmt.Errorf("invalid file name %q in %s", e.Name, dir)
		}
		name := path.Join(dir, e.Name)
		if err := x.writeEntry(ctx, name, e); err != nil {
			return err
		}
	}
	return nil
}

// writeEntry writes one entry at name. Submodules are left out: their
// commits live in other repositories.
func (x *exporter) writeEntry(ctx context.Context, name string, e object.TreeEntry) error {
	if e.Mode == filemode.Submodule {
		return nil
	}
	if x.files++; x.files > x.limits.MaxFiles {
		return fmt.Errorf("%w: it holds more than %d files, directories and links (at %s)", ErrCheckoutTooLarge, x.limits.MaxFiles, name)
	}
	switch e.Mode {
	case filemode.Dir:
		sub, err := x.tree(e.Hash, name)
		if err != nil {
			return err
		}
		if err := x.root.Mkdir(name, dirMode); err != nil {
			return err
		}
		return x.writeTree(ctx, name, sub)
	case filemode.Regular, filemode.Deprecated:
		return x.writeFile(name, e, fileMode)
	case filemode.Executable:
		return x.writeFile(name, e, executableMode)
	case filemode.Symlink:
		return x.writeSymlink(name, e)
	}
	return fmt.Errorf("%s has unsupported mode %s", name, e.Mode)
}

// validName reports whether a tree entry's name is a single path element.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." &&
		!strings.ContainsAny(name, "/\\\x00")
}

// maxEntryBytes is the most a directory listing is allowed per entry it may
// hold: a tree is refused unread when it is larger than that many bytes
// times the number of entries the checkout may hold, as Git compresses a
// listing of millions of identical entries to little.
const maxEntryBytes = 300

// reserve counts the blob h, to be written at name, against the byte limit,
// reading its size from its header: no blob is read that would bring the
// checkout over its limit.
func (x *exporter) reserve(h plumbing.Hash, name string) error {
	size, err := x.objects.EncodedObjectSize(h)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if x.bytes+size > x.limits.MaxBytes {
		return fmt.Errorf("%w: %s (%s) brings the checkout over its limit of %s",
			ErrCheckoutTooLarge, name, formatBytes(size), formatBytes(x.limits.MaxBytes))
	}
	x.bytes += size
	return nil
}

// tree reads the tree h, the directory name, unless its size says it lists
// more entries than the checkout may hold.
func (x *exporter) tree(h plumbing.Hash, name string) (*object.Tree, error) {
	size, err := x.objects.EncodedObjectSize(h)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if size > int64(x.limits.MaxFiles)*maxEntryBytes {
		what := "the directory " + name
		if name == "." {
			what = "the top directory"
		}
		return nil, fmt.Errorf("%w: the listing of %s (%s) holds too many entries for the limit of %d files, directories and links",
			ErrCheckoutTooLarge, what, formatBytes(size), x.limits.MaxFiles)
	}
	tree, err := object.GetTree(x.objects, h)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return tree, nil
}

// blob returns the blob of e, at name, counted against the limits.
func (x *exporter) blob(name string, e object.TreeEntry) (*object.Blob, error) {
	if err := x.reserve(e.Hash, name); err != nil {
		return nil, err
	}
	blob, err := object.GetBlob(x.objects, e.Hash)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return blob, nil
}

// writeFile streams the blob of e to a new file at name.
func (x *exporter) writeFile(name string, e object.TreeEntry, mode fs.FileMode) error {
	blob, err := x.blob(name, e)
	if err != nil {
		return err
	}
	r, err := blob.Reader()
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	defer r.Close()
	f, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
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
func (x *exporter) writeSymlink(name string, e object.TreeEntry) error {
	blob, err := x.blob(name, e)
	if err != nil {
		return err
	}
	if blob.Size > maxSymlinkTarget {
		return fmt.Errorf("symlink %s: target too long", name)
	}
	r, err := blob.Reader()
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	defer r.Close()
	target, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return x.root.Symlink(string(target), name)
}

// formatBytes writes a size for people: "64MiB", "1770 bytes".
func formatBytes(n int64) string {
	q := resource.NewQuantity(n, resource.BinarySI).String()
	if strings.HasSuffix(q, "i") {
		return q + "B"
	}
	return q + " bytes"
}

// dirSize is the size of the files and symbolic links under dir.
func dirSize(dir string) (int64, error) {
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			size += fi.Size()
		}
		return err
	})
	return size, err
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
