package helmrepo

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"weir.dev/weir/internal/source/evict"
)

// DefaultMaxCacheBytes is the size a Puller keeps its cache under unless
// Options say otherwise.
const DefaultMaxCacheBytes int64 = 256 << 20

// recentUse is how long an archive stays cached after a Pull returned it,
// whatever the cache's size: its caller may still be reading it.
const recentUse = 10 * time.Minute

// evict removes the least recently used archives until the cache is under
// its size limit, sparing those a Pull returned within recentUse. Failing
// to evict fails no Pull; the next download tries again.
func (p *Puller) evict() {
	p.evictor.Evict(p.maxCacheBytes, recentUse, p.archives)
}

// archives lists the cached archives.
func (p *Puller) archives() []evict.Entry {
	var archives []evict.Entry
	_ = filepath.WalkDir(p.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".tgz") {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			archives = append(archives, evict.Entry{Size: fi.Size(), LastUse: fi.ModTime(), Remove: func() bool {
				return os.Remove(path) == nil
			}})
		}
		return nil
	})
	return archives
}

// touch marks a cached archive as just used.
func touch(path string) error {
	now := time.Now()
	return os.Chtimes(path, now, now)
}
