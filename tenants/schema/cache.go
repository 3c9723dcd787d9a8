package schema

import (
	"context"
	"strconv"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// Cache holds one loaded Schema per project, bounded and LRU-evicted, so an
// idle project costs nothing. Invalidate drops an entry; in-flight requests
// keep the Schema value they already hold (it is never mutated).
type Cache struct {
	load  func(ctx context.Context, ref string) (*Schema, error)
	lru   *lru.Cache[string, *Schema]
	group singleflight.Group
	mu    sync.Mutex
	// gen is bumped by every invalidation; a load that raced with one is
	// returned to its callers but not cached.
	gen uint64
}

// NewCache makes a cache of at most size schemas.
func NewCache(size int, load func(ctx context.Context, ref string) (*Schema, error)) *Cache {
	c, _ := lru.New[string, *Schema](size)
	return &Cache{load: load, lru: c}
}

// Get returns the project's schema, loading it once for concurrent callers.
func (c *Cache) Get(ctx context.Context, ref string) (*Schema, error) {
	if s, ok := c.lru.Get(ref); ok {
		return s, nil
	}
	// A caller arriving after an invalidation must not join a load that
	// began before it (that load may predate the DDL): flights are keyed by
	// the generation as well.
	c.mu.Lock()
	g := c.gen
	c.mu.Unlock()
	v, err, _ := c.group.Do(ref+"\x00"+strconv.FormatUint(g, 10), func() (any, error) {
		s, err := c.load(context.WithoutCancel(ctx), ref)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.gen == g {
			c.lru.Add(ref, s)
		}
		c.mu.Unlock()
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Schema), nil
}

// Invalidate forgets a project's schema.
func (c *Cache) Invalidate(ref string) {
	c.mu.Lock()
	c.gen++
	c.lru.Remove(ref)
	c.mu.Unlock()
}

// Purge forgets every schema (after the invalidation listener reconnects,
// when notifications may have been missed).
func (c *Cache) Purge() {
	c.mu.Lock()
	c.gen++
	c.lru.Purge()
	c.mu.Unlock()
}
