// Package loadcache is a bounded LRU cache that loads a missing entry once
// for all concurrent callers and never keeps a load that raced an
// invalidation. Plinth's per-project caches (schemas, rate-limit rules) are
// invalidated by NOTIFY from any instance, so a load that began before the
// change it is told about must not outlive it.
package loadcache

import (
	"context"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"
)

// Cache maps keys to loaded values. Values are shared by every caller and
// must not be mutated.
type Cache[V any] struct {
	load  func(ctx context.Context, key string) (V, error)
	lru   *lru.LRU[string, V]
	group singleflight.Group
	mu    sync.Mutex
	// gen is bumped by every invalidation; a load that raced one is
	// returned to its callers but not cached.
	gen uint64
}

// New makes a cache of at most size entries, each kept at most ttl (0: until
// evicted or invalidated), loaded by load.
func New[V any](size int, ttl time.Duration, load func(ctx context.Context, key string) (V, error)) *Cache[V] {
	return &Cache[V]{load: load, lru: lru.NewLRU[string, V](size, nil, ttl)}
}

// Get returns key's value, loading it once for concurrent callers. The load
// runs without the caller's cancellation: other callers may be waiting on it.
func (c *Cache[V]) Get(ctx context.Context, key string) (V, error) {
	if v, ok := c.lru.Get(key); ok {
		return v, nil
	}
	// A caller arriving after an invalidation must not join a load that
	// began before it: flights are keyed by the generation as well.
	c.mu.Lock()
	g := c.gen
	c.mu.Unlock()
	v, err, _ := c.group.Do(key+"\x00"+strconv.FormatUint(g, 10), func() (any, error) {
		v, err := c.load(context.WithoutCancel(ctx), key)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.gen == g {
			c.lru.Add(key, v)
		}
		c.mu.Unlock()
		return v, nil
	})
	if err != nil {
		var zero V
		return zero, err
	}
	return v.(V), nil
}

// Invalidate forgets key's value.
func (c *Cache[V]) Invalidate(key string) {
	c.mu.Lock()
	c.gen++
	c.lru.Remove(key)
	c.mu.Unlock()
}

// Purge forgets every value (after the invalidation listener reconnects,
// when notifications may have been missed).
func (c *Cache[V]) Purge() {
	c.mu.Lock()
	c.gen++
	c.lru.Purge()
	c.mu.Unlock()
}

// Len is the number of values held.
func (c *Cache[V]) Len() int { return c.lru.Len() }
