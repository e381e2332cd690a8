package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"weir.dev/weir/internal/yamlalias"
)

// errReadOnly refuses kustomize's attempts to change the checkout.
var errReadOnly = errors.New("the checkout is read-only while rendering")

// confinedFS is the file system kustomize builds on: the checkout, read-only,
// with every path resolved and refused if it or a symlink on it leads outside
// the root. Relative paths are taken relative to the root.
type confinedFS struct {
	co *checkout
	// ctx is the render's context. filesys.FileSystem takes none, and
	// checking it before each file read is how a long build is stopped
	// between files.
	ctx context.Context
	// secretSources holds the real paths of the files secretGenerators
	// read, which may decrypt to anything rather than only to Secrets.
	secretSources map[string]bool
	// readErr is the first file that could not be decrypted or whose
	// aliases expand too far: kustomize buries such errors in its own
	// messages, or takes the file for a directory or a URL, and the render
	// reports them alone.
	readErr error
}

var _ filesys.FileSystem = (*confinedFS)(nil)

// resolve returns the real path of name inside the checkout.
func (c *confinedFS) resolve(name string) (string, error) {
	if !filepath.IsAbs(name) {
		name = filepath.Join(c.co.root, name)
	}
	return c.co.resolve(name)
}

// stat resolves name and stats it, or fails.
func (c *confinedFS) stat(name string) (string, os.FileInfo, error) {
	real, err := c.resolve(name)
	if err != nil {
		return "", nil, err
	}
	fi, err := os.Stat(real)
	return real, fi, err
}

// Open opens a regular file for reading.
func (c *confinedFS) Open(name string) (filesys.File, error) {
	real, fi, err := c.stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", c.co.rel(real))
	}
	if fi.Size() > c.co.maxFileBytes {
		return nil, fmt.Errorf("%s: %w", c.co.rel(real), c.co.tooLarge())
	}
	f, err := c.co.files.Open(filepath.FromSlash(c.co.rel(real)))
	if err != nil {
		return nil, err
	}
	return f, nil
}

// ReadFile reads a whole file, within the size bound.
func (c *confinedFS) ReadFile(name string) ([]byte, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, err
	}
	real, err := c.resolve(name)
	if err != nil {
		return nil, err
	}
	data, err := c.co.readFile(real)
	if err != nil {
		err = fmt.Errorf("%s: %w", c.co.rel(real), err)
		if errors.As(err, new(*yamlalias.Error)) {
			c.keep(err)
		}
		return nil, err
	}
	data, err = c.co.decrypt(c.co.rel(real), data, c.secretSources[real])
	if err != nil {
		c.keep(err)
	}
	return data, err
}

// keep records err as the render's error unless one is recorded already.
func (c *confinedFS) keep(err error) {
	if c.readErr == nil {
		c.readErr = err
	}
}

// addSecretSource records a file that a secretGenerator of the
// kustomization in dir reads.
func (c *confinedFS) addSecretSource(dir, path string) {
	if real, err := c.resolve(filepath.Join(dir, path)); err == nil {
		c.secretSources[real] = true
	}
}

// IsDir reports whether name is a directory inside the checkout.
func (c *confinedFS) IsDir(name string) bool {
	_, fi, err := c.stat(name)
	return err == nil && fi.IsDir()
}

// Exists reports whether name exists inside the checkout.
func (c *confinedFS) Exists(name string) bool {
	_, _, err := c.stat(name)
	return err == nil
}

// ReadDir lists the names in a directory.
func (c *confinedFS) ReadDir(name string) ([]string, error) {
	real, err := c.resolve(name)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(real)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

// CleanedAbs splits the resolved path into a directory and, unless the path
// is a directory, a file name, as filesys.FileSystem requires.
func (c *confinedFS) CleanedAbs(name string) (filesys.ConfirmedDir, string, error) {
	real, fi, err := c.stat(name)
	if err != nil {
		return "", "", err
	}
	if fi.IsDir() {
		return filesys.ConfirmedDir(real), "", nil
	}
	return filesys.ConfirmedDir(filepath.Dir(real)), filepath.Base(real), nil
}

// Glob returns the matches of pattern that lie inside the checkout, without
// hidden files unless the pattern names them, as kustomize's on-disk file
// system does.
func (c *confinedFS) Glob(pattern string) ([]string, error) {
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(c.co.root, pattern)
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	var inside []string
	for _, m := range matches {
		if _, err := c.resolve(m); err == nil {
			inside = append(inside, m)
		}
	}
	if !filesys.IsHiddenFilePath(pattern) {
		inside = filesys.RemoveHiddenFiles(inside)
	}
	return inside, nil
}

// Walk walks the tree at name without following symlinks.
func (c *confinedFS) Walk(name string, fn filepath.WalkFunc) error {
	real, err := c.resolve(name)
	if err != nil {
		return err
	}
	return filepath.Walk(real, fn)
}

// Create is refused: rendering does not write.
func (c *confinedFS) Create(string) (filesys.File, error) { return nil, errReadOnly }

// Mkdir is refused: rendering does not write.
func (c *confinedFS) Mkdir(string) error { return errReadOnly }

// MkdirAll is refused: rendering does not write.
func (c *confinedFS) MkdirAll(string) error { return errReadOnly }

// RemoveAll is refused: rendering does not write.
func (c *confinedFS) RemoveAll(string) error { return errReadOnly }

// WriteFile is refused: rendering does not write.
func (c *confinedFS) WriteFile(string, []byte) error { return errReadOnly }
