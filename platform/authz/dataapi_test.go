package authz_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/config"
)

// These tests drive the real data API with real end users (signed up
// through the project's auth API) and the project's rules.

const dataSQL = `
create table todos (id serial primary key, owner_id uuid default auth.uid(), title text not null, public boolean not null default false);
create table notes (id serial primary key, todo_id int not null references todos, owner_id uuid default auth.uid(), body text);
create function add(a int, b int) returns int language sql as 'select a + b';
create function hello() returns text language sql as 'select ''hi''';
`

type app struct {
	ts *testserver.TS
	p  *testserver.Project
}

func newApp(t *testing.T, ref string) *app {
	t.Helper()
	// Sign-ups are rate limited per IP by default; these tests sign up a lot.
	ts := testserver.Start(t, func(c *config.Config) { c.RateLimitSignin = config.RateSpec{} })
	p := ts.CreateProject(t, ref)
	ts.SQL(t, ref, dataSQL)
	return &app{ts: ts, p: p}
}

type endUser struct{ id, token string }

func (a *app) signUp(t *testing.T, email string) endUser {
	t.Helper()
	res := a.ts.Do(t, "POST", "/p/"+a.p.Ref+"/auth/v1/signup", map[string]string{"apikey": a.p.AnonKey},
		map[string]string{"email": email, "password": "correct horse battery"})
	if res.Status != http.StatusOK {
		t.Fatalf("sign up %s: %d %s", email, res.Status, res.Body)
	}
	var s struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	res.JSON(t, &s)
	if s.AccessToken == "" || s.User.ID == "" {
		t.Fatalf("sign up %s: no session: %s", email, res.Body)
	}
	return endUser{id: s.User.ID, token: s.AccessToken}
}

// rest calls the data API as anon (zero user) or as the user.
func (a *app) rest(t *testing.T, u endUser, method, path string, body any, headers ...string) *testserver.Response {
	t.Helper()
	h := map[string]string{}
	if u.token != "" {
		h["Authorization"] = "Bearer " + u.token
	}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	return a.ts.Rest(t, a.p, a.p.AnonKey, method, path, h, body)
}

func (a *app) service(t *testing.T, method, path string, body any) *testserver.Response {
	t.Helper()
	return a.ts.Rest(t, a.p, a.p.ServiceKey, method, path, map[string]string{"Prefer": "return=representation"}, body)
}

func (a *app) count(t *testing.T, sql string) int {
	t.Helper()
	rows := a.ts.SQL(t, a.p.Ref, sql)
	return int(rows[0]["n"].(float64))
}

func wantStatus(t *testing.T, res *testserver.Response, status int) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
	}
}

func wantDenied(t *testing.T, res *testserver.Response, status int, mentions ...string) {
	t.Helper()
	wantStatus(t, res, status)
	var e map[string]any
	res.JSON(t, &e)
	if e["code"] != "PL403" {
		t.Fatalf("code %v, want PL403: %s", e["code"], res.Body)
	}
	for _, m := range mentions {
		if !strings.Contains(e["message"].(string), m) {
			t.Fatalf("denial %q does not name %q", e["message"], m)
		}
	}
}

func ids(t *testing.T, res *testserver.Response) string {
	t.Helper()
	wantStatus(t, res, http.StatusOK)
	var rows []struct {
		ID int `json:"id"`
	}
	res.JSON(t, &rows)
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprint(r.ID))
	}
	return strings.Join(out, ",")
}

func TestDataAPIDefaultDenyAndAnonReadOnly(t *testing.T) {
	t.Parallel()
	a := newApp(t, "data-anon")
	a.ts.SQL(t, a.p.Ref, "insert into todos (title, public) values ('open', true), ('hidden', false)")
	alice := a.signUp(t, "alice@example.com")
	// New projects deny everything to anon (401) and signed-in users (403).
	wantDenied(t, a.rest(t, endUser{}, "GET", "/todos", nil), http.StatusUnauthorized, "anon", "select", "todos")
	wantDenied(t, a.rest(t, alice, "GET", "/todos", nil), http.StatusForbidden, "authenticated", "select", "todos")
	wantDenied(t, a.rest(t, endUser{}, "POST", "/rpc/hello", map[string]any{}), http.StatusUnauthorized, "hello")
	// service_role bypasses rules.
	if got := ids(t, a.service(t, "GET", "/todos?order=id", nil)); got != "1,2" {
		t.Fatalf("service read %s", got)
	}

	putRules(t, a.ts, a.p.Ref, rules{"policies": []any{
		policy("anon", "todos", "select", "public=is.true"),
		policy("anon", "notes", "select", "owner_id=eq.{auth.uid}"),
		policy("anon", "rpc:add", "execute", ""),
	}})
	a.ts.SQL(t, a.p.Ref, "insert into notes (todo_id, body) values (1, 'no owner')")
	// {auth.uid} has no value for anon: allowed, but no row matches.
	if got := ids(t, a.rest(t, endUser{}, "GET", "/notes", nil)); got != "" {
		t.Fatalf("anon sees notes %q", got)
	}
	if got := ids(t, a.rest(t, endUser{}, "GET", "/todos?order=id", nil)); got != "1" {
		t.Fatalf("anon sees %q, want only the public row", got)
	}
	// Filters of the request narrow further, never widen.
	if got := ids(t, a.rest(t, endUser{}, "GET", "/todos?public=is.false", nil)); got != "" {
		t.Fatalf("anon reached hidden rows: %q", got)
	}
	if got := ids(t, a.rest(t, endUser{}, "GET", "/todos?or=(public.is.false,id.gt.0)", nil)); got != "1" {
		t.Fatalf("an or= filter widened the rule: %q", got)
	}
	wantDenied(t, a.rest(t, endUser{}, "POST", "/todos", map[string]any{"title": "x", "public": true}), http.StatusUnauthorized, "insert")
	wantDenied(t, a.rest(t, endUser{}, "PATCH", "/todos?id=eq.1", map[string]any{"title": "y"}), http.StatusUnauthorized, "update")
	wantDenied(t, a.rest(t, endUser{}, "DELETE", "/todos?id=eq.1", nil), http.StatusUnauthorized, "delete")
	if n := a.count(t, "select count(*) as n from todos where title in ('open', 'hidden')"); n != 2 {
		t.Fatalf("%d rows left", n)
	}
	// Signed-in users are not anon: still denied.
	wantDenied(t, a.rest(t, alice, "GET", "/todos", nil), http.StatusForbidden)
	wantStatus(t, a.rest(t, endUser{}, "POST", "/rpc/add", map[string]any{"a": 1, "b": 2}), http.StatusOK)
	wantDenied(t, a.rest(t, endUser{}, "POST", "/rpc/hello", map[string]any{}), http.StatusUnauthorized, "hello")
}

func TestDataAPIOwnerOnlyRows(t *testing.T) {
	t.Parallel()
	a := newApp(t, "data-owner")
	alice, bob := a.signUp(t, "alice@example.com"), a.signUp(t, "bob@example.com")
	own := "owner_id=eq.{auth.uid}"
	putRules(t, a.ts, a.p.Ref, rules{"policies": []any{
		policy("authenticated", "todos", "select", own),
		policy("authenticated", "todos", "insert", own),
		policy("authenticated", "todos", "update", own),
		policy("authenticated", "todos", "delete", own),
	}})
	a.ts.SQL(t, a.p.Ref, fmt.Sprintf("insert into todos (owner_id, title) values ('%s', 'a1'), ('%s', 'b1')", alice.id, bob.id))

	if got := ids(t, a.rest(t, alice, "GET", "/todos", nil)); got != "1" {
		t.Fatalf("alice sees %q", got)
	}
	if got := ids(t, a.rest(t, bob, "GET", "/todos?id=eq.1", nil)); got != "" {
		t.Fatalf("bob reads alice's row: %q", got)
	}
	// Updating or deleting someone else's row touches nothing.
	a.rest(t, bob, "PATCH", "/todos?id=eq.1", map[string]any{"title": "stolen"})
	a.rest(t, bob, "DELETE", "/todos?id=eq.1", nil)
	if n := a.count(t, "select count(*) as n from todos where id = 1 and title = 'a1'"); n != 1 {
		t.Fatal("bob changed alice's row")
	}
	// Inserting with her own id works (the default fills it too).
	wantStatus(t, a.rest(t, alice, "POST", "/todos", map[string]any{"title": "a2", "owner_id": alice.id}), http.StatusCreated)
	wantStatus(t, a.rest(t, alice, "POST", "/todos", map[string]any{"title": "a3"}), http.StatusCreated)
	// A forged owner is refused and nothing of the request is written,
	// not even the good rows of a bulk insert.
	before := a.count(t, "select count(*) as n from todos")
	wantStatus(t, a.rest(t, alice, "POST", "/todos", map[string]any{"title": "forged", "owner_id": bob.id}), http.StatusForbidden)
	wantStatus(t, a.rest(t, alice, "POST", "/todos", []map[string]any{
		{"title": "good", "owner_id": alice.id}, {"title": "forged", "owner_id": bob.id},
	}), http.StatusForbidden)
	if n := a.count(t, "select count(*) as n from todos"); n != before {
		t.Fatalf("%d rows after refused inserts, want %d", n, before)
	}
	// Giving her row away is an update whose new row leaves the condition.
	wantStatus(t, a.rest(t, alice, "PATCH", "/todos?id=eq.1", map[string]any{"owner_id": bob.id}), http.StatusForbidden)
	if n := a.count(t, fmt.Sprintf("select count(*) as n from todos where id = 1 and owner_id = '%s'", alice.id)); n != 1 {
		t.Fatal("the refused update was written")
	}
	wantStatus(t, a.rest(t, alice, "PATCH", "/todos?id=eq.1", map[string]any{"title": "mine"}), http.StatusNoContent)
	wantStatus(t, a.rest(t, alice, "DELETE", "/todos?id=eq.1", nil), http.StatusNoContent)
	if n := a.count(t, "select count(*) as n from todos where id = 1"); n != 0 {
		t.Fatal("alice could not delete her row")
	}
	// Anonymous callers have no uid: denied outright here (no anon rule).
	wantDenied(t, a.rest(t, endUser{}, "GET", "/todos", nil), http.StatusUnauthorized)
}

func TestDataAPIRolesAndEmbeds(t *testing.T) {
	t.Parallel()
	a := newApp(t, "data-roles")
	alice, bob := a.signUp(t, "alice@example.com"), a.signUp(t, "bob@example.com")
	putRules(t, a.ts, a.p.Ref, rules{
		"policies": []any{
			policy("authenticated", "todos", "select", "owner_id=eq.{auth.uid}"),
			policy("moderator", "todos", "select", ""),
			policy("moderator", "todos", "delete", ""),
		},
		"roles": []any{map[string]string{"role": "moderator", "inherits": "authenticated"}},
	})
	a.ts.SQL(t, a.p.Ref, fmt.Sprintf(`insert into todos (owner_id, title) values ('%s', 'a1'), ('%s', 'b1');
		insert into notes (todo_id, owner_id, body) values (1, '%s', 'note a'), (2, '%s', 'note b'), (1, '%s', 'bob on a')`,
		alice.id, bob.id, alice.id, bob.id, bob.id))

	// A custom role given to a user: bob moderates, alice does not.
	setUserRoles(t, a.ts, a.p.Ref, bob.id, "moderator")
	if got := ids(t, a.rest(t, bob, "GET", "/todos?order=id", nil)); got != "1,2" {
		t.Fatalf("moderator sees %q", got)
	}
	if got := ids(t, a.rest(t, alice, "GET", "/todos?order=id", nil)); got != "1" {
		t.Fatalf("alice sees %q", got)
	}
	wantDenied(t, a.rest(t, alice, "DELETE", "/todos?id=eq.2", nil), http.StatusForbidden, "delete")

	// Embedding a table the caller may not read is refused, not emptied.
	res := a.rest(t, alice, "GET", "/todos?select=id,notes(body)", nil)
	wantDenied(t, res, http.StatusForbidden, "notes")
	// Once allowed, the embed's own conditions apply inside it.
	putRules(t, a.ts, a.p.Ref, rules{
		"policies": []any{
			policy("authenticated", "todos", "select", "owner_id=eq.{auth.uid}"),
			policy("authenticated", "notes", "select", "owner_id=eq.{auth.uid}"),
		},
	})
	res = a.rest(t, alice, "GET", "/todos?select=id,notes(body)", nil)
	wantStatus(t, res, http.StatusOK)
	var rows []struct {
		ID    int `json:"id"`
		Notes []struct {
			Body string `json:"body"`
		} `json:"notes"`
	}
	res.JSON(t, &rows)
	if len(rows) != 1 || len(rows[0].Notes) != 1 || rows[0].Notes[0].Body != "note a" {
		t.Fatalf("embed: %s", res.Body)
	}
}

// Supabase-style RLS works beside the rules: the rule lets every signed-in
// user read the table, the project's policy still limits them to their rows.
func TestDataAPIRLSBesideRules(t *testing.T) {
	t.Parallel()
	a := newApp(t, "data-rls")
	alice, bob := a.signUp(t, "alice@example.com"), a.signUp(t, "bob@example.com")
	a.ts.SQL(t, a.p.Ref, fmt.Sprintf(`insert into todos (owner_id, title) values ('%s', 'a1'), ('%s', 'b1');
		alter table todos enable row level security;
		create policy own_rows on todos to authenticated using (owner_id = auth.uid());`, alice.id, bob.id))
	putRules(t, a.ts, a.p.Ref, rules{"policies": []any{
		policy("authenticated", "todos", "select", ""),
		policy("anon", "todos", "select", ""),
	}})
	if got := ids(t, a.rest(t, alice, "GET", "/todos", nil)); got != "1" {
		t.Fatalf("alice sees %q through RLS", got)
	}
	if got := ids(t, a.rest(t, bob, "GET", "/todos", nil)); got != "2" {
		t.Fatalf("bob sees %q through RLS", got)
	}
	// The policy is TO authenticated: anon has none, so RLS shows nothing.
	if got := ids(t, a.rest(t, endUser{}, "GET", "/todos", nil)); got != "" {
		t.Fatalf("anon sees %q through RLS", got)
	}
}

// A rule change made through instance 1 takes effect on instance 2's data
// API, which has the project's rules in memory already.
func TestDataAPIRuleChangeReachesSecondInstance(t *testing.T) {
	t.Parallel()
	a := newApp(t, "data-two")
	a.ts.SQL(t, a.p.Ref, "insert into todos (title, public) values ('x', true)")
	b := &app{ts: testserver.StartOn(t, a.ts.DB), p: a.p}
	wantDenied(t, b.rest(t, endUser{}, "GET", "/todos", nil), http.StatusUnauthorized)
	putRules(t, a.ts, a.p.Ref, rules{"policies": []any{policy("anon", "todos", "select", "")}})
	eventually(t, "instance 2 to allow anon reads", func() bool {
		return b.rest(t, endUser{}, "GET", "/todos", nil).Status == http.StatusOK
	})
	putRules(t, a.ts, a.p.Ref, rules{"policies": []any{}})
	eventually(t, "instance 2 to deny again", func() bool {
		return b.rest(t, endUser{}, "GET", "/todos", nil).Status == http.StatusUnauthorized
	})
	var e map[string]any
	_ = json.Unmarshal(b.rest(t, endUser{}, "GET", "/todos", nil).Body, &e)
	if e["code"] != "PL403" {
		t.Fatalf("denial on instance 2: %v", e)
	}
}
