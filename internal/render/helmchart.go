package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	"helm.sh/helm/v4/pkg/ignore"
)

// chartFiles reads the files of the chart in dir as Helm's directory loader
// does (honouring .helmignore, following symlinks), but confined to the
// checkout: a symlink that leads out of it is refused, naming the link,
// every file is bounded by the checkout's file limit, and the chart's files
// together by maxBytes.
func (co *checkout) chartFiles(dir target, maxBytes int64) ([]*archive.BufferedFile, error) {
	rules, err := co.helmignore(dir)
	if err != nil {
		return nil, err
	}
	w := &chartWalker{co: co, top: dir, rules: rules, limit: maxBytes, budget: maxBytes}
	if err := w.walk(dir, []string{dir.real}); err != nil {
		return nil, err
	}
	return w.files, nil
}

// helmignore reads the chart's .helmignore, if any, with Helm's defaults.
func (co *checkout) helmignore(dir target) (*ignore.Rules, error) {
	rules := ignore.Empty()
	if f, err := co.file(dir, ignore.HelmIgnore); err == nil {
		data, err := co.readFile(f.real)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", f.rel, withoutPath(err))
		}
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("render %s: %w", f.rel, err)
		}
	}
	rules.AddDefaults()
	return rules, nil
}

// chartWalker collects the files of one chart.
type chartWalker struct {
	co     *checkout
	top    target
	rules  *ignore.Rules
	limit  int64
	budget int64
	files  []*archive.BufferedFile
}

// walk reads the files below dir. Stack holds the real paths of the
// directories being walked, to stop at a symlink cycle.
func (w *chartWalker) walk(dir target, stack []string) error {
	entries, err := os.ReadDir(dir.real)
	if err != nil {
		return fmt.Errorf("render %s: %w", dir.rel, withoutPath(err))
	}
	for _, e := range entries {
		child := target{rel: path.Join(dir.rel, e.Name()), real: filepath.Join(dir.real, e.Name())}
		fi, err := w.resolve(&child, e)
		if err != nil {
			return err
		}
		name := w.nameInChart(child)
		if w.rules.Ignore(name, fi) {
			continue
		}
		switch {
		case fi.IsDir() && slices.Contains(stack, child.real):
			return fmt.Errorf("render %s: symlink cycle", child.rel)
		case fi.IsDir():
			if err := w.walk(child, append(stack, child.real)); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			if err := w.read(child, name); err != nil {
				return err
			}
		default:
			return fmt.Errorf("render %s: not a regular file", child.rel)
		}
	}
	return nil
}

// resolve follows child if it is a symlink, refusing one that leads out of
// the checkout, and returns what it leads to.
func (w *chartWalker) resolve(child *target, e fs.DirEntry) (fs.FileInfo, error) {
	if e.Type()&fs.ModeSymlink == 0 {
		fi, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", child.rel, withoutPath(err))
		}
		return fi, nil
	}
	real, err := w.co.resolve(child.real)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("render %s: broken symlink", child.rel)
	}
	if err != nil {
		return nil, renderError(child.rel, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", child.rel, withoutPath(err))
	}
	child.real = real
	return fi, nil
}

// read adds the file f, known to the chart as name, within the budget.
func (w *chartWalker) read(f target, name string) error {
	data, err := w.co.readFile(f.real)
	if err != nil {
		return fmt.Errorf("render %s: %w", f.rel, withoutPath(err))
	}
	if w.budget -= int64(len(data)); w.budget < 0 {
		return fmt.Errorf("render %s: the chart's files are larger than the limit of %d bytes", w.top.rel, w.limit)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	w.files = append(w.files, &archive.BufferedFile{Name: name, Data: data})
	return nil
}

// nameInChart is f's slash-separated path relative to the chart's top.
func (w *chartWalker) nameInChart(f target) string {
	if w.top.rel == "." {
		return f.rel
	}
	return f.rel[len(w.top.rel)+1:]
}
