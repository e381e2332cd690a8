package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// renderPlain decodes every manifest file below dir, in path order. An
// empty result fails, naming the files skipped, unless allowEmpty.
func renderPlain(ctx context.Context, co *checkout, dir target, limit int, allowEmpty bool) ([]*unstructured.Unstructured, error) {
	files, skipped, err := co.manifests(dir)
	if err != nil {
		return nil, err
	}
	c := newCollector(limit)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("render %s: %w", dir.rel, err)
		}
		data, err := co.readFile(f.real)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", f.rel, withoutPath(err))
		}
		if data, err = co.decrypt(f.rel, data, false); err != nil {
			return nil, fmt.Errorf("render %s: %w", dir.rel, err)
		}
		if err := decodeFile(f.rel, data, c.from(f.rel)); err != nil {
			return nil, err
		}
	}
	if len(c.objs) == 0 && !allowEmpty {
		return nil, emptyError(dir, TypePlain, len(files), skipped)
	}
	return c.objs, nil
}

// manifests lists the manifest files below dir, and the other files it
// holds, sorted by path.
func (co *checkout) manifests(dir target) ([]target, []skippedFile, error) {
	w := &walker{co: co, visited: map[string]bool{}}
	if err := w.walk(dir, []string{dir.real}); err != nil {
		return nil, nil, err
	}
	sort.Slice(w.files, func(i, j int) bool { return w.files[i].rel < w.files[j].rel })
	sort.Slice(w.skipped, func(i, j int) bool { return w.skipped[i].rel < w.skipped[j].rel })
	return w.files, w.skipped, nil
}

// walker collects the manifest files of a tree, following symlinks that
// stay inside the checkout.
type walker struct {
	co    *checkout
	files []target
	// skipped are the other regular files, which are not read.
	skipped []skippedFile
	// visited holds the real paths of the directories walked. Through
	// symlinks a directory can be reached more than once; it is read once,
	// so that links cannot make the walk grow exponentially.
	visited map[string]bool
}

// walk collects the manifest files below dir. Stack holds the real paths of
// the directories being walked, to stop at a symlink cycle.
func (w *walker) walk(dir target, stack []string) error {
	w.visited[dir.real] = true
	entries, err := os.ReadDir(dir.real)
	if err != nil {
		return fmt.Errorf("render %s: %w", dir.rel, withoutPath(err))
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || isKustomizationFile(e.Name()) {
			continue
		}
		child := target{rel: path.Join(dir.rel, e.Name()), real: filepath.Join(dir.real, e.Name())}
		mode := e.Type()
		if mode&fs.ModeSymlink != 0 {
			real, fi, err := w.co.follow(child)
			if err != nil {
				return err
			}
			if fi == nil {
				continue
			}
			child.real, mode = real, fi.Mode().Type()
		}
		switch {
		case mode.IsDir() && slices.Contains(stack, child.real):
			return fmt.Errorf("render %s: symlink cycle", child.rel)
		case mode.IsDir() && w.visited[child.real]:
			continue
		case mode.IsDir():
			if err := w.walk(child, append(stack, child.real)); err != nil {
				return err
			}
		case mode.IsRegular() && isManifest(e.Name()):
			w.files = append(w.files, child)
		case mode.IsRegular():
			w.skipped = append(w.skipped, skippedFile{rel: child.rel, why: whySkipped(e.Name())})
		}
	}
	return nil
}

// follow resolves the symlink link found while walking and returns its
// real path and what it leads to. When the walk would read that, a directory
// or a manifest file, a link out of the checkout is refused; links the walk
// would not read are left alone and yield a nil FileInfo.
func (co *checkout) follow(link target) (string, fs.FileInfo, error) {
	real, err := filepath.EvalSymlinks(link.real)
	if errors.Is(err, fs.ErrNotExist) && !isManifest(link.rel) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("render %s: broken symlink", link.rel)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", nil, fmt.Errorf("render %s: %w", link.rel, withoutPath(err))
	}
	if !fi.IsDir() && !isManifest(link.rel) {
		return "", nil, nil
	}
	if !co.within(real) {
		return "", nil, fmt.Errorf("render %s: %w", link.rel, errSymlinkEscape)
	}
	return real, fi, nil
}

// isManifest reports whether a file name is one plain rendering reads.
func isManifest(name string) bool {
	switch path.Ext(name) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}
