package authz_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/authz"
)

func check(t *testing.T, ts *testserver.TS, ref string, body any) authz.CheckResult {
	t.Helper()
	res := ts.Admin(t, "POST", "/projects/"+ref+"/rules/check", body)
	if res.Status != http.StatusOK {
		t.Fatalf("check %v: %d %s", body, res.Status, res.Body)
	}
	var out authz.CheckResult
	res.JSON(t, &out)
	return out
}

func assertBadRequest(t *testing.T, res *testserver.Response, mention string) {
	t.Helper()
	if res.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", res.Status, res.Body)
	}
	var e map[string]any
	res.JSON(t, &e)
	if e["code"] != "PL400" {
		t.Fatalf("code %v: %s", e["code"], res.Body)
	}
	if msg, _ := e["message"].(string); !strings.Contains(msg, mention) {
		t.Fatalf("message %q does not mention %q", msg, mention)
	}
}

func TestRulesGetPutAndAudit(t *testing.T) {
	t.Parallel()
	ts, p := setup(t, "rules-api")
	other := ts.CreateProject(t, "rules-other")
	ts.SQL(t, other.Ref, schemaSQL)

	res := ts.Admin(t, "GET", "/projects/"+p.Ref+"/rules", nil)
	if res.Status != 200 || string(res.Body) != `{"policies":[],"roles":[]}` {
		t.Fatalf("new project rules: %d %s", res.Status, res.Body)
	}
	in := rules{
		"policies": []any{
			policy("authenticated", "todos", "SELECT", " owner_id=eq.{auth.uid} "),
			policy("authenticated", "todos", "select", "owner_id=eq.{auth.uid}"), // duplicate after normalising
			policy("editor", "doc*", "*", ""),
			policy("anon", "rpc:hello", "execute", ""),
			policy("user:"+strings.ToUpper(alice), "documents", "delete", ""), // stored canonical
		},
		"roles": []any{
			map[string]string{"role": "editor", "inherits": "authenticated"},
			map[string]string{"role": "admin", "inherits": "editor"},
			map[string]string{"role": "admin", "inherits": "anon"},
			map[string]string{"role": "viewer"},
		},
	}
	put := ts.Admin(t, "PUT", "/projects/"+p.Ref+"/rules", in)
	if put.Status != 200 {
		t.Fatalf("PUT: %d %s", put.Status, put.Body)
	}
	want := `{"policies":[` +
		`{"role":"authenticated","table":"todos","action":"select","condition":"owner_id=eq.{auth.uid}"},` +
		`{"role":"editor","table":"doc*","action":"*","condition":""},` +
		`{"role":"anon","table":"rpc:hello","action":"execute","condition":""},` +
		`{"role":"user:` + alice + `","table":"documents","action":"delete","condition":""}],` +
		`"roles":[{"role":"editor","inherits":"authenticated"},{"role":"admin","inherits":"editor"},{"role":"admin","inherits":"anon"},{"role":"viewer"}]}`
	if string(put.Body) != want {
		t.Fatalf("PUT answered\n%s\nwant\n%s", put.Body, want)
	}
	if got := ts.Admin(t, "GET", "/projects/"+p.Ref+"/rules", nil); string(got.Body) != want {
		t.Fatalf("GET after PUT\n%s\nwant\n%s", got.Body, want)
	}
	// The other project is untouched.
	if got := ts.Admin(t, "GET", "/projects/"+other.Ref+"/rules", nil); string(got.Body) != `{"policies":[],"roles":[]}` {
		t.Fatalf("other project's rules changed: %s", got.Body)
	}
	if d := check(t, ts, other.Ref, map[string]string{"role": "anon", "table": "rpc:hello", "action": "execute"}); d.Allowed {
		t.Fatal("a rule of one project allowed something in another")
	}
	// Audited, newest first.
	var audit []map[string]any
	ts.Admin(t, "GET", "/projects/"+p.Ref+"/audit", nil).JSON(t, &audit)
	if len(audit) == 0 || audit[0]["action"] != "rules.update" || audit[0]["actor"] != "token" {
		t.Fatalf("audit: %v", audit)
	}
	bob := mkUser(t, ts, p.Ref, "bob")
	setUserRoles(t, ts, p.Ref, bob, "viewer", "editor", "viewer")
	ts.Admin(t, "GET", "/projects/"+p.Ref+"/audit", nil).JSON(t, &audit)
	if audit[0]["action"] != "user.roles" || audit[0]["target"] != bob {
		t.Fatalf("audit of user roles: %v", audit[0])
	}
	// Emptying the rules keeps nothing but user assignments.
	putRules(t, ts, p.Ref, rules{"policies": []any{}, "roles": []any{}})
	if got := ts.Admin(t, "GET", "/projects/"+p.Ref+"/rules", nil); string(got.Body) != `{"policies":[],"roles":[]}` {
		t.Fatalf("after emptying: %s", got.Body)
	}
}

func TestRulesValidation(t *testing.T) {
	t.Parallel()
	ts, p := setup(t, "rules-valid")
	ts.SQL(t, p.Ref, "create table doc_notes (id serial primary key, note text)")
	good := policy("anon", "todos", "select", "")
	putRules(t, ts, p.Ref, rules{"policies": []any{good}})
	cases := []struct {
		name    string
		body    any
		mention string
	}{
		{"bad condition", rules{"policies": []any{policy("anon", "todos", "select", "owner_id=eqq.1")}}, "invalid condition"},
		{"unclosed or", rules{"policies": []any{policy("anon", "todos", "select", "or=(a.eq.1")}}, "invalid condition"},
		{"misspelt placeholder", rules{"policies": []any{policy("anon", "todos", "select", "owner_id=eq.{auth.id}")}}, "placeholder"},
		{"unknown column", rules{"policies": []any{policy("anon", "todos", "select", "owner=eq.{auth.uid}")}}, `column "owner"`},
		{"unknown column in or", rules{"policies": []any{policy("anon", "todos", "select", "or=(public.is.true,nope.eq.1)")}}, `column "nope"`},
		{"pattern table lacks column", rules{"policies": []any{policy("anon", "doc*", "select", "owner_id=eq.{auth.uid}")}}, `table "doc_notes"`},
		{"unknown table", rules{"policies": []any{policy("anon", "nosuch", "select", "")}}, `unknown table "nosuch"`},
		{"unknown action", rules{"policies": []any{policy("anon", "todos", "read", "")}}, `unknown action "read"`},
		{"execute on table", rules{"policies": []any{policy("anon", "todos", "execute", "")}}, "rpc:"},
		{"select on function", rules{"policies": []any{policy("anon", "rpc:hello", "select", "")}}, "does not apply to functions"},
		{"unknown function", rules{"policies": []any{policy("anon", "rpc:nosuch", "execute", "")}}, `unknown function "nosuch"`},
		{"condition on function", rules{"policies": []any{policy("anon", "rpc:hello", "execute", "a=eq.1")}}, "no row condition"},
		{"star inside pattern", rules{"policies": []any{policy("anon", "t*s", "select", "")}}, "only allowed at the end"},
		{"unknown role", rules{"policies": []any{policy("authenicated", "todos", "select", "")}}, `unknown role "authenicated"`},
		{"service_role policy", rules{"policies": []any{policy("service_role", "todos", "select", "")}}, "bypasses"},
		{"bad user subject", rules{"policies": []any{policy("user:bob", "todos", "select", "")}}, "user:{uuid}"},
		{"bad role name", rules{"roles": []any{map[string]string{"role": "Bad Name"}}}, "invalid role name"},
		{"declare builtin", rules{"roles": []any{map[string]string{"role": "anon"}}}, "built in"},
		{"inherit unknown", rules{"roles": []any{map[string]string{"role": "editor", "inherits": "ghost"}}}, `unknown role "ghost"`},
		{"cycle", rules{"roles": []any{
			map[string]string{"role": "a1", "inherits": "b1"},
			map[string]string{"role": "b1", "inherits": "a1"},
		}}, "cycle"},
		{"unknown field", map[string]any{"policies": []any{}, "rolez": []any{}}, "unknown field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := ts.Admin(t, "PUT", "/projects/"+p.Ref+"/rules", c.body)
			if c.name == "unknown field" {
				if res.Status != 400 || !strings.Contains(string(res.Body), "unknown field") {
					t.Fatalf("%d %s", res.Status, res.Body)
				}
				return
			}
			assertBadRequest(t, res, c.mention)
		})
	}
	// Several problems are all listed.
	res := ts.Admin(t, "PUT", "/projects/"+p.Ref+"/rules", rules{"policies": []any{
		policy("anon", "nosuch", "select", ""), policy("anon", "todos", "read", ""),
	}})
	if !strings.Contains(string(res.Body), "nosuch") || !strings.Contains(string(res.Body), "read") {
		t.Fatalf("not every problem listed: %s", res.Body)
	}
	// A rejected rule set changes nothing.
	var got authz.RuleSet
	ts.Admin(t, "GET", "/projects/"+p.Ref+"/rules", nil).JSON(t, &got)
	if len(got.Policies) != 1 || got.Policies[0] != (authz.Policy{Role: "anon", Table: "todos", Action: "select"}) {
		t.Fatalf("rules after rejected PUTs: %+v", got)
	}
	// Deep inheritance chains are refused (Casbin stops following at 10).
	var chain []any
	for i := range 10 {
		r := map[string]string{"role": "r" + string(rune('a'+i))}
		if i > 0 {
			r["inherits"] = "r" + string(rune('a'+i-1))
		}
		chain = append(chain, r)
	}
	assertBadRequest(t, ts.Admin(t, "PUT", "/projects/"+p.Ref+"/rules", rules{"roles": chain}), "levels deep")
}

func TestCheckExplains(t *testing.T) {
	t.Parallel()
	ts, p := setup(t, "rules-check")
	putRules(t, ts, p.Ref, rules{
		"policies": []any{
			policy("authenticated", "todos", "select", "owner_id=eq.{auth.uid}"),
			policy("editor", "todos", "select", "public=is.true"),
			policy("editor", "todos", "update", "owner_id=eq.{auth.uid}"),
			policy("anon", "todos", "select", ""),
		},
		"roles": []any{map[string]string{"role": "editor", "inherits": "authenticated"}},
	})
	alice := mkUser(t, ts, p.Ref, "alice")
	setUserRoles(t, ts, p.Ref, alice, "editor")

	// Allowed: every matching policy and the OR of their conditions.
	d := check(t, ts, p.Ref, map[string]string{"user_id": alice, "table": "todos", "action": "select"})
	if !d.Allowed || len(d.Matched) != 2 {
		t.Fatalf("alice select: %+v", d)
	}
	if d.Condition != "or=(public.is.true,owner_id.eq.{auth.uid})" && d.Condition != "or=(owner_id.eq.{auth.uid},public.is.true)" {
		t.Fatalf("effective condition %q", d.Condition)
	}
	mustParse(t, d.Condition) // the explanation is itself a valid condition
	if jsonOf(t, d.Subjects) != `["user:`+alice+`","authenticated","editor"]` {
		t.Fatalf("subjects %v", d.Subjects)
	}
	// One policy: its own text.
	d = check(t, ts, p.Ref, map[string]string{"role": "editor", "table": "todos", "action": "update"})
	if !d.Allowed || d.Condition != "owner_id=eq.{auth.uid}" || len(d.Matched) != 1 || d.Matched[0].Role != "editor" {
		t.Fatalf("editor update: %+v", d)
	}
	// Every row.
	d = check(t, ts, p.Ref, map[string]string{"role": "anon", "table": "todos", "action": "select"})
	if !d.Allowed || d.Condition != "" || !strings.Contains(d.Reason, "every row") {
		t.Fatalf("anon select: %+v", d)
	}
	// Denied: says so and whose roles were considered.
	d = check(t, ts, p.Ref, map[string]string{"user_id": bob, "table": "todos", "action": "delete"})
	if d.Allowed || len(d.Matched) != 0 || !strings.Contains(d.Reason, "no policy") || !strings.Contains(d.Reason, bob) {
		t.Fatalf("bob delete: %+v", d)
	}
	d = check(t, ts, p.Ref, map[string]string{"role": "anon", "table": "rpc:hello", "action": "execute"})
	if d.Allowed || !strings.Contains(d.Reason, "hello") {
		t.Fatalf("anon rpc: %+v", d)
	}
	d = check(t, ts, p.Ref, map[string]string{"role": "service_role", "table": "todos", "action": "delete"})
	if !d.Allowed || !strings.Contains(d.Reason, "bypasses") {
		t.Fatalf("service_role: %+v", d)
	}
	for name, body := range map[string]map[string]string{
		"both":           {"role": "anon", "user_id": alice, "table": "todos", "action": "select"},
		"neither":        {"table": "todos", "action": "select"},
		"bad action":     {"role": "anon", "table": "todos", "action": "read"},
		"execute table":  {"role": "anon", "table": "todos", "action": "execute"},
		"select rpc":     {"role": "anon", "table": "rpc:hello", "action": "select"},
		"unknown role":   {"role": "ghost", "table": "todos", "action": "select"},
		"bad user id":    {"user_id": "alice", "table": "todos", "action": "select"},
		"no table given": {"role": "anon", "action": "select"},
	} {
		res := ts.Admin(t, "POST", "/projects/"+p.Ref+"/rules/check", body)
		if res.Status != 400 {
			t.Errorf("%s: %d %s", name, res.Status, res.Body)
		}
	}
}

func TestUserRolesEndpoint(t *testing.T) {
	t.Parallel()
	ts, p := setup(t, "user-roles")
	putRules(t, ts, p.Ref, rules{"roles": []any{map[string]string{"role": "editor"}}})
	alice := mkUser(t, ts, p.Ref, "alice")
	path := "/projects/" + p.Ref + "/users/" + alice + "/roles"
	res := ts.Admin(t, "PUT", path, map[string]any{"roles": []string{"editor", "editor"}})
	if res.Status != 200 || string(res.Body) != `{"roles":["editor"],"user_id":"`+alice+`"}` {
		t.Fatalf("PUT roles: %d %s", res.Status, res.Body)
	}
	assertBadRequest(t, ts.Admin(t, "PUT", path, map[string]any{"roles": []string{"ghost"}}), `unknown role "ghost"`)
	assertBadRequest(t, ts.Admin(t, "PUT", path, map[string]any{"roles": []string{"authenticated"}}), "already")
	assertBadRequest(t, ts.Admin(t, "PUT", path, map[string]any{"roles": []string{"service_role"}}), "cannot be given")
	assertBadRequest(t, ts.Admin(t, "PUT", "/projects/"+p.Ref+"/users/not-a-uuid/roles", map[string]any{"roles": []string{}}), "UUID")
	// A user that does not exist gets no roles.
	if res := ts.Admin(t, "PUT", "/projects/"+p.Ref+"/users/"+bob+"/roles", map[string]any{"roles": []string{"editor"}}); res.Status != http.StatusNotFound {
		t.Fatalf("roles for an unknown user: %d %s", res.Status, res.Body)
	}
	// The failed attempts left the assignment as it was.
	d := check(t, ts, p.Ref, map[string]string{"user_id": alice, "table": "todos", "action": "select"})
	if jsonOf(t, d.Subjects) != `["user:`+alice+`","authenticated","editor"]` {
		t.Fatalf("subjects after failed PUTs: %v", d.Subjects)
	}
}
