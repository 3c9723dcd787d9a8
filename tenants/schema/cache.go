package schema

import (
	"context"

	"github.com/plinth-dev/plinth/internal/loadcache"
)

// Cache holds one loaded Schema per project, bounded and LRU-evicted, so an
// idle project costs nothing. Invalidate drops an entry; in-flight requests
// keep the Schema value they already hold (it is never mutated).
type Cache = loadcache.Cache[*Schema]

// NewCache makes a cache of at most size schemas.
func NewCache(size int, load func(ctx context.Context, ref string) (*Schema, error)) *Cache {
	return loadcache.New(size, 0, load)
}
