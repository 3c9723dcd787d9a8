package restapi_test

import (
	"net/http"
	"testing"
)

// Reads of one shape reuse a statement template (every test server checks
// each reused statement against a fresh build); these are the changes it
// must follow: other values, a rule that now has a row condition or denies,
// and the schema.
func TestTemplatesFollowValuesRulesAndSchema(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "tpl", `create table notes (id int primary key, owner text not null, body text);
		insert into notes values (1, 'ann', 'a'), (2, 'bob', 'b'), (3, 'bob', 'c');`)
	rules := func(policies ...map[string]string) {
		t.Helper()
		if res := e.ts.Admin(t, "PUT", "/projects/tpl/rules", map[string]any{"policies": policies}); res.Status != http.StatusOK {
			t.Fatalf("rules: %d %s", res.Status, res.Body)
		}
	}
	get := func(path string) []byte {
		t.Helper()
		return e.ts.Rest(t, e.p, e.p.AnonKey, "GET", path, nil, nil).Body
	}
	rules(map[string]string{"role": "anon", "table": "notes", "action": "select"})
	for id, want := range map[string]string{"1": `[{"id":1,"owner":"ann","body":"a"}]`, "2": `[{"id":2,"owner":"bob","body":"b"}]`, "9": `[]`} {
		for range 2 {
			wantJSON(t, e.ts.Rest(t, e.p, e.p.AnonKey, "GET", "/notes?id=eq."+id, nil, nil), http.StatusOK, want)
		}
	}
	wantJSON(t, e.ts.Rest(t, e.p, e.p.AnonKey, "GET", "/notes?select=id&or=(id.eq.1,id.eq.3)&order=id", nil, nil), http.StatusOK, `[{"id":1},{"id":3}]`)
	wantJSON(t, e.ts.Rest(t, e.p, e.p.AnonKey, "GET", "/notes?select=id&or=(id.eq.2,id.eq.3)&order=id", nil, nil), http.StatusOK, `[{"id":2},{"id":3}]`)

	// A row condition now: the template must not serve every row.
	rules(map[string]string{"role": "anon", "table": "notes", "action": "select", "condition": "owner=eq.bob"})
	wantJSON(t, e.ts.Rest(t, e.p, e.p.AnonKey, "GET", "/notes?id=eq.1", nil, nil), http.StatusOK, `[]`)
	wantJSON(t, e.ts.Rest(t, e.p, e.p.AnonKey, "GET", "/notes?id=eq.2", nil, nil), http.StatusOK, `[{"id":2,"owner":"bob","body":"b"}]`)
	// Denied now.
	rules(map[string]string{"role": "anon", "table": "notes", "action": "insert"})
	wantError(t, e.ts.Rest(t, e.p, e.p.AnonKey, "GET", "/notes?id=eq.2", nil, nil), http.StatusUnauthorized, "PL403", "notes")

	// A new column: the schema changed, and so does select=*.
	rules(map[string]string{"role": "anon", "table": "notes", "action": "select"})
	_ = get("/notes?id=eq.1")
	e.ts.SQL(t, "tpl", `alter table notes add column tag text default 'x'`)
	wantJSON(t, e.ts.Rest(t, e.p, e.p.AnonKey, "GET", "/notes?id=eq.3", nil, nil), http.StatusOK, `[{"id":3,"owner":"bob","body":"c","tag":"x"}]`)
}
