package restapi_test

import (
	"net/http"
	"testing"

	"github.com/plinth-dev/plinth/internal/testserver"
)

// TestComputedFields: a function taking a table's row is a column of that
// table for select, filters, order, embeds and representations (PostgREST's
// computed fields); it is not part of *, and callers need execute on it.
func TestComputedFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "computed", `
create function label(authors) returns text language sql stable as $$ select $1.name || coalesce(' (' || $1.country || ')', '') $$;
create function "Shout"(a authors) returns text language sql immutable as $$ select upper(a.name) $$;`)
	key := e.p.ServiceKey
	get := func(path string) *testserver.Response { return e.ts.Rest(t, e.p, key, "GET", path, nil, nil) }
	wantJSON(t, get("/authors?select=name,label&id=eq.2"), http.StatusOK, `[{"name":"Stanisław Lem","label":"Stanisław Lem (PL)"}]`)
	wantJSON(t, get("/authors?select=id&label=eq.Nobody"), http.StatusOK, `[{"id":4}]`)
	wantJSON(t, get("/authors?select=id&label=like.*US*&order=label.desc"), http.StatusOK, `[{"id":1},{"id":3}]`)
	wantJSON(t, get("/authors?select=id,upper:Shout&id=eq.1"), http.StatusOK, `[{"id":1,"upper":"URSULA K. LE GUIN"}]`)
	wantJSON(t, get("/books?select=title,authors(label)&id=eq.3"), http.StatusOK, `[{"title":"Solaris","authors":{"label":"Stanisław Lem (PL)"}}]`)
	// Not part of *.
	res := get("/authors?select=*&id=eq.2")
	wantJSON(t, res, http.StatusOK, `[{"id":2,"name":"Stanisław Lem","country":"PL","born":"1921-09-12"}]`)
	// Written rows come from a CTE; the function still gets a proper row.
	res = e.ts.Rest(t, e.p, key, "POST", "/authors?select=label", map[string]string{"Prefer": "return=representation"}, map[string]any{"name": "Tove", "country": "FI"})
	wantJSON(t, res, http.StatusCreated, `[{"label":"Tove (FI)"}]`)
	wantError(t, get("/authors?select=nope"), http.StatusBadRequest, "42703", "nope")

	// Rules: reading authors is not enough to call label.
	if res := e.ts.Admin(t, "PUT", "/projects/computed/rules", map[string]any{"policies": []map[string]string{
		{"role": "anon", "table": "authors", "action": "select"},
	}}); res.Status != http.StatusOK {
		t.Fatalf("rules: %d %s", res.Status, res.Body)
	}
	wantJSON(t, e.ts.Rest(t, e.p, e.p.AnonKey, "GET", "/authors?select=id&id=eq.2", nil, nil), http.StatusOK, `[{"id":2}]`)
	wantError(t, e.ts.Rest(t, e.p, e.p.AnonKey, "GET", "/authors?select=label&id=eq.2", nil, nil), http.StatusUnauthorized, "PL403", "label")
}
