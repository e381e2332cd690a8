package render

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"

	"weir.dev/weir/internal/yamlalias"
)

var (
	// errPathEscape is a path that names something outside the checkout.
	errPathEscape = errors.New("path leads outside the checkout root")
	// errSymlinkEscape is a symlink whose target lies outside the checkout.
	errSymlinkEscape = errors.New("symlink points outside the checkout root")
)

// checkout confines reads to one directory tree. Every path it hands out has
// its symlinks resolved and lies inside root.
type checkout struct {
	// root is absolute with its symlinks resolved, so that a resolved path
	// lies inside the checkout exactly when it has root as a prefix.
	root string
	// files opens files below root. Paths given to it are already resolved;
	// os.Root refuses to follow a link out of root should one appear
	// between resolving and opening.
	files        *os.Root
	maxFileBytes int64
	// maxInputBytes, when positive, bounds the bytes of all files read,
	// together.
	maxInputBytes int64
	// read is how many bytes the files read so far hold.
	read atomic.Int64
	// noAliases refuses files that hold a YAML alias.
	noAliases bool
	// decrypter, if set, decrypts files as they are read.
	decrypter Decrypter
}

// target is a file or directory of the checkout.
type target struct {
	// rel is the slash-separated path relative to the root, as the user
	// sees it (through any symlinks); "." for the root. Errors use it.
	rel string
	// real is the absolute path with symlinks resolved.
	real string
}

// openCheckout opens root for reading files of at most maxFileBytes.
func openCheckout(root string, maxFileBytes int64) (*checkout, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("render: checkout root %s: %w", root, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("render: checkout root %s: %w", root, err)
	}
	files, err := os.OpenRoot(real)
	if err != nil {
		return nil, fmt.Errorf("render: checkout root %s: %w", root, err)
	}
	return &checkout{root: real, files: files, maxFileBytes: maxFileBytes}, nil
}

func (co *checkout) close() { _ = co.files.Close() }

// renderError wraps err, met reading rel, for the user. An escaping symlink
// is named by the error itself, which may be a directory above rel.
func renderError(rel string, err error) error {
	return fmt.Errorf("render %w", pathError(rel, err))
}

// pathError places err, met reading rel, on rel, unless it names an
// escaping symlink itself.
func pathError(rel string, err error) error {
	if errors.Is(err, errSymlinkEscape) {
		return err
	}
	return fmt.Errorf("%s: %w", rel, err)
}

// dir resolves the user's path to a directory of the checkout.
func (co *checkout) dir(p string) (target, error) {
	t, fi, err := co.lookup(p, "directory")
	if err != nil {
		return target{}, fmt.Errorf("render %w", err)
	}
	if !fi.IsDir() {
		return target{}, fmt.Errorf("render %s: not a directory", t.rel)
	}
	return t, nil
}

// file resolves a path, relative to the directory dir, to a regular file
// of the checkout. Its errors name the path relative to the root.
func (co *checkout) file(dir target, p string) (target, error) {
	if isAbs(p) {
		return target{}, fmt.Errorf("%s: path must be relative", p)
	}
	t, fi, err := co.lookup(path.Join(dir.rel, p), "file")
	if err != nil {
		return target{}, err
	}
	if !fi.Mode().IsRegular() {
		return target{}, fmt.Errorf("%s: not a regular file", t.rel)
	}
	return t, nil
}

// lookup resolves the user's path, which names a file or directory (what)
// of the checkout. Its errors name the path relative to the root.
func (co *checkout) lookup(p, what string) (target, fs.FileInfo, error) {
	rel := displayPath(p)
	if isAbs(p) {
		return target{}, nil, fmt.Errorf("%s: path must be relative to the checkout root", p)
	}
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return target{}, nil, fmt.Errorf("%s: %w", p, errPathEscape)
	}
	real, err := co.resolve(filepath.Join(co.root, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return target{}, nil, fmt.Errorf("%s: no such %s in the checkout", rel, what)
	}
	if err != nil {
		return target{}, nil, pathError(rel, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return target{}, nil, pathError(rel, withoutPath(err))
	}
	return target{rel: rel, real: real}, fi, nil
}

// isAbs reports whether a user's path is absolute or uses backslashes,
// which a checkout path never does.
func isAbs(p string) bool {
	return path.IsAbs(p) || filepath.IsAbs(p) || strings.Contains(p, `\`)
}

// displayPath cleans a slash-separated path relative to the root; the root
// itself is ".".
func displayPath(p string) string {
	return path.Clean("./" + p)
}

// within reports whether the clean absolute path abs is root or below it.
func (co *checkout) within(abs string) bool {
	return abs == co.root || strings.HasPrefix(abs, co.root+string(filepath.Separator))
}

// rel returns abs relative to the root, slash-separated.
func (co *checkout) rel(abs string) string {
	r, err := filepath.Rel(co.root, abs)
	if err != nil {
		return abs
	}
	return filepath.ToSlash(r)
}

// resolve returns the real path of abs, which must lie inside the root
// before and after its symlinks are resolved. A symlink that leads out is
// reported by name. A missing file yields an error matching fs.ErrNotExist.
func (co *checkout) resolve(abs string) (string, error) {
	abs = filepath.Clean(abs)
	if !co.within(abs) {
		return "", fmt.Errorf("%s: %w", co.rel(abs), errPathEscape)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	if !co.within(real) {
		return "", co.escapingLink(abs)
	}
	return real, nil
}

// escapingLink names the first symlink on the way from the root to abs whose
// target lies outside the root.
func (co *checkout) escapingLink(abs string) error {
	cur := co.root
	for _, part := range strings.Split(co.rel(abs), "/") {
		next := filepath.Join(cur, part)
		fi, err := os.Lstat(next)
		if err != nil {
			break
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		real, err := filepath.EvalSymlinks(next)
		if err != nil || !co.within(real) {
			return fmt.Errorf("%s: %w", co.rel(next), errSymlinkEscape)
		}
		cur = real
	}
	return fmt.Errorf("%s: %w", co.rel(abs), errSymlinkEscape)
}

// readFile reads the regular file at the resolved path real, refusing files
// larger than the bound, and files that bring what the render read over
// its bound for all files.
func (co *checkout) readFile(real string) ([]byte, error) {
	name := filepath.FromSlash(co.rel(real))
	// Stat before opening: opening a FIFO would block.
	if fi, err := co.files.Stat(name); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	} else if fi.Size() > co.maxFileBytes {
		return nil, co.tooLarge()
	} else if co.maxInputBytes > 0 && co.read.Load()+fi.Size() > co.maxInputBytes {
		return nil, co.inputTooLarge()
	}
	f, err := co.files.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may have grown since; read one byte past the bound to tell.
	data, err := io.ReadAll(io.LimitReader(f, co.maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > co.maxFileBytes {
		return nil, co.tooLarge()
	}
	if read := co.read.Add(int64(len(data))); co.maxInputBytes > 0 && read > co.maxInputBytes {
		return nil, co.inputTooLarge()
	}
	// Whatever parses the file next (kustomize, Helm, SOPS) might expand
	// its aliases; a file of a few hundred bytes can stand for billions of
	// nodes.
	added, err := yamlalias.Added(data)
	if err != nil {
		return nil, err
	}
	if added > 0 && co.noAliases {
		return nil, ErrAlias
	}
	return data, nil
}

// decrypt passes data, the content of the file rel, through the
// decrypter, if there is one.
func (co *checkout) decrypt(rel string, data []byte, secretSource bool) ([]byte, error) {
	if co.decrypter == nil {
		return data, nil
	}
	return co.decrypter.Decrypt(rel, data, secretSource)
}

// withoutPath drops the absolute path an os error carries, for errors that
// name the file relative to the root themselves.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (co *checkout) tooLarge() error {
	return fmt.Errorf("file is larger than the limit of %d bytes", co.maxFileBytes)
}

// ErrInputTooLarge is the error of a render whose files together hold more
// than Options.MaxInputBytes.
var ErrInputTooLarge = errors.New("the files read come to more than the render's limit")

// ErrAlias is the error of a render with Options.NoAliases that read a
// file holding a YAML alias.
var ErrAlias = errors.New("the file holds a YAML alias")

func (co *checkout) inputTooLarge() error {
	return fmt.Errorf("%w of %d bytes", ErrInputTooLarge, co.maxInputBytes)
}
