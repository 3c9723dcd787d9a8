package openapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/tenants/schema"
)

func table(name, kind string, insertable bool, cols ...*schema.Column) *schema.Table {
	t := &schema.Table{Name: name, Kind: kind, Insertable: insertable, ColumnIndex: map[string]*schema.Column{}}
	for i, c := range cols {
		c.Position = i + 1
		t.Columns = append(t.Columns, c)
		t.ColumnIndex[c.Name] = c
		if c.IsPK {
			t.PrimaryKey = append(t.PrimaryKey, c.Name)
		}
	}
	return t
}

// fixture is what schema.Load reads for a small bookshop (format_type names
// of project types come schema-qualified, as the control plane reads them).
func fixture() *schema.Schema {
	authors := table("authors", "table", true,
		&schema.Column{Name: "id", Type: "bigint", TypeName: "int8", Category: "N", Identity: true, IsPK: true},
		&schema.Column{Name: "name", Type: "text", TypeName: "text", Category: "S", Comment: "Pen name"},
	)
	authors.Comment = "People who write"
	books := table("books", "table", true,
		&schema.Column{Name: "id", Type: "integer", TypeName: "int4", Category: "N", Default: "nextval('books_id_seq'::regclass)", IsPK: true},
		&schema.Column{Name: "title", Type: "character varying(200)", TypeName: "varchar", Category: "S"},
		&schema.Column{Name: "author_id", Type: "bigint", TypeName: "int8", Category: "N", Nullable: true},
		&schema.Column{Name: "genre", Type: "p_shop.genre", TypeName: "genre", Category: "E", EnumVals: []string{"fiction", "poetry"}, Nullable: true, Default: "'fiction'::p_shop.genre"},
		&schema.Column{Name: "keywords", Type: "text[]", TypeName: "_text", Category: "A", Default: "'{}'::text[]"},
		&schema.Column{Name: "moods", Type: "p_shop.genre[]", TypeName: "_genre", Category: "A", EnumVals: []string{"fiction", "poetry"}, Nullable: true},
		&schema.Column{Name: "meta", Type: "jsonb", TypeName: "jsonb", Category: "U", Nullable: true, Default: "'{}'::jsonb"},
		&schema.Column{Name: "price", Type: "numeric(8,2)", TypeName: "numeric", Category: "N", Default: "'-1.50'::numeric"},
		&schema.Column{Name: "in_print", Type: "boolean", TypeName: "bool", Category: "B", Default: "true"},
		&schema.Column{Name: "published", Type: "timestamp with time zone", TypeName: "timestamptz", Category: "D", Nullable: true, Default: "now()"},
		&schema.Column{Name: "slug", Type: "text", TypeName: "text", Category: "S", Generated: true},
	)
	books.ForeignKeys = []*schema.ForeignKey{{Name: "books_author_id_fkey", Table: "books", Columns: []string{"author_id"}, RefTable: "authors", RefColumns: []string{"id"}}}
	view := table("book titles", "view", false,
		&schema.Column{Name: "title", Type: "text", TypeName: "text", Category: "S", Nullable: true},
	)
	return &schema.Schema{
		Name:   "p_shop",
		Tables: map[string]*schema.Table{"authors": authors, "books": books, "book titles": view},
		Functions: map[string][]*schema.Function{
			"add":        {{Name: "add", Args: []schema.Arg{{Name: "a", Type: "integer"}, {Name: "b", Type: "integer", HasDefault: true}}, ReturnType: "integer"}},
			"by_genre":   {{Name: "by_genre", Args: []schema.Arg{{Name: "g", Type: "p_shop.genre"}}, ReturnType: "p_shop.books", ReturnsSet: true}},
			"ping":       {{Name: "ping", ReturnType: "void"}},
			"touch":      {{Name: "touch", ReturnType: "trigger"}},
			"raw":        {{Name: "raw", Args: []schema.Arg{{Type: "json"}}, ReturnType: "json"}},
			"overloaded": {{Name: "overloaded", Args: []schema.Arg{{Name: "x", Type: "text"}}, ReturnType: "text"}, {Name: "overloaded", Args: []schema.Arg{{Name: "y", Type: "integer[]"}}, ReturnType: "text"}},
		},
	}
}

// doc builds the fixture's document and decodes it generically, so the
// assertions see exactly the JSON clients get.
func doc(t *testing.T) map[string]any {
	t.Helper()
	return docWith(t, Options{Ref: "shop", ServerURL: "https://api.example.com/p/shop/rest/v1"})
}

func docWith(t *testing.T, o Options) map[string]any {
	t.Helper()
	b, err := Build(fixture(), o).JSON()
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// at walks a decoded document by keys.
func at(t *testing.T, v any, path ...string) any {
	t.Helper()
	for i, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s is not an object", strings.Join(path[:i], "/"))
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("%s has no %q", strings.Join(path[:i], "/"), k)
		}
	}
	return v
}

func TestDocumentShape(t *testing.T) {
	d := doc(t)
	if d["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", d["openapi"])
	}
	if got := at(t, d, "servers").([]any)[0].(map[string]any)["url"]; got != "https://api.example.com/p/shop/rest/v1" {
		t.Fatalf("server url %v", got)
	}
	paths := at(t, d, "paths").(map[string]any)
	var names []string
	for p := range paths {
		names = append(names, p)
	}
	for _, want := range []string{"/", "/authors", "/books", "/book%20titles", "/rpc/add", "/rpc/by_genre", "/rpc/ping", "/rpc/overloaded"} {
		if _, ok := paths[want]; !ok {
			t.Errorf("missing path %s (have %v)", want, names)
		}
	}
	// Triggers and functions without named arguments are not callable by
	// PostgREST's named-argument convention.
	for _, absent := range []string{"/rpc/touch", "/rpc/raw"} {
		if _, ok := paths[absent]; ok {
			t.Errorf("unexpected path %s", absent)
		}
	}
	// A view that cannot be written has only GET.
	view := paths["/book%20titles"].(map[string]any)
	if _, ok := view["post"]; ok || view["get"] == nil {
		t.Errorf("view operations: %v", view)
	}
	books := paths["/books"].(map[string]any)
	for _, m := range []string{"get", "post", "patch", "delete"} {
		if books[m] == nil {
			t.Errorf("books lacks %s", m)
		}
	}
	// GET carries a filter per column plus PostgREST's paging parameters.
	var refs []string
	for _, p := range at(t, books, "get", "parameters").([]any) {
		refs = append(refs, p.(map[string]any)["$ref"].(string))
	}
	for _, want := range []string{"rowFilter.books.title", "rowFilter.books.genre", "/select", "/order", "/limit", "/offset", "/range", "/preferParams"} {
		if !strings.Contains(strings.Join(refs, " "), want) {
			t.Errorf("books GET lacks %s: %v", want, refs)
		}
	}
	// Every $ref resolves.
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok {
				parts := strings.Split(strings.TrimPrefix(r, "#/"), "/")
				for i := range parts {
					parts[i] = strings.ReplaceAll(strings.ReplaceAll(parts[i], "~1", "/"), "~0", "~")
				}
				at(t, d, parts...)
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(d)
	// operationIds are unique.
	seen := map[string]bool{}
	for _, item := range paths {
		for _, op := range item.(map[string]any) {
			id := op.(map[string]any)["operationId"].(string)
			if seen[id] {
				t.Errorf("duplicate operationId %s", id)
			}
			seen[id] = true
		}
	}
}

func TestRowSchema(t *testing.T) {
	d := doc(t)
	books := at(t, d, "components", "schemas", "books").(map[string]any)
	props := books["properties"].(map[string]any)
	check := func(col string, key string, want any) {
		t.Helper()
		got := at(t, props, col)
		got, ok := got.(map[string]any)[key]
		if !ok && want == nil {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s.%s = %#v, want %#v", col, key, got, want)
		}
	}
	check("id", "type", "integer")
	check("id", "format", "integer")
	check("id", "description", "Note:\nThis is a Primary Key.<pk/>\n\nDefault: `nextval('books_id_seq'::regclass)`")
	check("title", "type", "string")
	check("title", "maxLength", float64(200))
	check("author_id", "type", []any{"integer", "null"})
	check("author_id", "description", "Note:\nThis is a Foreign Key to `authors.id`.<fk table='authors' column='id'/>")
	check("genre", "format", "genre")
	check("genre", "enum", []any{"fiction", "poetry", nil})
	check("genre", "default", "fiction")
	check("keywords", "type", "array")
	check("keywords", "items", map[string]any{"type": "string"})
	check("moods", "items", map[string]any{"type": "string", "enum": []any{"fiction", "poetry"}})
	check("meta", "type", nil)
	check("meta", "default", map[string]any{})
	check("price", "type", "number")
	check("price", "default", -1.5)
	check("in_print", "default", true)
	check("published", "type", []any{"string", "null"})
	check("published", "format", "timestamp with time zone")
	check("published", "description", "Default: `now()`")
	check("slug", "readOnly", true)
	// Required: not null, no default, not identity or generated.
	if got := books["required"]; !reflect.DeepEqual(got, []any{"title"}) {
		t.Errorf("books required = %v", got)
	}
	authors := at(t, d, "components", "schemas", "authors").(map[string]any)
	if _, ok := authors["required"]; !ok || !reflect.DeepEqual(authors["required"], []any{"name"}) {
		t.Errorf("authors required = %v", authors["required"])
	}
	// Properties keep column order.
	b, _ := Build(fixture(), Options{}).JSON()
	if i, j := strings.Index(string(b), `"title":{`), strings.Index(string(b), `"author_id":{`); i < 0 || j < i {
		t.Errorf("columns out of order")
	}
	// Names that are not component keys are made safe.
	if _, ok := at(t, d, "components", "schemas").(map[string]any)["book_titles"]; !ok {
		t.Errorf("view schema key not sanitised")
	}
}

func TestFunctions(t *testing.T) {
	d := doc(t)
	add := at(t, d, "paths", "/rpc/add", "post", "requestBody", "content", "application/json", "schema").(map[string]any)
	if !reflect.DeepEqual(add["required"], []any{"a"}) {
		t.Errorf("add required = %v", add["required"])
	}
	if got := at(t, add, "properties", "b", "type"); got != "integer" {
		t.Errorf("add.b type %v", got)
	}
	if got := at(t, d, "paths", "/rpc/add", "post", "responses", "200", "content", "application/json", "schema", "type"); got != "integer" {
		t.Errorf("add result %v", got)
	}
	set := at(t, d, "paths", "/rpc/by_genre", "post", "responses", "200", "content", "application/json", "schema").(map[string]any)
	if set["type"] != "array" || at(t, set, "items", "$ref") != "#/components/schemas/books" {
		t.Errorf("by_genre result %v", set)
	}
	if got := at(t, d, "paths", "/rpc/by_genre", "post", "requestBody", "content", "application/json", "schema", "properties", "g", "enum"); !reflect.DeepEqual(got, []any{"fiction", "poetry"}) {
		t.Errorf("enum argument %v", got)
	}
	if got := at(t, d, "paths", "/rpc/overloaded", "post", "requestBody", "content", "application/json", "schema", "oneOf").([]any); len(got) != 2 {
		t.Errorf("overloads %v", got)
	}
	if _, ok := at(t, d, "paths", "/rpc/ping", "post", "responses").(map[string]any)["204"]; !ok {
		t.Errorf("void function has no 204")
	}
	var names []string
	for _, p := range at(t, d, "paths", "/rpc/add", "get", "parameters").([]any) {
		names = append(names, p.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "a,b" {
		t.Errorf("GET /rpc/add parameters %v", names)
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := Build(fixture(), Options{Ref: "shop"}).JSON()
	for range 5 {
		b, _ := Build(fixture(), Options{Ref: "shop"}).JSON()
		if string(a) != string(b) {
			t.Fatal("two builds of one schema differ")
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	s := fixture()
	for i := range 40 { // a mid-sized project: 40 more tables of 12 columns
		name := "t" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		var cols []*schema.Column
		for j := range 12 {
			cols = append(cols, &schema.Column{Name: "c" + string(rune('a'+j)), Type: "text", TypeName: "text", Category: "S", Nullable: true})
		}
		s.Tables[name] = table(name, "table", true, cols...)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(s, Options{Ref: "shop"}).JSON(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFollowsPrivileges: with Allow the document shows only what the caller
// may use, and still defines every row type it refers to.
func TestFollowsPrivileges(t *testing.T) {
	allowed := map[string]bool{"authors select": true, "rpc:by_genre execute": true, "rpc:add execute": true}
	out := docWith(t, Options{Ref: "shop", Allow: func(object, action string) bool { return allowed[object+" "+action] }})
	paths := at(t, out, "paths").(map[string]any)
	var names []string
	for p := range paths {
		names = append(names, p)
	}
	want := map[string]bool{"/": true, "/authors": true, "/rpc/by_genre": true, "/rpc/add": true}
	if len(paths) != len(want) {
		t.Fatalf("paths %v, want %v", names, want)
	}
	for p := range want {
		if paths[p] == nil {
			t.Fatalf("paths %v lack %s", names, p)
		}
	}
	authors := paths["/authors"].(map[string]any)
	if authors["get"] == nil || authors["post"] != nil || authors["patch"] != nil || authors["delete"] != nil {
		t.Fatalf("/authors operations: %v", authors)
	}
	// books is hidden, but by_genre returns its rows: the row schema stays
	// defined (and every $ref resolves); its filters and bodies do not.
	schemas := at(t, out, "components", "schemas").(map[string]any)
	if schemas["books"] == nil {
		t.Fatal("by_genre refers to books, whose row schema is gone")
	}
	if bodies, _ := at(t, out, "components").(map[string]any)["requestBodies"].(map[string]any); len(bodies) != 0 {
		t.Fatalf("request bodies of tables the caller cannot write: %v", bodies)
	}
	for k := range at(t, out, "components", "parameters").(map[string]any) {
		if strings.HasPrefix(k, "rowFilter.books.") {
			t.Fatalf("filter %s of a hidden table", k)
		}
	}
	refs := map[string]bool{}
	collectRefs(out, refs)
	for r := range refs {
		parts := strings.Split(strings.TrimPrefix(r, "#/"), "/")
		at(t, out, parts...)
	}

	// Nothing allowed: only the description itself.
	d := Build(fixture(), Options{Ref: "shop", Allow: func(string, string) bool { return false }})
	if len(d.Paths) != 1 || len(d.Components.Schemas) != 1 {
		t.Fatalf("deny-all document: %d paths, %d schemas", len(d.Paths), len(d.Components.Schemas))
	}
}

func collectRefs(v any, into map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				into[s] = true
			}
			collectRefs(x, into)
		}
	case []any:
		for _, x := range v {
			collectRefs(x, into)
		}
	}
}
