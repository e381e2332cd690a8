package identity

import (
	"fmt"
	"sync"

	"k8s.io/client-go/rest"
	"k8s.io/utils/lru"
)

// DefaultCacheSize is how many identities' clients a Cache keeps by
// default: one per Application that impersonates, up to this many.
const DefaultCacheSize = 512

// Cache builds, for each Identity, the clients (of type T) that act as it,
// on first use, and keeps the most recently used; the least recently used
// is dropped when more than its size are in use, and built again when
// needed. Clients of weir's own identity are built once, at NewCache. A
// Cache is safe for concurrent use.
type Cache[T any] struct {
	base  *rest.Config
	build func(*rest.Config) (T, error)
	own   T

	mu      sync.Mutex
	clients *lru.Cache
}

// NewCache returns a Cache of at most size impersonating identities (at
// least one), whose clients build makes from base, changed to act as each.
func NewCache[T any](base *rest.Config, size int, build func(*rest.Config) (T, error)) (*Cache[T], error) {
	own, err := build(rest.CopyConfig(base))
	if err != nil {
		return nil, err
	}
	return &Cache[T]{base: rest.CopyConfig(base), build: build, own: own, clients: lru.New(max(size, 1))}, nil
}

// Get returns the clients that act as id.
func (c *Cache[T]) Get(id Identity) (T, error) {
	if !id.Impersonating() {
		return c.own, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.clients.Get(id); ok {
		return v.(T), nil
	}
	v, err := c.build(id.Config(c.base))
	if err != nil {
		return v, fmt.Errorf("clients for %s: %w", id, err)
	}
	c.clients.Add(id, v)
	return v, nil
}

// Len is how many impersonating identities' clients are kept.
func (c *Cache[T]) Len() int { return c.clients.Len() }
