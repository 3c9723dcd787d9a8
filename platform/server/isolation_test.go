package server_test

import (
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/internal/testserver"
)

// TestTenantIsolation proves the escapes of DESIGN.md §9 fail, from project
// A's admin SQL and from a function A wrote that runs through the data API.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	a := ts.CreateProject(t, "iso-a")
	b := ts.CreateProject(t, "iso-b")
	const secret = "b-secret-value-7f3a"
	ts.SQL(t, b.Ref, "create table secrets (v text); insert into secrets values ('"+secret+"')")
	bTable := b.Schema + ".secrets"

	escapes := []struct{ name, sql string }{
		{"read B directly", "select * from " + bTable},
		{"RESET ROLE", "reset role; select * from " + bTable},
		{"SET ROLE B owner", "set role " + b.Schema + "_owner; select * from " + bTable},
		{"SET ROLE B anon", "set role " + b.Schema + "_anon; select * from " + bTable},
		{"SET ROLE postgres", "set role postgres; select * from " + bTable},
		{"SET SESSION AUTHORIZATION", "set session authorization postgres; select * from " + bTable},
		{"set_config role", "select set_config('role', '" + b.Schema + "_owner', false); select * from " + bTable},
		{"COMMIT then read", "commit; select * from " + bTable},
		{"COMMIT, RESET ROLE then read", "commit; reset role; select * from " + bTable},
		{"platform metadata", "select * from plinth.api_keys"},
		{"create role", "create role evil superuser"},
	}
	for _, e := range escapes {
		t.Run("sql/"+e.name, func(t *testing.T) {
			res := ts.Admin(t, "POST", "/projects/"+a.Ref+"/sql", map[string]string{"query": e.sql})
			if res.Status == 200 || res.Status >= 500 {
				t.Fatalf("escape %q: status %d %s", e.sql, res.Status, res.Body)
			}
			if strings.Contains(string(res.Body), secret) {
				t.Fatalf("B's data leaked: %s", res.Body)
			}
		})
	}

	// Tenant code: functions A writes that try the same from inside, reached
	// through A's data API (a view calling them).
	fns := []struct{ name, body string }{
		{"reset_role", "reset role"},
		{"set_role_b", "set role " + b.Schema + "_owner"},
		{"set_role_postgres", "set role postgres"},
		{"session_auth", "set session authorization postgres"},
		{"set_config_role", "perform set_config('role', '" + b.Schema + "_owner', false)"},
		{"plain_read", "null"},
	}
	var sql strings.Builder
	for _, f := range fns {
		sql.WriteString("create function " + f.name + "() returns text language plpgsql as $$ begin " + f.body +
			"; return (select string_agg(v, ',') from " + bTable + "); end $$;\n")
		sql.WriteString("create view v_" + f.name + " as select " + f.name + "() as leaked;\n")
	}
	ts.SQL(t, a.Ref, sql.String())
	for _, f := range fns {
		t.Run("function/"+f.name, func(t *testing.T) {
			for _, key := range []string{a.ServiceKey, a.AnonKey} {
				res := ts.Rest(t, a, key, "GET", "/v_"+f.name, nil, nil)
				if strings.Contains(string(res.Body), secret) {
					t.Fatalf("B's data leaked through %s: %s", f.name, res.Body)
				}
				if res.Status == 200 || res.Status >= 500 {
					t.Fatalf("%s: status %d %s", f.name, res.Status, res.Body)
				}
			}
		})
	}

	// B's own service key still reads its data, so the checks above are
	// not passing because nothing can read it at all.
	res := ts.Rest(t, b, b.ServiceKey, "GET", "/secrets", nil, nil)
	if res.Status != 200 || !strings.Contains(string(res.Body), secret) {
		t.Fatalf("B cannot read its own data: %d %s", res.Status, res.Body)
	}
	// Naming B's table through A's API fails too.
	for _, path := range []string{"/" + bTable, "/secrets", "/" + b.Schema + "%2Esecrets"} {
		res := ts.Rest(t, a, a.ServiceKey, "GET", path, nil, nil)
		if res.Status != 404 || strings.Contains(string(res.Body), secret) {
			t.Fatalf("%s through A: %d %s", path, res.Status, res.Body)
		}
	}
	for _, profile := range []string{b.Schema, "plinth", "pg_catalog"} {
		res := ts.Rest(t, a, a.ServiceKey, "GET", "/secrets", map[string]string{"Accept-Profile": profile}, nil)
		assertError(t, res, 406, "PGRST106")
	}
}
