package authz_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/authz"
	"github.com/plinth-dev/plinth/tenants/principal"
	"github.com/plinth-dev/plinth/tenants/query"
)

// schemaSQL is the tables and functions the rules in these tests talk about.
const schemaSQL = `
create table todos (id serial primary key, owner_id uuid, title text, public boolean not null default false, team text);
create table docs (id serial primary key, owner_id uuid, body text);
create table documents (id serial primary key, body text);
create function add(a int, b int) returns int language sql as 'select a + b';
create function hello() returns text language sql as 'select ''hi''';
`

// setup starts a server with one project holding schemaSQL.
func setup(t *testing.T, ref string) (*testserver.TS, *testserver.Project) {
	t.Helper()
	ts := testserver.Start(t)
	p := ts.CreateProject(t, ref)
	ts.SQL(t, ref, schemaSQL)
	return ts, p
}

// engine makes an Engine of the test's own over the server's database, as
// a second instance would have.
func engine(t *testing.T, ts *testserver.TS, opts authz.Options) *authz.Engine {
	t.Helper()
	pool := controlPool(t, ts)
	e, err := authz.New(pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func controlPool(t testing.TB, ts *testserver.TS) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), ts.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

type rules = map[string]any

func policy(role, table, action, cond string) map[string]string {
	return map[string]string{"role": role, "table": table, "action": action, "condition": cond}
}

func putRules(t *testing.T, ts *testserver.TS, ref string, body any) {
	t.Helper()
	res := ts.Admin(t, "PUT", "/projects/"+ref+"/rules", body)
	if res.Status != http.StatusOK {
		t.Fatalf("PUT rules: %d %s", res.Status, res.Body)
	}
}

func setUserRoles(t *testing.T, ts *testserver.TS, ref, user string, roles ...string) {
	t.Helper()
	if roles == nil {
		roles = []string{}
	}
	res := ts.Admin(t, "PUT", "/projects/"+ref+"/users/"+user+"/roles", map[string]any{"roles": roles})
	if res.Status != http.StatusOK {
		t.Fatalf("PUT user roles: %d %s", res.Status, res.Body)
	}
}

// mkUser creates an end user through the admin API and returns its id.
func mkUser(t *testing.T, ts *testserver.TS, ref, name string) string {
	t.Helper()
	res := ts.Admin(t, "POST", "/projects/"+ref+"/users", map[string]any{"email": name + "@example.com", "password": "correct horse battery"})
	if res.Status != http.StatusCreated && res.Status != http.StatusOK {
		t.Fatalf("create user %s: %d %s", name, res.Status, res.Body)
	}
	var u struct {
		ID string `json:"id"`
	}
	res.JSON(t, &u)
	return u.ID
}

func anon(ref string) *principal.Principal {
	return &principal.Principal{Ref: ref, Role: principal.Anon, Claims: map[string]any{"role": "anon"}}
}

func user(ref, id string, claims map[string]any) *principal.Principal {
	c := map[string]any{"role": "authenticated", "sub": id}
	for k, v := range claims {
		c[k] = v
	}
	return &principal.Principal{Ref: ref, Role: principal.Authenticated, UserID: id, Claims: c}
}

// decide runs Access for one table and action; it fails the test on any
// error that is not a rule denial, and returns the denial's status.
func decide(t *testing.T, e *authz.Engine, p *principal.Principal, table, action string) (query.Expr, int) {
	t.Helper()
	acc, err := e.Access(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if acc == nil {
		return query.Expr{}, 0
	}
	expr, err := acc(table, action)
	if err == nil {
		return expr, 0
	}
	var ae *apierror.Error
	if !errors.As(err, &ae) || ae.Code != apierror.CodeForbidden {
		t.Fatalf("%s %s: unexpected error %v", table, action, err)
	}
	for _, want := range []string{p.Role, strings.TrimPrefix(table, "rpc:")} {
		if !strings.Contains(ae.Message, want) {
			t.Fatalf("denial %q does not name %q", ae.Message, want)
		}
	}
	if !strings.Contains(ae.Message, action) && !strings.HasPrefix(table, "rpc:") {
		t.Fatalf("denial %q does not name action %q", ae.Message, action)
	}
	return query.Expr{}, ae.Status
}

// allowed asserts an allowed decision and returns its condition as text.
func allowed(t *testing.T, e *authz.Engine, p *principal.Principal, table, action string) string {
	t.Helper()
	expr, status := decide(t, e, p, table, action)
	if status != 0 {
		t.Fatalf("%s may not %s %s (status %d), want allowed", p.Role, action, table, status)
	}
	return authz.FormatCondition(expr)
}

func deniedWith(t *testing.T, e *authz.Engine, p *principal.Principal, table, action string, status int) {
	t.Helper()
	if _, got := decide(t, e, p, table, action); got != status {
		t.Fatalf("%s %s %s: status %d, want %d", p.Role, action, table, got, status)
	}
}

// eventually polls cond until it holds or the generous bound passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
