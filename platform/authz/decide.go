package authz

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"

	"github.com/plinth-dev/plinth/tenants/query"
)

// Rules is one project's loaded enforcer with a small decision cache.
type Rules struct {
	ref       string
	enf       *casbin.SyncedEnforcer
	cacheSize int
	reloadMu  sync.Mutex // serialises reloads, so the last one reads the latest rows
	snap      atomic.Pointer[snapshot]
}

// snapshot is what is derived from one load of the rules: which subjects
// any row mentions and the decisions made so far. A reload swaps in a new
// snapshot after the enforcer has the new rules, so a cached decision never
// outlives the rules it came from.
type snapshot struct {
	// token maps every subject that has a policy or a role link to its part
	// of the cache key. A subject without either (a user without custom
	// roles, a role without rules) cannot change a decision and is left
	// out, so every plain signed-in user shares the "authenticated" entries;
	// a user whose only rows are role links is keyed by those roles, so
	// all editors share theirs too.
	token     map[string]string
	decisions sync.Map // cache key -> *Decision
	n         atomic.Int64
}

func (r *Rules) snapshot() error {
	pol, err := r.enf.GetPolicy()
	if err != nil {
		return err
	}
	links, err := r.enf.GetGroupingPolicy()
	if err != nil {
		return err
	}
	s := &snapshot{token: make(map[string]string, len(pol)+len(links))}
	for _, p := range pol {
		s.token[p[0]] = p[0]
	}
	parents := map[string][]string{}
	for _, g := range links {
		parents[g[0]] = append(parents[g[0]], g[1])
	}
	for child, ps := range parents {
		if _, direct := s.token[child]; direct || !strings.HasPrefix(child, userPrefix) {
			s.token[child] = child
			continue
		}
		sort.Strings(ps)
		s.token[child] = "\x02" + strings.Join(ps, ",")
	}
	r.snap.Store(s)
	return nil
}

func (r *Rules) reload() error {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	if err := r.enf.LoadPolicy(); err != nil {
		return err
	}
	return r.snapshot()
}

// Policy is one access rule as the rules API shows it.
type Policy struct {
	Role      string `json:"role"`
	Table     string `json:"table"`
	Action    string `json:"action"`
	Condition string `json:"condition"`
}

// Decision is whether some subjects may perform an action on an object,
// with every policy that allows it.
type Decision struct {
	Allowed bool
	// Matched lists every policy that allows the request, not just the
	// first (Casbin's EnforceEx reports one).
	Matched []Policy
	all     bool         // some matched policy has no condition: every row
	exprs   []query.Expr // parsed conditions of Matched, placeholders kept
}

var denied = &Decision{}

// Decide answers whether any of subjects may perform act on obj (a table
// name or rpc:{fn}). Decisions are cached per snapshot of the rules.
func (r *Rules) Decide(subjects []string, obj, act string) (*Decision, error) {
	s := r.snap.Load()
	var key strings.Builder
	key.Grow(96 + len(obj))
	n := 0
	for _, sub := range subjects {
		if tok, ok := s.token[sub]; ok {
			key.WriteString(tok)
			key.WriteByte(0)
			n++
		}
	}
	if n == 0 {
		return denied, nil
	}
	key.WriteByte(1)
	key.WriteString(obj)
	key.WriteByte(0)
	key.WriteString(act)
	k := key.String()
	if r.cacheSize > 0 {
		if d, ok := s.decisions.Load(k); ok {
			return d.(*Decision), nil
		}
	}
	subs := make([]string, 0, n)
	for _, sub := range subjects {
		if _, ok := s.token[sub]; ok {
			subs = append(subs, sub)
		}
	}
	d, err := r.decide(subs, obj, act)
	if err != nil {
		return nil, err
	}
	if r.cacheSize > 0 && s.n.Load() < int64(r.cacheSize) {
		if _, loaded := s.decisions.LoadOrStore(k, d); !loaded {
			s.n.Add(1)
		}
	}
	return d, nil
}

// decide asks Casbin, then collects every matching policy the way the
// matcher matches (implicit roles, objMatch, action or "*"). Both happen
// under one read lock, so a concurrent reload cannot split them.
func (r *Rules) decide(subs []string, obj, act string) (*Decision, error) {
	lock := r.enf.GetLock()
	lock.RLock()
	defer lock.RUnlock()
	allowed := false
	for _, sub := range subs {
		ok, err := r.enf.Enforcer.Enforce(sub, obj, act)
		if err != nil {
			return nil, fmt.Errorf("enforce rules of %s: %w", r.ref, err)
		}
		if ok {
			allowed = true
			break
		}
	}
	if !allowed {
		return denied, nil
	}
	d := &Decision{Allowed: true}
	seen := map[Policy]bool{}
	for _, sub := range subs {
		perms, err := r.enf.Enforcer.GetImplicitPermissionsForUser(sub)
		if err != nil {
			return nil, fmt.Errorf("rules of %s: %w", r.ref, err)
		}
		for _, p := range perms {
			if len(p) < 4 || !objMatch(obj, p[1]) || !actMatch(act, p[2]) {
				continue
			}
			pol := Policy{Role: p[0], Table: p[1], Action: p[2], Condition: p[3]}
			if !seen[pol] {
				seen[pol] = true
				d.Matched = append(d.Matched, pol)
			}
		}
	}
	if len(d.Matched) == 0 {
		return nil, fmt.Errorf("rules of %s: Casbin allows %s on %s for %v but no policy matches", r.ref, act, obj, subs)
	}
	conds := map[string]bool{}
	for _, p := range d.Matched {
		if p.Condition == "" {
			d.all = true
			continue
		}
		if conds[p.Condition] {
			continue
		}
		conds[p.Condition] = true
		e, err := query.ParseCondition(p.Condition)
		if err != nil {
			// Conditions are validated on write; this is a hand-edited row.
			return nil, fmt.Errorf("rules of %s: stored condition %q: %w", r.ref, p.Condition, err)
		}
		d.exprs = append(d.exprs, e)
	}
	return d, nil
}

// roles lists subjects followed by every role they inherit, without repeats.
func (r *Rules) roles(subjects []string) ([]string, error) {
	lock := r.enf.GetLock()
	lock.RLock()
	defer lock.RUnlock()
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, sub := range subjects {
		add(sub)
	}
	for _, sub := range subjects {
		inherited, err := r.enf.Enforcer.GetImplicitRolesForUser(sub)
		if err != nil {
			return nil, err
		}
		for _, role := range inherited {
			add(role)
		}
	}
	return out, nil
}

// Condition is the effective row condition as text in the condition
// grammar: "" when some matched policy covers every row, the policy's own
// text when one condition applies, else or=(...) of them all.
func (d *Decision) Condition() string {
	if !d.Allowed || d.all {
		return ""
	}
	var texts []string
	seen := map[string]bool{}
	for _, p := range d.Matched {
		if !seen[p.Condition] {
			seen[p.Condition] = true
			texts = append(texts, p.Condition)
		}
	}
	if len(texts) == 1 {
		return texts[0]
	}
	return FormatCondition(query.Expr{Op: query.Or, Children: d.exprs})
}
