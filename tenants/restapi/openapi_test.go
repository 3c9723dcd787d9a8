package restapi_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"testing"
)

// TestOpenAPIFollowsRules: GET /rest/v1/ describes what the caller's access
// rules let it use; service_role sees every table and function.
func TestOpenAPIFollowsRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "oapi", "")
	if res := e.ts.Admin(t, "PUT", "/projects/oapi/rules", map[string]any{"policies": []map[string]string{
		{"role": "anon", "table": "authors", "action": "select"},
		{"role": "anon", "table": "books", "action": "insert"},
		{"role": "anon", "table": "rpc:add", "action": "execute"},
	}}); res.Status != http.StatusOK {
		t.Fatalf("rules: %d %s", res.Status, res.Body)
	}
	paths := func(key string) map[string]map[string]any {
		t.Helper()
		res := e.ts.Rest(t, e.p, key, "GET", "/", nil, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("openapi: %d %s", res.Status, res.Body)
		}
		var doc struct {
			Paths map[string]map[string]any `json:"paths"`
		}
		if err := json.Unmarshal(res.Body, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Paths
	}
	anon := paths(e.p.AnonKey)
	var names []string
	for p := range anon {
		names = append(names, p)
	}
	sort.Strings(names)
	if want := []string{"/", "/authors", "/books", "/rpc/add"}; len(names) != len(want) || names[1] != "/authors" || names[2] != "/books" || names[3] != "/rpc/add" {
		t.Fatalf("anon paths %v, want %v", names, want)
	}
	if a := anon["/authors"]; a["get"] == nil || a["post"] != nil || a["delete"] != nil {
		t.Fatalf("/authors for anon: %v", a)
	}
	if b := anon["/books"]; b["get"] != nil || b["post"] == nil || b["patch"] != nil {
		t.Fatalf("/books for anon: %v", b)
	}
	all := paths(e.p.ServiceKey)
	for _, p := range []string{"/tags", "/long_books", "/rpc/books_by", "/messages"} {
		if all[p] == nil {
			t.Fatalf("service_role lacks %s", p)
		}
	}
}
