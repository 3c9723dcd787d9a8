package authz_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/authz"
	"github.com/plinth-dev/plinth/platform/notify"
	"github.com/plinth-dev/plinth/platform/store"
)

const testModel = `
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act, cond
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && keyMatch(r.obj, p.obj) && r.act == p.act
`

func enforcer(t *testing.T, a *authz.Adapter) *casbin.Enforcer {
	t.Helper()
	m, err := model.NewModelFromString(testModel)
	if err != nil {
		t.Fatal(err)
	}
	e, err := casbin.NewEnforcer(m, a)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ruleCount(t *testing.T, ts *testserver.TS, ref string) (n int) {
	t.Helper()
	if err := controlPool(t, ts).QueryRow(context.Background(),
		`select count(*) from plinth.casbin_rule where project_ref = $1`, ref).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Each adapter reads and writes its own project's rows only: an
// unfiltered LoadPolicy of project A never sees project B's rules.
func TestAdapterProjectIsolation(t *testing.T) {
	t.Parallel()
	ts, a := setup(t, "iso-a")
	b := ts.CreateProject(t, "iso-b")
	// A role declaration of the rules API shares the table; Casbin never sees it.
	putRules(t, ts, a.Ref, rules{"roles": []any{map[string]string{"role": "editor"}}})
	pool := controlPool(t, ts)
	ad, bd := authz.NewAdapter(pool, a.Ref), authz.NewAdapter(pool, b.Ref)

	ea, eb := enforcer(t, ad), enforcer(t, bd)
	if _, err := ea.AddPolicy("authenticated", "todos", "select", "owner_id=eq.{auth.uid}"); err != nil {
		t.Fatal(err)
	}
	if _, err := ea.AddGroupingPolicy("editor", "authenticated"); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.AddPolicy("anon", "todos", "select", ""); err != nil {
		t.Fatal(err)
	}

	ea, eb = enforcer(t, ad), enforcer(t, bd) // fresh loads
	pa, _ := ea.GetPolicy()
	pb, _ := eb.GetPolicy()
	if jsonOf(t, pa) != `[["authenticated","todos","select","owner_id=eq.{auth.uid}"]]` {
		t.Fatalf("A loaded %v", pa)
	}
	if jsonOf(t, pb) != `[["anon","todos","select",""]]` {
		t.Fatalf("B loaded %v", pb)
	}
	if ok, _ := ea.Enforce("editor", "todos", "select"); !ok {
		t.Fatal("A's role link not loaded")
	}
	if ok, _ := eb.Enforce("editor", "todos", "select"); ok {
		t.Fatal("A's rules decide in B")
	}

	// SavePolicy replaces A's p and g rows and nothing else.
	if _, err := ea.AddPolicy("anon", "docs", "select", ""); err != nil {
		t.Fatal(err)
	}
	if err := ea.SavePolicy(); err != nil {
		t.Fatal(err)
	}
	if n := ruleCount(t, ts, a.Ref); n != 4 { // 2 p + 1 g + the role declaration
		t.Fatalf("A has %d rows after SavePolicy, want 4", n)
	}
	if n := ruleCount(t, ts, b.Ref); n != 1 {
		t.Fatalf("B has %d rows after A's SavePolicy, want 1", n)
	}
	// Filtered removal stays inside the project too.
	if _, err := ea.RemoveFilteredPolicy(0, "anon"); err != nil {
		t.Fatal(err)
	}
	if n := ruleCount(t, ts, b.Ref); n != 1 {
		t.Fatalf("B lost rows to A's RemoveFilteredPolicy")
	}
	if _, err := eb.RemovePolicy("anon", "todos", "select", ""); err != nil {
		t.Fatal(err)
	}
	if n := ruleCount(t, ts, b.Ref); n != 0 {
		t.Fatalf("B has %d rows after RemovePolicy", n)
	}
	var got authz.RuleSet
	ts.Admin(t, "GET", "/projects/"+a.Ref+"/rules", nil).JSON(t, &got)
	if jsonOf(t, got.Roles) != `[{"role":"editor","inherits":"authenticated"}]` || len(got.Policies) != 1 {
		t.Fatalf("A's rules through the API after adapter writes: %+v", got)
	}
}

// A change committed by another instance reaches an enforcer already in
// memory through the one LISTEN connection, reloading it in place.
func TestReloadOnNotify(t *testing.T) {
	t.Parallel()
	ts, p := setup(t, "notify")
	putRules(t, ts, p.Ref, rules{"policies": []any{policy("anon", "todos", "select", "")}})
	e := engine(t, ts, authz.Options{})
	l := notify.New(ts.DB.URL, slog.New(slog.DiscardHandler))
	l.Handle(store.ChannelRules, notify.Handler{OnNotify: e.Reload, OnReset: e.Purge})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go l.Run(ctx)
	<-l.Ready()

	a := anon(p.Ref)
	allowed(t, e, a, "todos", "select") // now loaded and its decision cached
	deniedWith(t, e, a, "docs", "select", http.StatusUnauthorized)

	putRules(t, ts, p.Ref, rules{"policies": []any{policy("anon", "docs", "select", "owner_id=is.null")}})
	eventually(t, "the new rules on the listening engine", func() bool {
		_, status := decide(t, e, a, "todos", "select")
		return status == http.StatusUnauthorized
	})
	if c := allowed(t, e, a, "docs", "select"); c != "owner_id=is.null" {
		t.Fatalf("docs condition after reload: %q", c)
	}
	if e.Len() != 1 {
		t.Fatalf("%d projects in memory, want the one reloaded in place", e.Len())
	}
	// User role changes travel the same way.
	putRules(t, ts, p.Ref, rules{"policies": []any{policy("editor", "todos", "delete", "")}, "roles": []any{map[string]string{"role": "editor"}}})
	bob := mkUser(t, ts, p.Ref, "bob")
	u := user(p.Ref, bob, nil)
	eventually(t, "the editor rule", func() bool { _, s := decide(t, e, u, "todos", "delete"); return s == http.StatusForbidden })
	setUserRoles(t, ts, p.Ref, bob, "editor")
	eventually(t, "bob's new role", func() bool { _, s := decide(t, e, u, "todos", "delete"); return s == 0 })
}

// DESIGN.md §9: a rule change made through instance 1 takes effect on
// instance 2, whose enforcer for the project is already loaded.
func TestSecondInstanceSeesRuleChange(t *testing.T) {
	t.Parallel()
	ts1, p := setup(t, "two-inst")
	ts2 := testserver.StartOn(t, ts1.DB)
	req := map[string]string{"role": "anon", "table": "todos", "action": "select"}
	if d := check(t, ts2, p.Ref, req); d.Allowed {
		t.Fatal("allowed before any rule")
	}
	putRules(t, ts1, p.Ref, rules{"policies": []any{policy("anon", "todos", "select", "public=is.true")}})
	eventually(t, "instance 2 to allow", func() bool { return check(t, ts2, p.Ref, req).Allowed })
	if d := check(t, ts2, p.Ref, req); d.Condition != "public=is.true" {
		t.Fatalf("instance 2 condition %q", d.Condition)
	}
	putRules(t, ts1, p.Ref, rules{"policies": []any{}})
	eventually(t, "instance 2 to deny again", func() bool { return !check(t, ts2, p.Ref, req).Allowed })
}

func TestEngineEvictsAndReloadsLazily(t *testing.T) {
	t.Parallel()
	ts, p := setup(t, "lru-a")
	q := ts.CreateProject(t, "lru-b")
	ts.SQL(t, q.Ref, schemaSQL)
	putRules(t, ts, p.Ref, rules{"policies": []any{policy("anon", "todos", "select", "")}})
	putRules(t, ts, q.Ref, rules{"policies": []any{policy("anon", "docs", "select", "")}})
	e := engine(t, ts, authz.Options{Size: 1})
	for range 3 {
		allowed(t, e, anon(p.Ref), "todos", "select")
		deniedWith(t, e, anon(p.Ref), "docs", "select", http.StatusUnauthorized)
		allowed(t, e, anon(q.Ref), "docs", "select")
		deniedWith(t, e, anon(q.Ref), "todos", "select", http.StatusUnauthorized)
		if e.Len() != 1 {
			t.Fatalf("%d projects in an LRU of 1", e.Len())
		}
	}
	// A project that was deleted and made again starts deny-all.
	if res := ts.Admin(t, "DELETE", "/projects/"+q.Ref, nil); res.Status != 204 {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	e.Forget(q.Ref) // what the server's project invalidation does
	ts.CreateProject(t, q.Ref)
	deniedWith(t, e, anon(q.Ref), "docs", "select", http.StatusUnauthorized)
}
