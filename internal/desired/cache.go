package desired

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/render"
)

// DefaultRenderCacheBytes bounds a RenderCache when its size is not given:
// about 2,000 Applications of 20 objects, at 1 KiB an object as JSON.
const DefaultRenderCacheBytes = 32 << 20

// RenderCache keeps what recent renders produced, keyed by everything a
// render reads: the repository and revision (with a pulled chart's
// version), the path, the render options (type, Helm release, values and
// the cluster's capabilities) and a digest of the decryption keys. A
// reconcile at the same inputs takes the objects from it rather than
// render again. Objects are kept as JSON, together at most the cache's
// size in bytes; the least recently used go first. It is safe for
// concurrent use; a nil RenderCache keeps nothing.
type RenderCache struct {
	maxBytes int64

	mu      sync.Mutex
	bytes   int64
	order   *list.List // of *cachedRender, the most recently used first
	entries map[string]*list.Element
}

// cachedRender is the result of one render.
type cachedRender struct {
	key     string
	objects [][]byte
	secrets *decrypt.Redactor
	size    int64
}

// NewRenderCache returns a RenderCache of at most maxBytes of objects;
// zero or less means DefaultRenderCacheBytes.
func NewRenderCache(maxBytes int64) *RenderCache {
	if maxBytes <= 0 {
		maxBytes = DefaultRenderCacheBytes
	}
	return &RenderCache{maxBytes: maxBytes, order: list.New(), entries: map[string]*list.Element{}}
}

// renderInputs is what a render reads besides the files of the revision.
type renderInputs struct {
	URL      string
	Revision string
	Commit   string
	Path     string
	Type     string
	Empty    bool
	Helm     *render.Helm
	Keys     string
}

// key digests inputs; "" when they cannot be encoded, which is never
// cached.
func (in renderInputs) key() string {
	data, err := json.Marshal(in)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// keysDigest digests the data of a Secret of keys, so that a key added,
// removed or changed is another render input.
func keysDigest(data map[string][]byte) string {
	if data == nil {
		return ""
	}
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(data)) {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write(data[k])
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// get returns a fresh copy of the objects rendered for key, and the
// secrets to redact from messages about them.
func (c *RenderCache) get(key string) ([]*unstructured.Unstructured, *decrypt.Redactor, bool) {
	if c == nil || key == "" {
		return nil, nil, false
	}
	c.mu.Lock()
	el, ok := c.entries[key]
	if ok {
		c.order.MoveToFront(el)
	}
	c.mu.Unlock()
	if !ok {
		return nil, nil, false
	}
	entry := el.Value.(*cachedRender)
	objs := make([]*unstructured.Unstructured, len(entry.objects))
	for i, data := range entry.objects {
		objs[i] = &unstructured.Unstructured{}
		if err := objs[i].UnmarshalJSON(data); err != nil {
			return nil, nil, false
		}
	}
	return objs, entry.secrets, true
}

// put keeps the objects rendered for key; a render larger than the whole
// cache is not kept.
func (c *RenderCache) put(key string, objs []*unstructured.Unstructured, secrets *decrypt.Redactor) {
	if c == nil || key == "" {
		return
	}
	entry := &cachedRender{key: key, secrets: secrets, objects: make([][]byte, len(objs))}
	for i, obj := range objs {
		data, err := obj.MarshalJSON()
		if err != nil {
			return
		}
		entry.objects[i] = data
		entry.size += int64(len(data))
	}
	if entry.size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	c.entries[key] = c.order.PushFront(entry)
	c.bytes += entry.size
	for c.bytes > c.maxBytes {
		c.remove(c.order.Back())
	}
}

// remove drops el; c.mu is held.
func (c *RenderCache) remove(el *list.Element) {
	entry := el.Value.(*cachedRender)
	c.order.Remove(el)
	delete(c.entries, entry.key)
	c.bytes -= entry.size
}
