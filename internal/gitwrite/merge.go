package gitwrite

import (
	"fmt"
	"io"
	"path"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// maxMergeSize bounds the files merged line by line; larger files changed
// on both sides are reported as conflicts rather than loaded.
const maxMergeSize = 16 << 20

// mergeTrees merges two trees three ways, as Git merges a branch: what
// changed from base to theirs is applied to ours, entry by entry, and line
// by line within a text file that both sides changed. It writes the merged
// trees and blobs to s and returns the root tree's hash, or the paths
// where the two sides' changes conflict, sorted.
//
// A revert is the merge with base the bad commit, ours the branch head and
// theirs the good commit. Renames are not followed: a file that one side
// renamed and the other changed conflicts.
func mergeTrees(s storer.EncodedObjectStorer, base, ours, theirs plumbing.Hash) (plumbing.Hash, []string, error) {
	m := &treeMerger{s: s}
	entries, err := m.mergeTree("", base, ours, theirs)
	if err != nil || len(m.conflicts) > 0 {
		sort.Strings(m.conflicts)
		return plumbing.ZeroHash, m.conflicts, err
	}
	h, err := m.writeTree(entries)
	return h, nil, err
}

// treeMerger holds the object store and the conflicts found so far.
type treeMerger struct {
	s         storer.EncodedObjectStorer
	conflicts []string
}

// mergeTree merges the entries of three trees, any of which may be the
// zero hash for a tree that does not exist.
func (m *treeMerger) mergeTree(dir string, base, ours, theirs plumbing.Hash) ([]object.TreeEntry, error) {
	b, err := m.entries(base)
	if err != nil {
		return nil, err
	}
	o, err := m.entries(ours)
	if err != nil {
		return nil, err
	}
	t, err := m.entries(theirs)
	if err != nil {
		return nil, err
	}
	var merged []object.TreeEntry
	for _, name := range names(b, o, t) {
		e, err := m.mergeEntry(path.Join(dir, name), b[name], o[name], t[name])
		if err != nil {
			return nil, err
		}
		if e != nil {
			merged = append(merged, *e)
		}
	}
	sortEntries(merged)
	return merged, nil
}

// mergeEntry merges one name of a tree; a nil entry is one that is absent
// on that side, and a nil result drops the name.
func (m *treeMerger) mergeEntry(p string, b, o, t *object.TreeEntry) (*object.TreeEntry, error) {
	switch {
	case sameEntry(o, t), sameEntry(b, t):
		return o, nil
	case sameEntry(b, o):
		return t, nil
	case isDir(o) && isDir(t) && (b == nil || isDir(b)):
		return m.mergeDir(p, b, o, t)
	case isFile(o) && isFile(t) && (b == nil || isFile(b)):
		return m.mergeFile(p, b, o, t)
	}
	// Changed to different types, changed on one side and deleted on the
	// other, or two different symbolic links or submodules.
	m.conflicts = append(m.conflicts, p)
	return o, nil
}

// mergeDir merges a directory present on both sides.
func (m *treeMerger) mergeDir(p string, b, o, t *object.TreeEntry) (*object.TreeEntry, error) {
	entries, err := m.mergeTree(p, hashOf(b), o.Hash, t.Hash)
	if err != nil || len(entries) == 0 {
		return nil, err // Git stores no empty directory
	}
	h, err := m.writeTree(entries)
	if err != nil {
		return nil, err
	}
	return &object.TreeEntry{Name: o.Name, Mode: filemode.Dir, Hash: h}, nil
}

// mergeFile merges a file present on both sides, changed on both: its
// mode, and its content line by line.
func (m *treeMerger) mergeFile(p string, b, o, t *object.TreeEntry) (*object.TreeEntry, error) {
	mode, ok := mergeMode(b, o, t)
	if !ok {
		m.conflicts = append(m.conflicts, p)
		return o, nil
	}
	h := o.Hash
	if o.Hash != t.Hash {
		var err error
		if h, ok, err = m.mergeBlobs(p, hashOf(b), o.Hash, t.Hash); err != nil {
			return nil, err
		}
		if !ok {
			m.conflicts = append(m.conflicts, p)
			return o, nil
		}
	}
	return &object.TreeEntry{Name: o.Name, Mode: mode, Hash: h}, nil
}

// mergeMode merges a file's mode (executable or not) as an entry is merged.
func mergeMode(b, o, t *object.TreeEntry) (filemode.FileMode, bool) {
	switch {
	case o.Mode == t.Mode:
		return o.Mode, true
	case b != nil && b.Mode == o.Mode:
		return t.Mode, true
	case b != nil && b.Mode == t.Mode:
		return o.Mode, true
	}
	return o.Mode, false
}

// mergeBlobs merges the contents of a text file line by line and writes the
// result; base is the zero hash for a file that both sides added.
func (m *treeMerger) mergeBlobs(p string, base, ours, theirs plumbing.Hash) (plumbing.Hash, bool, error) {
	var contents [3][]byte
	for i, h := range []plumbing.Hash{base, ours, theirs} {
		if h.IsZero() {
			continue
		}
		c, ok, err := m.readBlob(h)
		if err != nil {
			return plumbing.ZeroHash, false, fmt.Errorf("read %s: %w", p, err)
		}
		if !ok || isBinary(c) {
			return plumbing.ZeroHash, false, nil
		}
		contents[i] = c
	}
	merged, ok := mergeText(contents[0], contents[1], contents[2])
	if !ok {
		return plumbing.ZeroHash, false, nil
	}
	h, err := m.writeBlob(merged)
	return h, true, err
}

// readBlob returns a blob's content, or false if it is too large to merge.
func (m *treeMerger) readBlob(h plumbing.Hash) ([]byte, bool, error) {
	blob, err := object.GetBlob(m.s, h)
	if err != nil {
		return nil, false, err
	}
	if blob.Size > maxMergeSize {
		return nil, false, nil
	}
	r, err := blob.Reader()
	if err != nil {
		return nil, false, err
	}
	defer r.Close()
	c, err := io.ReadAll(r)
	return c, true, err
}

// entries indexes a tree's entries by name; the zero hash is an empty tree.
func (m *treeMerger) entries(h plumbing.Hash) (map[string]*object.TreeEntry, error) {
	if h.IsZero() {
		return nil, nil
	}
	tree, err := object.GetTree(m.s, h)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	byName := make(map[string]*object.TreeEntry, len(tree.Entries))
	for i := range tree.Entries {
		byName[tree.Entries[i].Name] = &tree.Entries[i]
	}
	return byName, nil
}

// writeTree stores a tree of entries, which must be sorted.
func (m *treeMerger) writeTree(entries []object.TreeEntry) (plumbing.Hash, error) {
	obj := m.s.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return m.s.SetEncodedObject(obj)
}

// writeBlob stores a blob.
func (m *treeMerger) writeBlob(content []byte) (plumbing.Hash, error) {
	obj := m.s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(content); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return m.s.SetEncodedObject(obj)
}

// names lists the names in any of the trees.
func names(trees ...map[string]*object.TreeEntry) []string {
	seen := map[string]bool{}
	var all []string
	for _, t := range trees {
		for name := range t {
			if !seen[name] {
				seen[name] = true
				all = append(all, name)
			}
		}
	}
	return all
}

// sortEntries puts entries in Git's tree order, where a directory sorts as
// if its name ended with a slash.
func sortEntries(entries []object.TreeEntry) {
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
}

// sameEntry reports whether two entries are both absent, or name the same
// object with the same mode.
func sameEntry(a, b *object.TreeEntry) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Hash == b.Hash && a.Mode == b.Mode
}

func isDir(e *object.TreeEntry) bool { return e != nil && e.Mode == filemode.Dir }

// isFile reports whether e is a regular file, executable or not, which
// merges line by line; symbolic links and submodules do not.
func isFile(e *object.TreeEntry) bool {
	return e != nil && (e.Mode == filemode.Regular || e.Mode == filemode.Executable || e.Mode == filemode.Deprecated)
}

func hashOf(e *object.TreeEntry) plumbing.Hash {
	if e == nil {
		return plumbing.ZeroHash
	}
	return e.Hash
}
