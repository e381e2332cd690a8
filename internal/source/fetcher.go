package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/source/evict"
)

// Defaults for a Fetcher's caches.
const (
	// defaultKeep is how many commits a repository's cache keeps exported,
	// the most recently returned first.
	defaultKeep = 3
	// defaultGrace spares a commit directory returned this recently, so
	// that a caller still reading an Artifact does not lose it to a fetch
	// of other refs of the same repository.
	defaultGrace = 10 * time.Minute
	// defaultMaxFetches bounds the growth of an object store: after that
	// many fetches it starts afresh, as a new shallow clone.
	defaultMaxFetches = 100
)

// storeDirName is the object store's directory within a repository's cache.
const storeDirName = "repo.git"

// Options configure a Fetcher. The zero value takes every default and
// refuses repositories on the local disk.
type Options struct {
	// Checkout bounds each exported commit; zero fields take the
	// defaults. A commit over its limits fails the Fetch with
	// ErrCheckoutTooLarge, naming the file that exceeds them.
	Checkout Limits
	// MaxCacheBytes is the size the cache is kept under, by removing the
	// least recently used repositories; zero means DefaultMaxCacheBytes.
	MaxCacheBytes int64
	// Timeout bounds a Fetch's wait for another Fetch of the same
	// repository, and then the Fetch itself; zero means DefaultTimeout.
	Timeout time.Duration
	// AllowFileSources lets URLs name repositories on this machine's
	// disk; see RemoteOptions.
	AllowFileSources bool
	// ListingReuse is how long a FetchSince may take the refs another
	// Fetch of the same repository listed, with the same credentials,
	// rather than list them again; zero lists them every time.
	ListingReuse time.Duration
}

// Fetcher resolves refs and checks out commits, with one cache per
// repository URL shared by every caller. It is safe for concurrent use:
// calls for one URL are serialized, calls for different URLs run in
// parallel.
type Fetcher struct {
	cacheDir   string
	opts       Options
	keep       int
	grace      time.Duration
	maxFetches int

	mu    sync.Mutex
	repos map[string]*repoCache
	// evictor keeps the cache under its limit.
	evictor evict.Evictor
}

// NewFetcher returns a Fetcher that keeps its caches under cacheDir, which
// it creates if need be and should own alone.
func NewFetcher(cacheDir string, opts Options) *Fetcher {
	opts.Checkout = opts.Checkout.withDefaults()
	if opts.MaxCacheBytes <= 0 {
		opts.MaxCacheBytes = DefaultMaxCacheBytes
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Fetcher{
		cacheDir:   cacheDir,
		opts:       opts,
		keep:       defaultKeep,
		grace:      defaultGrace,
		maxFetches: defaultMaxFetches,
		repos:      make(map[string]*repoCache),
	}
}

// Fetch resolves ref in the repository at url to a commit and returns its
// checked-out tree. It always asks the remote for its refs, with creds, and
// fetches only when the commit is not already checked out. An error names
// url, with any userinfo redacted, and ref, and never holds a credential;
// it is context.DeadlineExceeded for a Fetch that ran out of time.
func (f *Fetcher) Fetch(ctx context.Context, url string, ref v1alpha1.GitRef, creds Credentials) (Artifact, error) {
	return f.FetchSince(ctx, url, ref, creds, time.Now())
}

// FetchSince is Fetch, but takes the refs of the repository as another
// Fetch listed them, with the same credentials, if that listing started
// at since or later and less than Options.ListingReuse ago: Applications
// that track one repository share one listing per ListingReuse, and a
// caller that knows the refs moved at some time asks for a listing since.
func (f *Fetcher) FetchSince(ctx context.Context, url string, ref v1alpha1.GitRef, creds Credentials, since time.Time) (Artifact, error) {
	if err := os.MkdirAll(f.cacheDir, 0o755); err != nil {
		return Artifact{}, fmt.Errorf("create source cache: %w", err)
	}
	r, err := newRemote(url, creds, f.cacheDir, RemoteOptions{Timeout: f.opts.Timeout, AllowFileSources: f.opts.AllowFileSources})
	if err == nil {
		err = validateRef(ref)
	}
	if err != nil {
		return Artifact{}, r.fail(ref, err)
	}
	rc := f.repo(url)
	if err := rc.lock(ctx, f.opts.Timeout); err != nil {
		return Artifact{}, r.fail(ref, err)
	}
	reuse := reusable{since: since, within: f.opts.ListingReuse, creds: creds.fingerprint(url)}
	a, exported, err := rc.fetch(ctx, r, ref, reuse, f.opts)
	rc.unlock()
	if err != nil {
		return Artifact{}, r.fail(ref, err)
	}
	if exported {
		f.evict()
	}
	return a, nil
}

// Invalidate drops the refs last listed for the repository at url, so that
// the next Fetch of it lists them anew: a push to it was announced.
func (f *Fetcher) Invalidate(url string) {
	f.repo(url).listing.Store(nil)
}

// repo returns the cache of the repository at url, creating it on first use.
func (f *Fetcher) repo(url string) *repoCache { return f.repoByKey(cacheKey(url)) }

// repoByKey returns the cache named key, creating it on first use.
func (f *Fetcher) repoByKey(key string) *repoCache {
	f.mu.Lock()
	defer f.mu.Unlock()
	rc, ok := f.repos[key]
	if !ok {
		rc = &repoCache{
			dir:        filepath.Join(f.cacheDir, key),
			keep:       f.keep,
			grace:      f.grace,
			maxFetches: f.maxFetches,
			sem:        make(chan struct{}, 1),
			artifacts:  make(map[plumbing.Hash]Artifact),
		}
		rc.size.Store(-1)
		f.repos[key] = rc
	}
	return rc
}

// cacheKey names a repository's cache directory. Userinfo is left out of
// HTTP(S) URLs: every caller authenticates with the remote anyway before
// the cache is consulted.
func cacheKey(url string) string {
	if strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://") {
		url = redactURL(url)
	}
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:16])
}

// repoCache is the cache of one repository: its object store and its
// exported commits.
type repoCache struct {
	dir        string
	keep       int
	grace      time.Duration
	maxFetches int

	sem chan struct{} // held for the whole of a Fetch

	// Written under sem, read by eviction without it.
	size    atomic.Int64 // bytes on disk; -1 until measured
	lastUse atomic.Int64 // of the last Fetch, in Unix nanoseconds; 0 if none
	// listing is the last refs listed, written under sem; nil when
	// none or dropped by Invalidate.
	listing atomic.Pointer[listing]

	// Guarded by sem.
	artifacts map[plumbing.Hash]Artifact // exported commits, without Revision
	fetches   int                        // fetches from the remote, ever
	storeAge  int                        // fetches since the store was cloned
}

// lock takes the repository for one Fetch, unless ctx ends or wait passes
// first.
func (rc *repoCache) lock(ctx context.Context, wait time.Duration) error {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case rc.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return &TimeoutError{After: wait, What: "waiting for another fetch of the repository"}
	}
}

func (rc *repoCache) unlock() { <-rc.sem }

// fetch resolves ref on the remote and returns its commit, exported, in
// opts.Timeout at most. It reports whether the cache changed on disk.
func (rc *repoCache) fetch(ctx context.Context, r *remote, ref v1alpha1.GitRef, reuse reusable, opts Options) (Artifact, bool, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, opts.Timeout, &TimeoutError{After: opts.Timeout})
	defer cancel()
	rc.lastUse.Store(time.Now().UnixNano())
	a, changed, err := rc.fetchWithin(ctx, r, ref, reuse, opts.Checkout)
	if changed || rc.size.Load() < 0 {
		rc.measure()
	}
	return a, changed, Deadlined(ctx, err)
}

// fetchWithin is fetch once ctx bounds it.
func (rc *repoCache) fetchWithin(ctx context.Context, r *remote, ref v1alpha1.GitRef, reuse reusable, limits Limits) (Artifact, bool, error) {
	adv, err := rc.list(ctx, r, reuse)
	if err != nil {
		return Artifact{}, false, err
	}
	t, err := resolve(ref, adv)
	if err != nil {
		return Artifact{}, false, err
	}
	if a, ok := rc.cached(t.commit); ok && a.hasTag(t.tag) {
		return a.forTarget(t), false, nil
	}
	a, err := rc.checkout(ctx, r, t, limits)
	if err != nil {
		return Artifact{}, true, err
	}
	return a.forTarget(t), true, nil
}

// listing is the refs one Fetch listed: when it started, and with which
// credentials.
type listing struct {
	refs    advertised
	started time.Time
	creds   [32]byte
}

// reusable says which earlier listing a Fetch may take: one started at
// since or later, less than within ago, with the credentials creds.
type reusable struct {
	since  time.Time
	within time.Duration
	creds  [32]byte
}

// list returns the remote's refs: the last listing if reuse allows it,
// else a new one, kept for the next Fetch.
func (rc *repoCache) list(ctx context.Context, r *remote, reuse reusable) (advertised, error) {
	if l := rc.listing.Load(); l != nil && l.creds == reuse.creds &&
		!l.started.Before(reuse.since) && time.Since(l.started) < reuse.within {
		return l.refs, nil
	}
	started := time.Now()
	adv, err := r.list(ctx)
	if err != nil {
		return advertised{}, err
	}
	rc.listing.Store(&listing{refs: adv, started: started, creds: reuse.creds})
	return adv, nil
}

// cached returns the commit h if it is exported, marking it as used.
func (rc *repoCache) cached(h plumbing.Hash) (Artifact, bool) {
	a, ok := rc.artifacts[h]
	if !ok {
		return Artifact{}, false
	}
	if err := touch(a.Dir); err != nil {
		delete(rc.artifacts, h) // removed behind our back: export again
		return Artifact{}, false
	}
	return a, true
}

// checkout brings t's commit into the store, exports it and prunes older
// exports.
func (rc *repoCache) checkout(ctx context.Context, r *remote, t target, limits Limits) (Artifact, error) {
	if err := os.MkdirAll(rc.dir, 0o755); err != nil {
		return Artifact{}, fmt.Errorf("create repository cache: %w", err)
	}
	s := openStore(filepath.Join(rc.dir, storeDirName))
	s.maxObject = limits.maxObject()
	defer s.close()
	a, err := rc.tryCheckout(ctx, r, s, t, limits)
	if err != nil && isStoreError(err) {
		// The store lacks objects it should hold, as go-git can leave a
		// shallow clone after an update; a fresh clone mends it.
		if err := rc.resetStore(s); err != nil {
			return Artifact{}, err
		}
		a, err = rc.tryCheckout(ctx, r, s, t, limits)
	}
	if err != nil {
		return Artifact{}, err
	}
	rc.artifacts[plumbing.NewHash(a.Commit)] = a
	rc.prune(a.Commit)
	return a, nil
}

// tryCheckout brings t's commit into the store and exports it.
func (rc *repoCache) tryCheckout(ctx context.Context, r *remote, s *store, t target, limits Limits) (Artifact, error) {
	c, err := rc.obtain(ctx, r, s, t)
	if err != nil {
		return Artifact{}, err
	}
	dir, err := export(ctx, s.storage, c, rc.dir, limits)
	if err != nil {
		return Artifact{}, err
	}
	if err := touch(dir); err != nil {
		return Artifact{}, fmt.Errorf("export %s: %w", c.Hash, err)
	}
	a := newArtifact(c, dir)
	if a.Objects, err = s.signedObjects(c.Hash, t.tag); err != nil {
		return Artifact{}, err
	}
	return a, nil
}

// prune drops old exports. Failing to prune does not fail the Fetch; the
// next export tries again.
func (rc *repoCache) prune(current string) {
	removed, _ := prune(rc.dir, current, rc.keep, rc.grace)
	for _, name := range removed {
		delete(rc.artifacts, plumbing.NewHash(name))
	}
}

// obtain returns t's commit from the store, fetching it if the store lacks
// it. When the remote moved the ref since it was listed, the commit fetched
// is the newer one.
func (rc *repoCache) obtain(ctx context.Context, r *remote, s *store, t target) (*object.Commit, error) {
	if s.hasCommit(t.commit) && (t.tag.IsZero() || s.has(t.tag)) {
		return s.commit(t.commit)
	}
	if rc.storeAge >= rc.maxFetches {
		if err := rc.resetStore(s); err != nil {
			return nil, err
		}
	}
	if t.ref == "" {
		return rc.fetchHistory(ctx, r, s, t.commit)
	}
	c, err := rc.fetchTip(ctx, r, s, t.ref)
	if err == nil && t.pinned && c.Hash != t.commit {
		// The tip moved on since it was listed; look further back.
		return rc.fetchHistory(ctx, r, s, t.commit)
	}
	return c, err
}

// fetchTip fetches the remote ref name at depth 1 and returns its commit.
func (rc *repoCache) fetchTip(ctx context.Context, r *remote, s *store, name plumbing.ReferenceName) (*object.Commit, error) {
	rc.fetches++
	rc.storeAge++
	if err := s.fetch(ctx, r, []config.RefSpec{exactSpec(name)}, 1); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", name, err)
	}
	return s.peel(name)
}

// fetchHistory fetches the full history of every branch and tag, and
// returns commit h if it is in there.
func (rc *repoCache) fetchHistory(ctx context.Context, r *remote, s *store, h plumbing.Hash) (*object.Commit, error) {
	// Deepening a shallow clone is where go-git is least reliable; a full
	// clone costs as much and is sure.
	if shallow, err := s.isShallow(); err != nil || shallow {
		if err := rc.resetStore(s); err != nil {
			return nil, err
		}
	}
	rc.fetches++
	rc.storeAge++
	if err := s.fetch(ctx, r, allRefSpecs(), 0); err != nil {
		return nil, fmt.Errorf("fetch all branches and tags: %w", err)
	}
	if !s.hasCommit(h) {
		return nil, &refNotFoundError{what: "commit " + h.String(), why: "it is not reachable from any branch or tag"}
	}
	return s.commit(h)
}

// resetStore empties the object store, so the next fetch clones afresh.
func (rc *repoCache) resetStore(s *store) error {
	rc.storeAge = 0
	return s.reset()
}
