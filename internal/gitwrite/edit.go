package gitwrite

import (
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// maxEditSize bounds the files an Editor is shown; larger files are left
// as they are.
const maxEditSize = 4 << 20

// Editor rewrites the files of a commit that Commit pushes.
type Editor interface {
	// Edit returns the new content of the file at path (slash-separated,
	// relative to the repository root) and whether it changed. An error
	// fails the commit; it should name what is wrong in the file.
	Edit(path string, content []byte) ([]byte, bool, error)
}

// treeEditor writes the edited trees and blobs to a store.
type treeEditor struct {
	s      storer.EncodedObjectStorer
	editor Editor
	// only keeps the files Edit is shown to those under this directory.
	only string
}

// edit returns the hash of tree h, at dir, with its files edited.
func (t *treeEditor) edit(dir string, h plumbing.Hash) (plumbing.Hash, error) {
	tree, err := object.GetTree(t.s, h)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", dir, err)
	}
	entries := make([]object.TreeEntry, len(tree.Entries))
	copy(entries, tree.Entries)
	changed := false
	for i, e := range entries {
		p := path.Join(dir, e.Name)
		if !t.within(p, e.Mode == filemode.Dir) {
			continue
		}
		var nh plumbing.Hash
		switch e.Mode {
		case filemode.Dir:
			nh, err = t.edit(p, e.Hash)
		case filemode.Regular, filemode.Executable:
			nh, err = t.editFile(p, e.Hash)
		default:
			continue
		}
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if nh != e.Hash {
			entries[i].Hash, changed = nh, true
		}
	}
	if !changed {
		return h, nil
	}
	return writeObject(t.s, &object.Tree{Entries: entries})
}

// within reports whether p, a directory or a file, is or may hold a file
// under t.only.
func (t *treeEditor) within(p string, dir bool) bool {
	if t.only == "" || p == t.only || strings.HasPrefix(p, t.only+"/") {
		return true
	}
	return dir && strings.HasPrefix(t.only, p+"/")
}

// editFile returns the hash of the blob at p, edited.
func (t *treeEditor) editFile(p string, h plumbing.Hash) (plumbing.Hash, error) {
	blob, err := object.GetBlob(t.s, h)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read %s: %w", p, err)
	}
	if blob.Size > maxEditSize {
		return h, nil
	}
	r, err := blob.Reader()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read %s: %w", p, err)
	}
	content, err := io.ReadAll(r)
	_ = r.Close()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read %s: %w", p, err)
	}
	edited, changed, err := t.editor.Edit(p, content)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s: %w", p, err)
	}
	if !changed {
		return h, nil
	}
	return (&treeMerger{s: t.s}).writeBlob(edited)
}

// writeObject encodes o into s and returns its hash.
func writeObject(s storer.EncodedObjectStorer, o interface {
	Encode(plumbing.EncodedObject) error
}) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}
