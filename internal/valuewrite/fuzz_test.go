package valuewrite

import (
	"testing"
)

// FuzzSet reads a path of one file and sets it in another: it never
// panics, and what Set writes reads back as the value set.
func FuzzSet(f *testing.F) {
	f.Add([]byte("image:\n  tag: 1.5.0 # dev\n"), []byte("image:\n  tag: 1.4.0 # weir\n"), "image.tag")
	f.Add([]byte("images:\n- name: web\n  newTag: 1.5.0\n"), []byte("images:\n  - name: web\n    newTag: 1.4.0\n"), "images.[name=web].newTag")
	f.Add([]byte("a: {b: [1, 2]}\n"), []byte("c: 3\n"), "a.b")
	f.Add([]byte("a:\n- x\n- y\n"), []byte("a: [z, w]\n"), "a.1")
	f.Add([]byte("metadata:\n  annotations:\n    example.com/owner: shop\n"), []byte("metadata: {}\n"), "metadata.annotations.[example.com/owner]")
	f.Fuzz(func(t *testing.T, from, to []byte, path string) {
		values, err := Read(from, []string{path})
		if err != nil || values[0].Node == nil {
			return
		}
		out, _, err := Set(to, values)
		if err != nil {
			return
		}
		back, err := Read(out, []string{path})
		if err != nil {
			t.Fatalf("the file Set wrote does not read back: %v\n%s", err, out)
		}
		if got, want := back[0].String(), values[0].String(); got != want {
			t.Fatalf("read back %s, set %s:\n%s", got, want, out)
		}
	})
}
