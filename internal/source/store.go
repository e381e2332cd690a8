package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// storeCacheSize bounds the objects a store keeps decoded in memory while
// it is open; a store is opened only to fetch and export a new commit.
const storeCacheSize = 8 * cache.MiByte

// largeObject is the size from which the store streams an object from disk
// when it is read, rather than decoding it whole in memory.
const largeObject = 1 << 20

// maxPeel bounds a chain of tags pointing at tags.
const maxPeel = 8

// store is the object store of one repository: a bare Git repository that
// holds only what the exported commits needed, mostly at depth 1.
type store struct {
	dir     string
	storage *filesystem.Storage
	// maxObject bounds each object a fetch brings in; zero leaves them
	// unbounded.
	maxObject int64
}

// openStore opens the store in dir, which need not exist yet: go-git
// creates its layout on the first write.
func openStore(dir string) *store {
	return &store{
		dir: dir,
		storage: filesystem.NewStorageWithOptions(osfs.New(dir), cache.NewObjectLRU(storeCacheSize),
			filesystem.Options{LargeObjectThreshold: largeObject}),
	}
}

// close releases the store's open files and cached objects.
func (s *store) close() error { return s.storage.Close() }

// reset empties the store, as a fresh clone starts.
func (s *store) reset() error {
	if err := s.close(); err != nil {
		return fmt.Errorf("close object store: %w", err)
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("remove object store: %w", err)
	}
	*s = store{dir: s.dir, storage: openStore(s.dir).storage, maxObject: s.maxObject}
	return nil
}

// commit returns the commit h if the store holds it.
func (s *store) commit(h plumbing.Hash) (*object.Commit, error) {
	return object.GetCommit(s.storage, h)
}

// hasCommit reports whether the store holds commit h and its tree.
func (s *store) hasCommit(h plumbing.Hash) bool {
	c, err := s.commit(h)
	if err != nil {
		return false
	}
	_, err = c.Tree()
	return err == nil
}

// has reports whether the store holds the object h.
func (s *store) has(h plumbing.Hash) bool {
	return s.storage.HasEncodedObject(h) == nil
}

// signedObjects reads the commit and, unless tag is zero, the annotated tag
// that a revision's signatures are on.
func (s *store) signedObjects(commit, tag plumbing.Hash) (Objects, error) {
	var objs Objects
	var err error
	if objs.Commit, err = s.raw(plumbing.CommitObject, commit); err != nil {
		return Objects{}, err
	}
	if !tag.IsZero() {
		objs.Tag, err = s.raw(plumbing.TagObject, tag)
	}
	return objs, err
}

// raw reads the object h of type typ as Git encodes it; empty when it is
// larger than MaxSignedObject.
func (s *store) raw(typ plumbing.ObjectType, h plumbing.Hash) (string, error) {
	obj, err := s.storage.EncodedObject(typ, h)
	if err != nil {
		return "", fmt.Errorf("read %s %s: %w", typ, h, err)
	}
	if obj.Size() > MaxSignedObject {
		return "", nil
	}
	r, err := obj.Reader()
	if err != nil {
		return "", fmt.Errorf("read %s %s: %w", typ, h, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("read %s %s: %w", typ, h, err)
	}
	return string(b), nil
}

// peel returns the commit that the local ref name points to, through
// annotated tags.
func (s *store) peel(name plumbing.ReferenceName) (*object.Commit, error) {
	ref, err := s.storage.Reference(name)
	if err != nil {
		return nil, fmt.Errorf("read fetched %s: %w", name, err)
	}
	h := ref.Hash()
	for range maxPeel {
		obj, err := object.GetObject(s.storage, h)
		if err != nil {
			return nil, fmt.Errorf("read fetched %s: %w", name, err)
		}
		switch o := obj.(type) {
		case *object.Commit:
			return o, nil
		case *object.Tag:
			h = o.Target
		default:
			return nil, fmt.Errorf("%s points to a %s, not a commit", name, obj.Type())
		}
	}
	return nil, fmt.Errorf("%s: too many nested tags", name)
}

// isShallow reports whether the store lacks history behind some commit.
func (s *store) isShallow() (bool, error) {
	shallows, err := s.storage.Shallow()
	return len(shallows) > 0, err
}

// fetch brings the refs in specs, and what they need, from r into the
// store; depth 0 fetches full history.
func (s *store) fetch(ctx context.Context, r *remote, specs []config.RefSpec, depth int) error {
	var storer storage.Storer = s.storage
	if s.maxObject > 0 {
		storer = guardedStorage{Storage: s.storage, tmpDir: filepath.Dir(s.dir), maxObject: s.maxObject}
	}
	rem := git.NewRemote(storer, &config.RemoteConfig{Name: "origin", URLs: []string{r.url}})
	err := rem.FetchContext(ctx, &git.FetchOptions{
		RefSpecs: specs,
		Depth:    depth,
		Auth:     r.auth,
		Tags:     git.NoTags,
		Force:    true,
		// Bounds the SSH handshake, which the context does not.
		ProxyOptions: r.proxy,
	})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// exactSpec fetches the remote ref name into the same local name.
func exactSpec(name plumbing.ReferenceName) config.RefSpec {
	return config.RefSpec("+" + name + ":" + name)
}

// allRefSpecs fetch every branch and tag, to find a commit deep in history.
func allRefSpecs() []config.RefSpec {
	return []config.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"}
}
