package source

import (
	"os"
	"path/filepath"
	"regexp"
	"time"

	"weir.dev/weir/internal/source/evict"
)

// DefaultMaxCacheBytes is the size a Fetcher keeps its cache under unless
// Options say otherwise.
const DefaultMaxCacheBytes int64 = 2 << 30

// cacheKeyPattern matches the names cacheKey gives repository caches.
var cacheKeyPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// evict removes the caches of the least recently used repositories, whole,
// until the cache is under its size limit. It never removes a repository
// that a Fetch holds, or whose checkout a Fetch returned within the grace
// period: a caller may still be reading it. So the cache can stay over its
// limit while more repositories than fit are in use. Caches left on disk
// by an earlier process are measured once and count like any other.
func (f *Fetcher) evict() {
	f.evictor.Evict(f.opts.MaxCacheBytes, f.grace, f.usages)
}

// usages lists every repository cache in the cache directory, those of
// this process and those left by an earlier one.
func (f *Fetcher) usages() []evict.Entry {
	entries, _ := os.ReadDir(f.cacheDir)
	var caches []evict.Entry
	for _, e := range entries {
		if !e.IsDir() || !cacheKeyPattern.MatchString(e.Name()) {
			continue
		}
		rc := f.repoByKey(e.Name())
		size, lastUse := rc.usage()
		caches = append(caches, evict.Entry{Size: size, LastUse: lastUse, Remove: rc.remove})
	}
	return caches
}

// remove removes the cache from disk unless a Fetch holds it, and reports
// whether it is gone.
func (rc *repoCache) remove() bool {
	if !rc.tryLock() {
		return false
	}
	defer rc.unlock()
	if err := os.RemoveAll(rc.dir); err != nil {
		return false
	}
	rc.forget()
	return true
}

// usage returns the cache's size and last use, measuring them on disk the
// first time for a cache this process has not fetched into.
func (rc *repoCache) usage() (int64, time.Time) {
	if size := rc.size.Load(); size >= 0 {
		return size, time.Unix(0, rc.lastUse.Load())
	}
	if !rc.tryLock() {
		return 0, time.Now() // being fetched into: measured after
	}
	defer rc.unlock()
	rc.measure()
	if rc.lastUse.Load() == 0 {
		rc.lastUse.Store(lastModified(rc.dir).UnixNano())
	}
	return rc.size.Load(), time.Unix(0, rc.lastUse.Load())
}

// measure records the size of the cache on disk; the caller holds rc.
func (rc *repoCache) measure() {
	size, err := dirSize(rc.dir)
	if err != nil && !os.IsNotExist(err) {
		size = 0 // unreadable: counted once it is fetched into again
	}
	rc.size.Store(size)
}

// forget drops what rc knew of its removed directory; the caller holds rc.
func (rc *repoCache) forget() {
	clear(rc.artifacts)
	rc.storeAge = 0
	rc.size.Store(0)
}

// tryLock takes the repository if no Fetch holds it.
func (rc *repoCache) tryLock() bool {
	select {
	case rc.sem <- struct{}{}:
		return true
	default:
		return false
	}
}

// lastModified is when dir or one of its entries (the exported commits,
// touched at each use) last changed.
func lastModified(dir string) time.Time {
	var last time.Time
	paths := []string{dir}
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	for _, p := range paths {
		if fi, err := os.Lstat(p); err == nil && fi.ModTime().After(last) {
			last = fi.ModTime()
		}
	}
	return last
}
