package authz_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/plinth-dev/plinth/platform/authz"
	"github.com/plinth-dev/plinth/tenants/principal"
	"github.com/plinth-dev/plinth/tenants/query"
)

const (
	alice = "6f1c1f64-0000-4000-8000-00000000000a"
	bob   = "6f1c1f64-0000-4000-8000-00000000000b"
	carol = "6f1c1f64-0000-4000-8000-00000000000c"
)

func TestDefaultDenyAndServiceRole(t *testing.T) {
	t.Parallel()
	ts, p := setup(t, "deny")
	e := engine(t, ts, authz.Options{})
	// A new project has no rules: anonymous callers get 401, signed-in 403.
	deniedWith(t, e, anon(p.Ref), "todos", "select", http.StatusUnauthorized)
	deniedWith(t, e, user(p.Ref, alice, nil), "todos", "select", http.StatusForbidden)
	deniedWith(t, e, user(p.Ref, alice, nil), "rpc:hello", "execute", http.StatusForbidden)
	// service_role bypasses rules: no Access at all.
	acc, err := e.Access(context.Background(), &principal.Principal{Ref: p.Ref, Role: principal.ServiceRole})
	if err != nil || acc != nil {
		t.Fatalf("service_role access = %v, %v; want nil (bypass)", acc != nil, err)
	}
}

func TestAnonReadOnlyAndKeyMatch(t *testing.T) {
	t.Parallel()
	ts, p := setup(t, "keymatch")
	putRules(t, ts, p.Ref, rules{"policies": []any{
		policy("anon", "todos", "select", ""),
		policy("authenticated", "doc*", "*", ""),
		policy("authenticated", "rpc:add", "execute", ""),
		policy("editor", "*", "*", ""),
		policy("editor", "rpc:*", "*", ""),
		policy("reader", "*", "*", ""),
	}, "roles": []any{map[string]string{"role": "editor"}, map[string]string{"role": "reader"}}})
	e := engine(t, ts, authz.Options{})

	a := anon(p.Ref)
	if c := allowed(t, e, a, "todos", "select"); c != "" {
		t.Fatalf("anon select condition %q, want every row", c)
	}
	for _, act := range []string{"insert", "update", "delete"} {
		deniedWith(t, e, a, "todos", act, http.StatusUnauthorized)
	}
	deniedWith(t, e, a, "docs", "select", http.StatusUnauthorized)

	u := user(p.Ref, alice, nil)
	// "doc*" covers docs and documents with every action, not todos.
	allowed(t, e, u, "docs", "delete")
	allowed(t, e, u, "documents", "insert")
	deniedWith(t, e, u, "todos", "select", http.StatusForbidden)
	// rpc:add is allowed, rpc:hello is not; table patterns never cover functions.
	allowed(t, e, u, "rpc:add", "execute")
	deniedWith(t, e, u, "rpc:hello", "execute", http.StatusForbidden)

	// An editor's "*" covers every table but not functions; its "rpc:*"
	// covers every function but not tables.
	bob, carol := mkUser(t, ts, p.Ref, "bob"), mkUser(t, ts, p.Ref, "carol")
	setUserRoles(t, ts, p.Ref, bob, "editor")
	setUserRoles(t, ts, p.Ref, carol, "reader")
	e2 := engine(t, ts, authz.Options{})
	b, c := user(p.Ref, bob, nil), user(p.Ref, carol, nil)
	allowed(t, e2, b, "todos", "insert")
	allowed(t, e2, b, "rpc:hello", "execute")
	allowed(t, e2, c, "todos", "delete")
	deniedWith(t, e2, c, "rpc:hello", "execute", http.StatusForbidden)
	// Only "rpc:*" policies apply to functions: "*" as an object never does.
	if d := check(t, ts, p.Ref, map[string]string{"role": "editor", "table": "rpc:hello", "action": "execute"}); len(d.Matched) != 1 || d.Matched[0].Table != "rpc:*" {
		t.Fatalf("rpc:hello matched %+v, want only rpc:*", d.Matched)
	}
	// Alice has no editor role.
	deniedWith(t, e2, user(p.Ref, alice, nil), "rpc:hello", "execute", http.StatusForbidden)
}

func TestInheritanceAndUserRoles(t *testing.T) {
	t.Parallel()
	ts, p := setup(t, "inherit")
	putRules(t, ts, p.Ref, rules{
		"policies": []any{
			policy("authenticated", "todos", "select", "owner_id=eq.{auth.uid}"),
			policy("editor", "todos", "update", ""),
			policy("admin", "todos", "delete", ""),
		},
		"roles": []any{
			map[string]string{"role": "editor", "inherits": "authenticated"},
			map[string]string{"role": "admin", "inherits": "editor"},
		},
	})
	alice, bob, carol := mkUser(t, ts, p.Ref, "alice"), mkUser(t, ts, p.Ref, "bob"), mkUser(t, ts, p.Ref, "carol")
	setUserRoles(t, ts, p.Ref, alice, "admin")
	setUserRoles(t, ts, p.Ref, bob, "editor")
	e := engine(t, ts, authz.Options{})

	a, b := user(p.Ref, alice, nil), user(p.Ref, bob, nil)
	c := user(p.Ref, carol, nil)
	// admin -> editor -> authenticated: alice may delete, update and select.
	allowed(t, e, a, "todos", "delete")
	allowed(t, e, a, "todos", "update")
	if c := allowed(t, e, a, "todos", "select"); c != "owner_id=eq."+alice {
		t.Fatalf("alice select condition %q", c)
	}
	// editor: update but not delete.
	allowed(t, e, b, "todos", "update")
	deniedWith(t, e, b, "todos", "delete", http.StatusForbidden)
	// A plain signed-in user has authenticated's rules and no more.
	if cond := allowed(t, e, c, "todos", "select"); cond != "owner_id=eq."+carol {
		t.Fatalf("carol select condition %q", cond)
	}
	deniedWith(t, e, c, "todos", "update", http.StatusForbidden)

	// Taking bob's role away (through the admin API, which reloads every
	// instance through NOTIFY; a fresh engine reads it at once).
	setUserRoles(t, ts, p.Ref, bob)
	e2 := engine(t, ts, authz.Options{})
	deniedWith(t, e2, b, "todos", "update", http.StatusForbidden)
	allowed(t, e2, a, "todos", "delete")

	// PUT /rules leaves role assignments alone: alice stays admin.
	putRules(t, ts, p.Ref, rules{
		"policies": []any{policy("admin", "todos", "insert", "")},
		"roles":    []any{map[string]string{"role": "admin"}},
	})
	e3 := engine(t, ts, authz.Options{})
	allowed(t, e3, a, "todos", "insert")
	deniedWith(t, e3, a, "todos", "delete", http.StatusForbidden)
	res := ts.Admin(t, "GET", "/projects/"+p.Ref+"/rules", nil)
	if strings.Contains(string(res.Body), "user:") {
		t.Fatalf("GET rules shows user assignments: %s", res.Body)
	}
}

func TestConditionsOrAndPlaceholders(t *testing.T) {
	t.Parallel()
	ts, p := setup(t, "conds")
	putRules(t, ts, p.Ref, rules{
		"policies": []any{
			policy("authenticated", "todos", "select", "owner_id=eq.{auth.uid}"),
			policy("authenticated", "todos", "select", "public=is.true"),
			policy("authenticated", "todos", "*", "team=eq.{auth.claims.app_metadata.team}"),
			policy("anon", "todos", "select", "owner_id=eq.{auth.uid}"),
			policy("anon", "docs", "select", "owner_id=eq.{auth.uid}"),
			policy("anon", "docs", "select", "body=eq.public"),
			policy("auditor", "todos", "select", ""),
		},
		"roles": []any{map[string]string{"role": "auditor", "inherits": "authenticated"}},
	})
	bob := mkUser(t, ts, p.Ref, "bob")
	setUserRoles(t, ts, p.Ref, bob, "auditor")
	e := engine(t, ts, authz.Options{})

	// Three matching policies are ORed, each with alice's values.
	a := user(p.Ref, alice, map[string]any{"app_metadata": map[string]any{"team": "red"}})
	want := "or=(owner_id.eq." + alice + ",public.is.true,team.eq.red)"
	if c := allowed(t, e, a, "todos", "select"); c != want {
		t.Fatalf("condition %q, want %q", c, want)
	}
	// Only the "*" policy covers update.
	if c := allowed(t, e, a, "todos", "update"); c != "team=eq.red" {
		t.Fatalf("update condition %q", c)
	}
	// A missing claim drops that policy instead of comparing with nothing.
	noTeam := user(p.Ref, alice, nil)
	if c := allowed(t, e, noTeam, "todos", "select"); c != "or=(owner_id.eq."+alice+",public.is.true)" {
		t.Fatalf("without the claim: %q", c)
	}
	expr, _ := decide(t, e, noTeam, "todos", "update")
	if !isNothing(expr) {
		t.Fatalf("update without the claim: %#v, want the condition that matches nothing", expr)
	}
	// {auth.uid} for an anonymous caller matches nothing: allowed, no rows.
	expr, status := decide(t, e, anon(p.Ref), "todos", "select")
	if status != 0 || !isNothing(expr) {
		t.Fatalf("anon with {auth.uid}: %#v status %d", expr, status)
	}
	// ... and the other policy still applies on docs.
	if c := allowed(t, e, anon(p.Ref), "docs", "select"); c != "body=eq.public" {
		t.Fatalf("anon docs: %q", c)
	}
	// A policy without a condition covers every row, whatever else matches.
	if c := allowed(t, e, user(p.Ref, bob, nil), "todos", "select"); c != "" {
		t.Fatalf("auditor condition %q, want every row", c)
	}
}

func isNothing(e query.Expr) bool {
	return e.Filter == nil && e.Not && len(e.Children) == 0 && !e.IsEmpty()
}

// Decisions, reloads and evictions run at once on every request; the race
// detector checks the locking, and every answer must be one of the two
// rule sets, never a mix or an error.
func TestConcurrentDecisionsAndReloads(t *testing.T) {
	t.Parallel()
	ts, p := setup(t, "race")
	a := rules{"policies": []any{policy("authenticated", "todos", "select", "owner_id=eq.{auth.uid}")}, "roles": []any{}}
	b := rules{"policies": []any{policy("authenticated", "todos", "select", "public=is.true")}, "roles": []any{}}
	putRules(t, ts, p.Ref, a)
	e := engine(t, ts, authz.Options{Size: 2})
	u := user(p.Ref, alice, nil)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				acc, err := e.Access(context.Background(), u)
				if err != nil {
					t.Error(err)
					return
				}
				expr, err := acc("todos", "select")
				if err != nil {
					t.Error(err)
					return
				}
				if c := authz.FormatCondition(expr); c != "owner_id=eq."+alice && c != "public=is.true" {
					t.Errorf("condition %q", c)
					return
				}
			}
		}()
	}
	for i := range 20 {
		if i%2 == 0 {
			putRules(t, ts, p.Ref, b)
		} else {
			putRules(t, ts, p.Ref, a)
		}
		e.Reload(p.Ref)
		if i%5 == 1 {
			e.Forget(p.Ref) // last at i=16, on rule set b: the end state needs the reloads
		}
	}
	close(stop)
	wg.Wait()
	// After the last write and reload the answer is the last rule set.
	if c := allowed(t, e, u, "todos", "select"); c != "owner_id=eq."+alice {
		t.Fatalf("final condition %q", c)
	}
}

// Users with the same roles share cached decisions, but a policy written
// for one user stays hers, and conditions are filled per caller.
func TestCachedDecisionsStayPersonal(t *testing.T) {
	t.Parallel()
	ts, p := setup(t, "personal")
	alice, bob, carol := mkUser(t, ts, p.Ref, "alice"), mkUser(t, ts, p.Ref, "bob"), mkUser(t, ts, p.Ref, "carol")
	putRules(t, ts, p.Ref, rules{
		"policies": []any{
			policy("editor", "todos", "select", "owner_id=eq.{auth.uid}"),
			policy("user:"+alice, "todos", "delete", ""),
		},
		"roles": []any{map[string]string{"role": "editor"}},
	})
	for _, u := range []string{alice, bob, carol} {
		setUserRoles(t, ts, p.Ref, u, "editor")
	}
	e := engine(t, ts, authz.Options{})
	a, b, c := user(p.Ref, alice, nil), user(p.Ref, bob, nil), user(p.Ref, carol, nil)
	for range 2 { // the second round answers from the cache
		deniedWith(t, e, b, "todos", "delete", http.StatusForbidden)
		allowed(t, e, a, "todos", "delete")
		deniedWith(t, e, c, "todos", "delete", http.StatusForbidden)
		for _, u := range []*principal.Principal{a, b, c} {
			if cond := allowed(t, e, u, "todos", "select"); cond != "owner_id=eq."+u.UserID {
				t.Fatalf("%s: condition %q", u.UserID, cond)
			}
		}
	}
}
