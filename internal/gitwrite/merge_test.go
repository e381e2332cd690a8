package gitwrite

import (
	"io"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

// files describes a tree: path to content, where a content starting with
// "x:" is an executable file and one starting with "l:" a symbolic link.
type files map[string]string

func TestMergeTrees(t *testing.T) {
	t.Parallel()
	const text, textOurs, textTheirs, textBoth = "a\nb\nc\nd\n", "A\nb\nc\nd\n", "a\nb\nc\nD\n", "A\nb\nc\nD\n"
	tests := []struct {
		name               string
		base, ours, theirs files
		want               files    // the merged tree
		conflicts          []string // or the paths in conflict
	}{
		{name: "theirs changed a file",
			base: files{"a": "1", "d/b": "2"}, ours: files{"a": "1", "d/b": "2"}, theirs: files{"a": "1", "d/b": "3"},
			want: files{"a": "1", "d/b": "3"}},
		{name: "each side changed another file",
			base: files{"a": "1", "d/b": "2"}, ours: files{"a": "9", "d/b": "2"}, theirs: files{"a": "1", "d/b": "3"},
			want: files{"a": "9", "d/b": "3"}},
		{name: "both changed other lines of a file",
			base: files{"f": text}, ours: files{"f": textOurs}, theirs: files{"f": textTheirs},
			want: files{"f": textBoth}},
		{name: "both changed a line",
			base: files{"f": text, "g": "1"}, ours: files{"f": textOurs, "g": "1"}, theirs: files{"f": "X\nb\nc\nd\n", "g": "2"},
			conflicts: []string{"f"}},
		{name: "theirs added and deleted files, in new and emptied directories",
			base: files{"a": "1", "old/x": "2"}, ours: files{"a": "1", "old/x": "2", "z": "3"}, theirs: files{"a": "1", "new/deep/y": "4"},
			want: files{"a": "1", "z": "3", "new/deep/y": "4"}},
		{name: "theirs deleted a file that ours changed",
			base: files{"a": "1", "b": "2"}, ours: files{"a": "1", "b": "3"}, theirs: files{"a": "1"},
			conflicts: []string{"b"}},
		{name: "both deleted a file",
			base: files{"a": "1", "b": "2"}, ours: files{"a": "1"}, theirs: files{"a": "1"},
			want: files{"a": "1"}},
		{name: "theirs made a file executable, ours changed it",
			base: files{"run": text}, ours: files{"run": textOurs}, theirs: files{"run": "x:" + text},
			want: files{"run": "x:" + textOurs}},
		{name: "a file became a directory",
			base: files{"a": "1"}, ours: files{"a/b": "1"}, theirs: files{"a": "2"},
			conflicts: []string{"a"}},
		{name: "both changed a symbolic link",
			base: files{"l": "l:x"}, ours: files{"l": "l:y"}, theirs: files{"l": "l:z"},
			conflicts: []string{"l"}},
		{name: "both changed a binary file",
			base: files{"b": "\x00a\nb\nc\n"}, ours: files{"b": "\x00A\nb\nc\n"}, theirs: files{"b": "\x00a\nb\nC\n"},
			conflicts: []string{"b"}},
		{name: "files sort after directories of a longer name",
			base: files{"a": "1"}, ours: files{"a": "1", "d.yaml": "2"}, theirs: files{"a": "1", "d/x": "3"},
			want: files{"a": "1", "d.yaml": "2", "d/x": "3"}},
		{name: "conflicts deep in directories",
			base: files{"x/y/f": text, "x/g": "1"}, ours: files{"x/y/f": "X\n", "x/g": "2"}, theirs: files{"x/y/f": "Y\n", "x/g": "3"},
			conflicts: []string{"x/g", "x/y/f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memory.NewStorage()
			h, conflicts, err := mergeTrees(s, writeFiles(t, s, tt.base), writeFiles(t, s, tt.ours), writeFiles(t, s, tt.theirs))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(conflicts, tt.conflicts) {
				t.Fatalf("conflicts = %v, want %v", conflicts, tt.conflicts)
			}
			if tt.conflicts != nil {
				return
			}
			if want := writeFiles(t, s, tt.want); h != want {
				t.Errorf("merged tree = %v, want %v", readFiles(t, s, h), tt.want)
			}
		})
	}
}

// writeFiles stores the tree that fs describes, the way Git would, and
// returns its hash.
func writeFiles(t *testing.T, s *memory.Storage, fs files) plumbing.Hash {
	t.Helper()
	m := &treeMerger{s: s}
	h, err := writeDir(m, fs, "")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func writeDir(m *treeMerger, fs files, dir string) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	seen := map[string]bool{}
	for p, content := range fs {
		rel, ok := strings.CutPrefix(p, dir)
		if !ok {
			continue
		}
		name, rest, isDir := strings.Cut(rel, "/")
		if seen[name] {
			continue
		}
		seen[name] = true
		if isDir && rest != "" {
			h, err := writeDir(m, fs, dir+name+"/")
			if err != nil {
				return plumbing.ZeroHash, err
			}
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
			continue
		}
		mode := filemode.Regular
		if c, ok := strings.CutPrefix(content, "x:"); ok {
			mode, content = filemode.Executable, c
		} else if c, ok := strings.CutPrefix(content, "l:"); ok {
			mode, content = filemode.Symlink, c
		}
		h, err := m.writeBlob([]byte(content))
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: mode, Hash: h})
	}
	sortEntries(entries)
	return m.writeTree(entries)
}

// readFiles describes the tree h, for messages.
func readFiles(t *testing.T, s *memory.Storage, h plumbing.Hash) files {
	t.Helper()
	tree, err := object.GetTree(s, h)
	if err != nil {
		t.Fatal(err)
	}
	fs := files{}
	err = tree.Files().ForEach(func(f *object.File) error {
		r, err := f.Reader()
		if err != nil {
			return err
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		fs[path.Clean(f.Name)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestSortEntriesInGitOrder(t *testing.T) {
	t.Parallel()
	entries := []object.TreeEntry{
		{Name: "d0", Mode: filemode.Regular},
		{Name: "d", Mode: filemode.Dir},
		{Name: "d-x", Mode: filemode.Regular},
		{Name: "d.yaml", Mode: filemode.Executable},
		{Name: "c", Mode: filemode.Dir},
	}
	sortEntries(entries)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name)
	}
	// A directory sorts as if its name ended with "/", between "." and "0".
	if want := []string{"c", "d-x", "d.yaml", "d", "d0"}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}
