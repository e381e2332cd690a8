package helmrepo

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultMaxCacheBytes is the size a Puller keeps its cache under unless
// Options say otherwise.
const DefaultMaxCacheBytes int64 = 256 << 20

// recentUse is how long an archive stays cached after a Pull returned it,
// whatever the cache's size: its caller may still be reading it.
const recentUse = 10 * time.Minute

// cachedChart is a cached chart archive, as eviction sees it.
type cachedChart struct {
	path    string
	size    int64
	lastUse time.Time
}

// evict removes the least recently used archives until the cache is under
// its size limit, sparing those a Pull returned within recentUse. Failing
// to evict fails no Pull; the next download tries again.
func (p *Puller) evict() {
	if !p.evicting.TryLock() {
		return // another pass is on it
	}
	defer p.evicting.Unlock()
	archives, total := p.archives()
	sort.Slice(archives, func(i, j int) bool { return archives[i].lastUse.Before(archives[j].lastUse) })
	for _, a := range archives {
		if total <= p.maxCacheBytes {
			return
		}
		if time.Since(a.lastUse) < recentUse {
			continue
		}
		if err := os.Remove(a.path); err == nil {
			total -= a.size
		}
	}
}

// archives lists the cached archives and their total size.
func (p *Puller) archives() ([]cachedChart, int64) {
	var archives []cachedChart
	var total int64
	_ = filepath.WalkDir(p.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".tgz") {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			archives = append(archives, cachedChart{path: path, size: fi.Size(), lastUse: fi.ModTime()})
			total += fi.Size()
		}
		return nil
	})
	return archives, total
}

// touch marks a cached archive as just used.
func touch(path string) error {
	now := time.Now()
	return os.Chtimes(path, now, now)
}
