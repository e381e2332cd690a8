package fleet

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Parameters of the Git generator.
const (
	// PathParam is the directory matched, or the directory of the file
	// matched, from the repository's root ("apps/web"; "." for the root).
	PathParam = "path"
	// PathBasenameParam is the last element of PathParam ("web").
	PathBasenameParam = "path.basename"
	// PathFilenameParam is the name of the file matched ("eu.yaml").
	PathFilenameParam = "path.filename"
)

// gitElements are the elements of a Git generator over the checkout in
// dir: one per directory that its patterns match, or one per object of
// each file they match, in the order of their paths. Symbolic links are
// neither directories nor files to it, and nothing outside dir is read.
func gitElements(dir string, g *weirv1.GitGenerator) ([]Element, error) {
	patterns, files := g.Directories, len(g.Files) > 0
	if files {
		patterns = g.Files
	}
	if err := checkPatterns(patterns); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fsys := root.FS()
	paths, err := matchingPaths(fsys, patterns, files)
	if err != nil {
		return nil, err
	}
	if !files {
		return directoryElements(paths), nil
	}
	if len(paths) > MaxGitFiles {
		return nil, fmt.Errorf("the patterns match %d files, more than %d", len(paths), MaxGitFiles)
	}
	var out []Element
	for _, p := range paths {
		elems, err := fileElements(fsys, p)
		if err != nil {
			return nil, err
		}
		out = append(out, elems...)
		if len(out) > MaxElements {
			return nil, fmt.Errorf("the files give more than %d elements", MaxElements)
		}
	}
	return out, nil
}

// checkPatterns refuses a malformed pattern, naming it.
func checkPatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(strings.TrimPrefix(p, "!"), ""); err != nil {
			return fmt.Errorf("pattern %q: %w", p, err)
		}
	}
	return nil
}

// matches reports whether p matches a pattern and no "!" pattern.
func matches(patterns []string, p string) bool {
	in := false
	for _, pat := range patterns {
		if excl, ok := strings.CutPrefix(pat, "!"); ok {
			if m, _ := path.Match(excl, p); m {
				return false
			}
		} else if m, _ := path.Match(pat, p); m {
			in = true
		}
	}
	return in
}

// matchingPaths are the regular files (files) or directories of fsys
// that patterns match, in lexical order; at most MaxElements directories.
func matchingPaths(fsys fs.FS, patterns []string, files bool) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if (files && !d.Type().IsRegular()) || (!files && !d.IsDir()) || !matches(patterns, p) {
			return nil
		}
		out = append(out, p)
		if !files && len(out) > MaxElements {
			return fmt.Errorf("the patterns match more than %d directories", MaxElements)
		}
		return nil
	})
	return out, err
}

// directoryElements are the elements of the directories paths.
func directoryElements(paths []string) []Element {
	out := make([]Element, len(paths))
	for i, p := range paths {
		out[i] = Element{Params: map[string]string{PathParam: p, PathBasenameParam: path.Base(p)}, Origin: "directory " + p}
	}
	return out
}

// fileElements are the elements of the file at p: its objects' fields,
// and the parameters of its path.
func fileElements(fsys fs.FS, p string) ([]Element, error) {
	data, err := readBounded(fsys, p)
	if err != nil {
		return nil, err
	}
	objects, err := ParseFile(data)
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", p, err)
	}
	dir := path.Dir(p)
	out := make([]Element, len(objects))
	for i, params := range objects {
		origin := "file " + p
		if len(objects) > 1 {
			origin = fmt.Sprintf("file %s, item %d", p, i)
		}
		for k, v := range map[string]string{PathParam: dir, PathBasenameParam: path.Base(dir), PathFilenameParam: path.Base(p)} {
			if _, ok := params[k]; ok {
				return nil, fmt.Errorf("%s has a field %q, a parameter the generator sets", origin, k)
			}
			params[k] = v
		}
		if err := checkParams(origin, len(params)); err != nil {
			return nil, err
		}
		out[i] = Element{Params: params, Origin: origin}
	}
	return out, nil
}

// readBounded reads the file at p, refusing one over MaxGitFileBytes.
func readBounded(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxGitFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read file %s: %w", p, err)
	}
	if len(data) > MaxGitFileBytes {
		return nil, fmt.Errorf("file %s is larger than %d bytes", p, MaxGitFileBytes)
	}
	return data, nil
}
