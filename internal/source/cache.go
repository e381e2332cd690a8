package source

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

// DefaultMaxCacheBytes is the size a Fetcher keeps its cache under unless
// Options say otherwise.
const DefaultMaxCacheBytes int64 = 2 << 30

// cacheKeyPattern matches the names cacheKey gives repository caches.
var cacheKeyPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// usage is what a repository's cache holds on disk and when a Fetch last
// used it, as eviction sees it.
type usage struct {
	rc      *repoCache
	size    int64
	lastUse time.Time
}

// evict removes the caches of the least recently used repositories, whole,
// until the cache is under its size limit. It never removes a repository
// that a Fetch holds, or whose checkout a Fetch returned within the grace
// period: a caller may still be reading it. So the cache can stay over its
// limit while more repositories than fit are in use. Caches left on disk
// by an earlier process are measured once and count like any other.
func (f *Fetcher) evict() {
	if !f.evicting.TryLock() {
		return // another pass is on it
	}
	defer f.evicting.Unlock()
	caches := f.usages()
	var total int64
	for _, u := range caches {
		total += u.size
	}
	sort.Slice(caches, func(i, j int) bool { return caches[i].lastUse.Before(caches[j].lastUse) })
	for _, u := range caches {
		if total <= f.opts.MaxCacheBytes {
			return
		}
		if time.Since(u.lastUse) < f.grace || !u.rc.tryLock() {
			continue
		}
		if err := os.RemoveAll(u.rc.dir); err == nil {
			u.rc.forget()
			total -= u.size
		}
		u.rc.unlock()
	}
}

// usages lists every repository cache in the cache directory, those of
// this process and those left by an earlier one.
func (f *Fetcher) usages() []usage {
	entries, _ := os.ReadDir(f.cacheDir)
	var caches []usage
	for _, e := range entries {
		if !e.IsDir() || !cacheKeyPattern.MatchString(e.Name()) {
			continue
		}
		rc := f.repoByKey(e.Name())
		size, lastUse := rc.usage()
		caches = append(caches, usage{rc: rc, size: size, lastUse: lastUse})
	}
	return caches
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
