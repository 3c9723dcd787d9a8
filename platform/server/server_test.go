package server_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/internal/testserver"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// superQuery runs a catalog query as superuser on the test database.
func superQuery[T any](t *testing.T, ts *testserver.TS, sql string, args ...any) T {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), ts.DB.SuperURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func assertError(t *testing.T, res *testserver.Response, status int, code string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
	}
	var e map[string]any
	if err := json.Unmarshal(res.Body, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", res.Body)
	}
	for _, k := range []string{"code", "message", "details", "hint"} {
		if _, ok := e[k]; !ok {
			t.Fatalf("error body lacks %q: %s", k, res.Body)
		}
	}
	if code != "" && e["code"] != code {
		t.Fatalf("code %v, want %s: %s", e["code"], code, res.Body)
	}
}

func TestProvisionAndDrop(t *testing.T) {
	ts := testserver.Start(t)
	p := ts.CreateProject(t, "alpha")
	if p.AnonKey == "" || p.ServiceKey == "" || p.Schema != ts.DB.Prefix+"alpha" {
		t.Fatalf("unexpected project: %+v", p)
	}
	like := ts.DB.Prefix + "alpha%"
	if n := superQuery[int](t, ts, "select count(*) from pg_roles where rolname like $1", like); n != 4 {
		t.Fatalf("want 4 roles, got %d", n)
	}
	// The login is NOINHERIT and a member of exactly the project's three roles.
	if inh := superQuery[bool](t, ts, "select rolinherit from pg_roles where rolname = $1", p.Schema+"_login"); inh {
		t.Fatal("login role inherits")
	}
	if n := superQuery[int](t, ts, `select count(*) from pg_auth_members m join pg_roles r on r.oid = m.member where r.rolname = $1`, p.Schema+"_login"); n != 3 {
		t.Fatalf("login is a member of %d roles, want 3", n)
	}
	if super := superQuery[bool](t, ts, "select rolsuper or rolbypassrls from pg_roles where rolname = current_user"); !super {
		t.Fatal("test harness should query as superuser")
	}
	if super := superQuery[bool](t, ts, "select rolsuper from pg_roles r join pg_database d on d.datdba = r.oid where d.datname = current_database()"); super {
		t.Fatal("the control plane must not run as a superuser")
	}
	ts.SQL(t, "alpha", "create table things (id int primary key); insert into things values (1)")

	// Duplicate and invalid refs.
	assertError(t, ts.Admin(t, "POST", "/projects", map[string]string{"ref": "alpha"}), 409, "PL409")
	for _, bad := range []string{"A", "1abc", "ab", "abc-", "a_b_c", strings.Repeat("a", 41), "x;drop"} {
		assertError(t, ts.Admin(t, "POST", "/projects", map[string]string{"ref": bad}), 400, "PL400")
	}

	if res := ts.Admin(t, "DELETE", "/projects/alpha", nil); res.Status != 204 {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	if n := superQuery[int](t, ts, "select count(*) from pg_roles where rolname like $1", like); n != 0 {
		t.Fatalf("%d roles left behind", n)
	}
	if n := superQuery[int](t, ts, "select count(*) from pg_namespace where nspname = $1", p.Schema); n != 0 {
		t.Fatal("schema left behind")
	}
	if n := superQuery[int](t, ts, "select count(*) from plinth.api_keys where project_ref = 'alpha'"); n != 0 {
		t.Fatal("keys left behind")
	}
	if res := ts.Rest(t, p, p.ServiceKey, "GET", "/things", nil, nil); res.Status != 404 {
		t.Fatalf("deleted project still answers: %d %s", res.Status, res.Body)
	}
	assertError(t, ts.Admin(t, "DELETE", "/projects/alpha", nil), 404, "PL404")
}

func TestFailedProvisioningLeavesNothing(t *testing.T) {
	ts := testserver.Start(t)
	// A role that collides with one provisioning needs makes it fail midway.
	conn, err := pgx.Connect(context.Background(), ts.DB.SuperURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	squatter := ts.DB.Prefix + "beta_login"
	if _, err := conn.Exec(context.Background(), "create role "+squatter); err != nil {
		t.Fatal(err)
	}
	res := ts.Admin(t, "POST", "/projects", map[string]string{"ref": "beta"})
	if res.Status < 400 || res.Status == 500 {
		// A name clash is a conflict the caller can act on, not a server error.
		t.Fatalf("provisioning over a squatted role: %d %s", res.Status, res.Body)
	}
	if n := superQuery[int](t, ts, "select count(*) from pg_roles where rolname like $1 and rolname <> $2", ts.DB.Prefix+"beta%", squatter); n != 0 {
		t.Fatalf("%d roles left behind", n)
	}
	if n := superQuery[int](t, ts, "select count(*) from plinth.projects where ref = 'beta'"); n != 0 {
		t.Fatal("metadata left behind")
	}
	if n := superQuery[int](t, ts, "select count(*) from pg_namespace where nspname = $1", ts.DB.Prefix+"beta"); n != 0 {
		t.Fatal("schema left behind")
	}
}

func TestKeyChecks(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	a := ts.CreateProject(t, "keys-a")
	b := ts.CreateProject(t, "keys-b")
	ts.SQL(t, a.Ref, "create table items (id int primary key); insert into items values (1), (2)")

	res := ts.Rest(t, a, a.ServiceKey, "GET", "/items?order=id", nil, nil)
	if res.Status != 200 || string(res.Body) != `[{"id":1}, `+"\n"+` {"id":2}]` {
		t.Fatalf("service key read: %d %q", res.Status, res.Body)
	}
	// Minted and revoked keys.
	mint := ts.Admin(t, "POST", "/projects/keys-a/keys", map[string]string{"role": "service_role"})
	var k struct{ ID, Key string }
	mint.JSON(t, &k)
	if mint.Status != 201 || k.Key == "" {
		t.Fatalf("mint: %d %s", mint.Status, mint.Body)
	}
	if res := ts.Rest(t, a, k.Key, "GET", "/items", nil, nil); res.Status != 200 {
		t.Fatalf("minted key: %d %s", res.Status, res.Body)
	}
	if res := ts.Admin(t, "DELETE", "/projects/keys-a/keys/"+k.ID, nil); res.Status != 204 {
		t.Fatalf("revoke: %d %s", res.Status, res.Body)
	}
	// The list shows the anon key but never a service_role secret again.
	list := ts.Admin(t, "GET", "/projects/keys-a/keys", nil)
	if !strings.Contains(string(list.Body), a.AnonKey) || strings.Contains(string(list.Body), a.ServiceKey) || strings.Contains(string(list.Body), k.Key) {
		t.Fatalf("key list shows the wrong secrets: %s", list.Body)
	}

	cases := []struct {
		name    string
		headers map[string]string
	}{
		{"missing", map[string]string{}},
		{"wrong", map[string]string{"apikey": "pl_sec_notakey"}},
		{"revoked", map[string]string{"apikey": k.Key}},
		{"other project", map[string]string{"apikey": b.ServiceKey}},
		{"other project bearer", map[string]string{"Authorization": "Bearer " + b.ServiceKey}},
		{"good apikey, bad bearer", map[string]string{"apikey": a.AnonKey, "Authorization": "Bearer " + b.ServiceKey}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := ts.Do(t, "GET", "/p/keys-a/rest/v1/items", c.headers, nil)
			assertError(t, res, 401, "")
			if strings.Contains(string(res.Body), `"id"`) {
				t.Fatalf("rows leaked: %s", res.Body)
			}
		})
	}
	// The bearer form of a valid key works, as supabase-js sends it.
	if res := ts.Do(t, "GET", "/p/keys-a/rest/v1/items", map[string]string{"Authorization": "Bearer " + a.ServiceKey}, nil); res.Status != 200 {
		t.Fatalf("bearer key: %d %s", res.Status, res.Body)
	}
}

func TestAdminAuth(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	p := ts.CreateProject(t, "adm")
	for name, h := range map[string]map[string]string{
		"no token":    {},
		"project key": {"Authorization": "Bearer " + p.ServiceKey},
		"anon key":    {"Authorization": "Bearer " + p.AnonKey},
		"apikey":      {"apikey": p.ServiceKey},
		"garbage":     {"Authorization": "Bearer x"},
	} {
		res := ts.Do(t, "GET", "/admin/v1/projects", h, nil)
		if res.Status != 401 {
			t.Errorf("%s: %d %s", name, res.Status, res.Body)
		}
		assertError(t, res, 401, "PL401")
	}
}
