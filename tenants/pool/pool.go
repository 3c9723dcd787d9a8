// Package pool keeps one small connection pool per project, logged in as
// that project's own login role (DESIGN.md §9). Pools open lazily, close
// their idle connections, and are evicted least-recently-used so the sum of
// all pools' connections stays within a global budget.
package pool

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Credentials says how to log in as a project: its login role, password and
// schema (put first on the search path of its connections).
type Credentials struct {
	Role, Password, Schema string
}

// Resolver looks up a project's credentials.
type Resolver func(ctx context.Context, ref string) (Credentials, error)

// Manager owns the per-project pools.
type Manager struct {
	base      *pgx.ConnConfig
	perPool   int32
	maxPools  int
	resolve   Resolver
	idleClose time.Duration

	mu    sync.Mutex
	lru   *list.List // of *entry, front = most recent
	pools map[string]*list.Element
}

type entry struct {
	ref   string
	pool  *Pool
	creds Credentials // what its connections sign in with
}

// Options configure a Manager.
type Options struct {
	DatabaseURL string        // host, port, database and TLS settings; user and password are replaced
	PerPool     int           // PLINTH_TENANT_POOL_MAX
	TotalConns  int           // PLINTH_TOTAL_CONNS_MAX
	IdleClose   time.Duration // idle connections are closed after this
}

// New creates a Manager.
func New(opts Options, resolve Resolver) (*Manager, error) {
	cfg, err := pgx.ParseConfig(opts.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("tenant pools: %w", err)
	}
	if opts.PerPool <= 0 || opts.TotalConns < opts.PerPool {
		return nil, errors.New("tenant pools: need 0 < PLINTH_TENANT_POOL_MAX <= PLINTH_TOTAL_CONNS_MAX")
	}
	if opts.IdleClose <= 0 {
		opts.IdleClose = 30 * time.Second
	}
	return &Manager{
		base: cfg, perPool: int32(opts.PerPool), maxPools: opts.TotalConns / opts.PerPool,
		resolve: resolve, idleClose: opts.IdleClose,
		lru: list.New(), pools: map[string]*list.Element{},
	}, nil
}

// Get returns the project's pool, opening it (without connecting) if needed.
func (m *Manager) Get(ctx context.Context, ref string) (*Pool, error) {
	m.mu.Lock()
	if el, ok := m.pools[ref]; ok {
		m.lru.MoveToFront(el)
		p := el.Value.(*entry).pool
		m.mu.Unlock()
		return p, nil
	}
	m.mu.Unlock()

	creds, err := m.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	p, err := m.open(creds, ref)
	if err != nil {
		return nil, err
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.pools[ref]; ok { // another request won the race
		go p.Close()
		m.lru.MoveToFront(el)
		return el.Value.(*entry).pool, nil
	}
	for m.lru.Len() >= m.maxPools {
		m.evictLocked(m.lru.Back())
	}
	m.pools[ref] = m.lru.PushFront(&entry{ref: ref, pool: p, creds: creds})
	return p, nil
}

func (m *Manager) open(c Credentials, ref string) (*Pool, error) {
	cc := m.base.Copy()
	cc.User = c.Role
	cc.Password = c.Password
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	cc.RuntimeParams["application_name"] = "plinth:" + ref
	cc.RuntimeParams["search_path"] = pgx.Identifier{c.Schema}.Sanitize()
	// No statement cache of pgx's own: it would prepare on the login role,
	// which cannot even see the schema (NOINHERIT). QueryRow prepares data
	// statements itself, inside the request's pipeline after the role
	// switch (prepared.go).
	cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	// Requests hand pgxpool a context it does not watch (see acquire): a
	// new connection's dial and sign-in are bounded here instead.
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = 5 * time.Second
	}
	pc, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, err
	}
	pc.ConnConfig = cc
	pc.MaxConns = m.perPool
	pc.MinConns = 0
	pc.MaxConnIdleTime = m.idleClose
	pc.HealthCheckPeriod = m.idleClose / 2
	pc.MaxConnLifetime = 30 * time.Minute
	p, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, err
	}
	return newPool(p), nil
}

func (m *Manager) evictLocked(el *list.Element) {
	e := el.Value.(*entry)
	m.lru.Remove(el)
	delete(m.pools, e.ref)
	// Close waits for borrowed connections; never block the caller on it.
	go e.pool.Close()
}

// Has reports whether ref has an open pool here.
func (m *Manager) Has(ref string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.pools[ref]
	return ok
}

// DropIfChanged closes ref's pool unless its connections sign in with c: a
// project deleted and re-created under the same ref (through another
// instance) has a new login password, and the old pool could never connect
// again.
func (m *Manager) DropIfChanged(ref string, c Credentials) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.pools[ref]; ok && el.Value.(*entry).creds != c {
		m.evictLocked(el)
	}
}

// Drop closes a project's pool (project deleted, credentials changed).
func (m *Manager) Drop(ref string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.pools[ref]; ok {
		m.evictLocked(el)
	}
}

// DropAll closes every pool.
func (m *Manager) DropAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for m.lru.Len() > 0 {
		m.evictLocked(m.lru.Back())
	}
}

// Close closes every pool and waits for them.
func (m *Manager) Close() {
	m.mu.Lock()
	var ps []*Pool
	for el := m.lru.Front(); el != nil; el = el.Next() {
		ps = append(ps, el.Value.(*entry).pool)
	}
	m.lru.Init()
	m.pools = map[string]*list.Element{}
	m.mu.Unlock()
	for _, p := range ps {
		p.Close()
	}
}

// Stats summarises the pools for /metrics.
type Stats struct {
	Pools, TotalConns, IdleConns, AcquiredConns int
}

// Stats returns current totals.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Stats{Pools: m.lru.Len()}
	for el := m.lru.Front(); el != nil; el = el.Next() {
		st := el.Value.(*entry).pool.Stat()
		s.TotalConns += int(st.TotalConns())
		s.IdleConns += int(st.IdleConns())
		s.AcquiredConns += int(st.AcquiredConns())
	}
	return s
}
