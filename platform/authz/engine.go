// Package authz is a project's access rules (DESIGN.md §7.1–7.3): a Casbin
// model of roles, tables and functions with a row condition per policy, one
// SyncedEnforcer per project loaded lazily through an adapter bound to that
// project, held in a bounded LRU and reloaded when a NOTIFY on
// store.ChannelRules names the project; the rules API's storage and
// validation; and Access, which turns a caller's decision into the row
// condition the SQL builder applies.
package authz

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/util"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// modelText is the Casbin model of DESIGN.md §7.1. A policy is
// (role, object, action, condition); objects are table names or keyMatch
// patterns, and rpc:{fn} for functions; g links users to roles and roles to
// the roles they inherit. The condition is not part of the match: every
// matching policy's condition is collected afterwards (EnforceEx reports
// only one rule).
const modelText = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act, cond

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && objMatch(r.obj, p.obj) && (p.act == r.act || p.act == "*")
`

// Subjects and objects (DESIGN.md §7.1).
const (
	RoleAnon          = "anon"
	RoleAuthenticated = "authenticated"
	RoleServiceRole   = "service_role"
	userPrefix        = "user:"
	rpcPrefix         = "rpc:"
)

// Actions.
const (
	ActSelect  = "select"
	ActInsert  = "insert"
	ActUpdate  = "update"
	ActDelete  = "delete"
	ActExecute = "execute"
	ActAll     = "*"
)

// UserSubject is the Casbin subject of an end user.
func UserSubject(userID string) string { return userPrefix + userID }

// objMatch matches a request object against a policy object with keyMatch,
// keeping tables and functions apart: "*" or "todo*" never match rpc:{fn},
// and "rpc:*" never matches a table.
func objMatch(obj, pattern string) bool {
	if strings.HasPrefix(obj, rpcPrefix) != strings.HasPrefix(pattern, rpcPrefix) {
		return false
	}
	return util.KeyMatch(obj, pattern)
}

func actMatch(act, pattern string) bool { return pattern == act || pattern == ActAll }

// Options tune an Engine.
type Options struct {
	// Size bounds the number of projects whose enforcer is kept in memory.
	Size int
	// DecisionCache bounds the cached decisions per project; 0 means the
	// default (1024), a negative value disables the cache.
	DecisionCache int
	Log           *slog.Logger
}

// Engine holds one enforcer per project in a bounded LRU.
type Engine struct {
	db    DB
	base  model.Model
	lru   *lru.Cache[string, *Rules]
	group singleflight.Group
	log   *slog.Logger
	cache int

	mu sync.Mutex
	// gen is bumped by every reload and eviction; a load that raced with
	// one is returned to its callers but not kept, so a load that read the
	// rows before a change never outlives the change's NOTIFY.
	gen uint64
}

// New makes an Engine over the control-plane pool (plinth.casbin_rule is
// platform metadata: rules are never read through a tenant's login).
func New(db DB, opts Options) (*Engine, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("access rules model: %w", err)
	}
	if opts.Size <= 0 {
		opts.Size = 2000
	}
	switch {
	case opts.DecisionCache == 0:
		opts.DecisionCache = 1024
	case opts.DecisionCache < 0:
		opts.DecisionCache = 0
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	c, err := lru.New[string, *Rules](opts.Size)
	if err != nil {
		return nil, err
	}
	return &Engine{db: db, base: m, lru: c, log: opts.Log, cache: opts.DecisionCache}, nil
}

// Rules returns the project's rules, loading them on first use; concurrent
// callers share one load.
func (e *Engine) Rules(ctx context.Context, ref string) (*Rules, error) {
	if r, ok := e.lru.Get(ref); ok {
		return r, nil
	}
	ch := e.group.DoChan(ref, func() (any, error) {
		e.mu.Lock()
		g := e.gen
		e.mu.Unlock()
		r, err := e.load(ref)
		if err != nil {
			return nil, err
		}
		e.mu.Lock()
		if e.gen == g {
			e.lru.Add(ref, r)
		}
		e.mu.Unlock()
		return r, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*Rules), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (e *Engine) load(ref string) (*Rules, error) {
	enf, err := casbin.NewSyncedEnforcer(e.base.Copy(), NewAdapter(e.db, ref))
	if err != nil {
		return nil, fmt.Errorf("load access rules of %s: %w", ref, err)
	}
	enf.AddFunction("objMatch", func(args ...any) (any, error) {
		obj, _ := args[0].(string)
		pattern, _ := args[1].(string)
		return objMatch(obj, pattern), nil
	})
	r := &Rules{ref: ref, enf: enf, cacheSize: e.cache}
	if err := r.snapshot(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload re-reads a project's rules if they are in memory (the NOTIFY
// handler of store.ChannelRules, and the writer's own instance right after
// commit). It uses the SyncedEnforcer's synchronised LoadPolicy: in-flight
// decisions finish on the old rules, later ones see the new. If the reload
// fails the project is dropped, so the next request loads it afresh rather
// than decide on stale rules.
func (e *Engine) Reload(ref string) {
	e.mu.Lock()
	e.gen++
	r, ok := e.lru.Peek(ref)
	e.mu.Unlock()
	if !ok {
		return
	}
	if err := r.reload(); err != nil {
		e.log.Warn("reload access rules failed; dropped from memory", "project", ref, "err", err)
		e.Forget(ref)
	}
}

// Forget drops a project's rules from memory (project deleted or changed).
func (e *Engine) Forget(ref string) {
	e.mu.Lock()
	e.gen++
	e.lru.Remove(ref)
	e.mu.Unlock()
}

// Purge drops every project's rules (after the NOTIFY listener reconnects:
// notifications sent meanwhile are lost).
func (e *Engine) Purge() {
	e.mu.Lock()
	e.gen++
	e.lru.Purge()
	e.mu.Unlock()
}

// Len is the number of projects whose rules are in memory.
func (e *Engine) Len() int { return e.lru.Len() }
