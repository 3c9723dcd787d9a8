// Package registry answers the first two steps of every project request:
// which project is this (cached lookup of its row), and which role does this
// key give (cached lookup by key hash). Both caches are bounded and dropped by
// NOTIFY on every instance when a project, its settings or keys change.
package registry

import (
	"context"
	"errors"
	"hash/maphash"
	"time"

	lru "github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/plinth-dev/plinth/platform/seal"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/pool"
)

// Registry caches projects and keys.
type Registry struct {
	store    *store.Store
	sealer   *seal.Sealer
	projects *lru.LRU[string, *store.Project]
	// keys is keyed by two seeded hashes of the presented key rather than
	// its SHA-256 (which only a miss computes, to look the key up): every
	// request presents a key, and SHA-256 cost a small request more than
	// the whole cache lookup. The seeds are secret and random per instance,
	// so a forged key would have to collide with a valid one on 128 unknown
	// bits. Raw keys are never kept; misses are not cached.
	keys  *lru.LRU[keyID, *store.APIKey]
	seeds [2]maphash.Seed
}

type keyID [2]uint64

func (r *Registry) keyID(key string) keyID {
	return keyID{maphash.String(r.seeds[0], key), maphash.String(r.seeds[1], key)}
}

// New makes a Registry. Entries also expire after ttl as a backstop should a
// notification be lost.
func New(s *store.Store, sealer *seal.Sealer, size int, ttl time.Duration) *Registry {
	return &Registry{
		store: s, sealer: sealer,
		projects: lru.NewLRU[string, *store.Project](size, nil, ttl),
		keys:     lru.NewLRU[keyID, *store.APIKey](size*2, nil, ttl),
		seeds:    [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
	}
}

// Project returns a project by ref (store.ErrNotFound if none).
func (r *Registry) Project(ctx context.Context, ref string) (*store.Project, error) {
	if p, ok := r.projects.Get(ref); ok {
		return p, nil
	}
	p, err := r.store.Project(ctx, ref)
	if err != nil {
		return nil, err
	}
	r.projects.Add(ref, p)
	return p, nil
}

// ErrWrongProject says the key is valid but belongs to another project.
var ErrWrongProject = errors.New("key belongs to another project")

// Authenticate resolves a key for project ref and returns its role.
func (r *Registry) Authenticate(ctx context.Context, ref, key string) (*store.APIKey, error) {
	id := r.keyID(key)
	k, ok := r.keys.Get(id)
	if !ok {
		var err error
		if k, err = r.store.KeyByHash(ctx, store.HashSecret(key)); err != nil {
			return nil, err
		}
		r.keys.Add(id, k)
	}
	if k.ProjectRef != ref {
		return nil, ErrWrongProject
	}
	return k, nil
}

// Credentials opens a project's sealed login for the pool manager.
func (r *Registry) Credentials(ctx context.Context, ref string) (pool.Credentials, error) {
	p, err := r.Project(ctx, ref)
	if err != nil {
		return pool.Credentials{}, err
	}
	pw, err := r.sealer.Open(p.LoginSecret, []byte(p.Ref))
	if err != nil {
		return pool.Credentials{}, err
	}
	return pool.Credentials{Role: p.LoginRole, Password: string(pw), Schema: p.Schema}, nil
}

// Invalidate forgets a project and every cached key of it.
func (r *Registry) Invalidate(ref string) {
	r.projects.Remove(ref)
	for _, id := range r.keys.Keys() {
		if k, ok := r.keys.Peek(id); ok && k.ProjectRef == ref {
			r.keys.Remove(id)
		}
	}
}

// Purge forgets everything.
func (r *Registry) Purge() {
	r.projects.Purge()
	r.keys.Purge()
}
