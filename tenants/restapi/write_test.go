package restapi_test

import (
	"net/http"
	"testing"

	"github.com/plinth-dev/plinth/internal/testserver"
)

// items creates a table of its own for one write test, so write tests run
// in parallel without seeing each other's rows.
func (e *env) items(t *testing.T, name string) string {
	t.Helper()
	e.ts.SQL(t, e.p.Ref, `create table `+name+` (
		id serial primary key, name text not null unique, qty int default 7,
		tags text[], data jsonb, author_id int references authors(id));
		insert into `+name+` (name, qty) values ('one', 1), ('two', 2), ('three', 3);`)
	return "/" + name
}

var (
	repr    = map[string]string{"Prefer": "return=representation"}
	reprObj = map[string]string{"Prefer": "return=representation", "Accept": "application/vnd.pgrst.object+json"}
)

func TestWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "writes", "")

	t.Run("insert object with representation", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "ins_obj")
		res := e.do(t, "POST", p, repr, map[string]any{"name": "four", "tags": []string{"a", "b"}, "data": map[string]any{"k": []int{1}}})
		wantJSON(t, res, http.StatusCreated, `[{"id":4,"name":"four","qty":7,"tags":["a","b"],"data":{"k": [1]},"author_id":null}]`)
		wantHeader(t, res, "Content-Range", "*/*")
		wantHeader(t, res, "Preference-Applied", "return=representation")
	})
	t.Run("insert without preference answers 201 without body", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "ins_min")
		res := e.do(t, "POST", p, nil, map[string]any{"name": "four"})
		if res.Status != http.StatusCreated || len(res.Body) != 0 {
			t.Fatalf("%d %q", res.Status, res.Body)
		}
		wantJSON(t, e.do(t, "GET", p+"?select=name,qty&id=eq.4", nil, nil), http.StatusOK, `[{"name":"four","qty":7}]`)
	})
	t.Run("bulk insert with select and embed", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "ins_bulk")
		res := e.do(t, "POST", p+"?select=name,authors(name)", map[string]string{"Prefer": "return=representation,count=exact"},
			`[{"name":"a","author_id":2},{"name":"b","author_id":null}]`)
		wantJSON(t, res, http.StatusCreated, `[{"name":"a","authors":{"name":"Stanisław Lem"}},{"name":"b","authors":null}]`)
		wantHeader(t, res, "Content-Range", "*/2")
		wantHeader(t, res, "Preference-Applied", "return=representation, count=exact")
	})
	t.Run("bulk insert keys must match", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "ins_keys")
		wantSame(t, e.do(t, "POST", p, nil, `[{"name":"a"},{"name":"b","qty":1}]`), http.StatusBadRequest,
			`{"code":"PGRST102","message":"All object keys must match","details":null,"hint":null}`)
	})
	t.Run("columns parameter", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "ins_cols")
		// Keys outside columns= are ignored; missing ones are NULL...
		res := e.do(t, "POST", p+"?columns=name,qty&select=name,qty", repr, `[{"name":"a","qty":1,"junk":true},{"name":"b"}]`)
		wantJSON(t, res, http.StatusCreated, `[{"name":"a","qty":1},{"name":"b","qty":null}]`)
		// ...or their defaults with missing=default.
		res = e.do(t, "POST", p+"?columns=name,qty&select=id,name,qty", map[string]string{"Prefer": "return=representation, missing=default"}, `[{"name":"c","qty":1},{"name":"d"}]`)
		wantJSON(t, res, http.StatusCreated, `[{"id":6,"name":"c","qty":1},{"id":7,"name":"d","qty":7}]`)
		wantHeader(t, res, "Preference-Applied", "missing=default, return=representation")
	})
	t.Run("headers-only gives Location", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "ins_loc")
		res := e.do(t, "POST", p, map[string]string{"Prefer": "return=headers-only"}, map[string]any{"name": "x y"})
		if res.Status != http.StatusCreated || len(res.Body) != 0 {
			t.Fatalf("%d %q", res.Status, res.Body)
		}
		wantHeader(t, res, "Location", "/ins_loc?id=eq.4")
	})
	t.Run("upsert merge duplicates", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "ups_merge")
		res := e.do(t, "POST", p+"?select=id,name,qty&order=id", map[string]string{"Prefer": "return=representation,resolution=merge-duplicates"},
			`[{"id":1,"name":"uno","qty":10},{"id":9,"name":"nine","qty":9}]`)
		wantJSON(t, res, http.StatusCreated, `[{"id":1,"name":"uno","qty":10},{"id":9,"name":"nine","qty":9}]`)
		wantHeader(t, res, "Preference-Applied", "resolution=merge-duplicates, return=representation")
		// on_conflict names another unique key.
		res = e.do(t, "POST", p+"?on_conflict=name&select=id,name,qty", map[string]string{"Prefer": "return=representation,resolution=merge-duplicates"},
			`{"name":"two","qty":22}`)
		wantJSON(t, res, http.StatusCreated, `[{"id":2,"name":"two","qty":22}]`)
	})
	t.Run("upsert ignore duplicates", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "ups_ignore")
		res := e.do(t, "POST", p+"?select=id,name", map[string]string{"Prefer": "return=representation,resolution=ignore-duplicates"},
			`[{"id":1,"name":"uno"},{"id":8,"name":"eight"}]`)
		wantJSON(t, res, http.StatusCreated, `[{"id":8,"name":"eight"}]`)
		wantJSON(t, e.do(t, "GET", p+"?select=name&id=eq.1", nil, nil), http.StatusOK, `[{"name":"one"}]`)
	})
	t.Run("update", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "upd")
		res := e.do(t, "PATCH", p+"?qty=lt.3&select=id,qty", repr, map[string]any{"qty": 0})
		wantJSON(t, res, http.StatusOK, `[{"id":1,"qty":0},{"id":2,"qty":0}]`)
		wantHeader(t, res, "Content-Range", "0-1/*")
		res = e.do(t, "PATCH", p+"?id=eq.3", nil, map[string]any{"data": map[string]any{"a": 1}})
		if res.Status != http.StatusNoContent {
			t.Fatalf("PATCH without representation: %d %s", res.Status, res.Body)
		}
		wantHeader(t, res, "Content-Range", "0-0/*")
		wantJSON(t, e.do(t, "GET", p+"?select=data&id=eq.3", nil, nil), http.StatusOK, `[{"data":{"a": 1}}]`)
		res = e.do(t, "PATCH", p+"?id=eq.99", map[string]string{"Prefer": "count=exact"}, map[string]any{"qty": 1})
		wantHeader(t, res, "Content-Range", "*/0")
	})
	t.Run("update with order and limit", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "upd_lim")
		res := e.do(t, "PATCH", p+"?order=id.desc&limit=2", nil, map[string]any{"qty": 100})
		wantHeader(t, res, "Content-Range", "0-1/*")
		wantJSON(t, e.do(t, "GET", p+"?select=id,qty&order=id", nil, nil), http.StatusOK, `[{"id":1,"qty":1},{"id":2,"qty":100},{"id":3,"qty":100}]`)
	})
	t.Run("put inserts then replaces", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "put")
		res := e.do(t, "PUT", p+"?id=eq.10&select=id,name,qty", repr, map[string]any{"id": 10, "name": "ten", "qty": 1})
		wantJSON(t, res, http.StatusOK, `[{"id":10,"name":"ten","qty":1}]`)
		res = e.do(t, "PUT", p+"?id=eq.10&select=id,name,qty", repr, map[string]any{"id": 10, "name": "TEN", "qty": 2})
		wantJSON(t, res, http.StatusOK, `[{"id":10,"name":"TEN","qty":2}]`)
		res = e.do(t, "PUT", p+"?id=eq.1", nil, map[string]any{"id": 1, "name": "uno", "qty": 5})
		if res.Status != http.StatusNoContent {
			t.Fatalf("PUT without representation: %d %s", res.Status, res.Body)
		}
		wantJSON(t, e.do(t, "GET", p+"?select=name,qty&id=eq.1", nil, nil), http.StatusOK, `[{"name":"uno","qty":5}]`)
	})
	t.Run("put checks", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "put_bad")
		row := map[string]any{"id": 1, "name": "x"}
		wantError(t, e.do(t, "PUT", p+"?name=eq.x", nil, row), http.StatusBadRequest, "PGRST105", "primary key")
		wantError(t, e.do(t, "PUT", p+"?id=gt.1", nil, row), http.StatusBadRequest, "PGRST105", "primary key")
		wantError(t, e.do(t, "PUT", p+"?id=eq.1&name=eq.x", nil, row), http.StatusBadRequest, "PGRST105", "primary key")
		wantError(t, e.do(t, "PUT", p+"?id=eq.1&limit=1", nil, row), http.StatusBadRequest, "PGRST114", "")
		wantSame(t, e.do(t, "PUT", p+"?id=eq.2", nil, row), http.StatusBadRequest,
			`{"code":"PGRST115","message":"Payload values do not match URL in primary key column(s)","details":null,"hint":null}`)
		wantError(t, e.do(t, "PUT", p+"?id=eq.1", nil, `[{"id":1,"name":"a"},{"id":1,"name":"b"}]`), http.StatusBadRequest, "PGRST102", "")
		// Nothing changed.
		wantJSON(t, e.do(t, "GET", p+"?select=name&id=eq.1", nil, nil), http.StatusOK, `[{"name":"one"}]`)
	})
	t.Run("delete", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "del")
		res := e.do(t, "DELETE", p+"?id=gte.2&select=name&order=id", repr, nil)
		wantJSON(t, res, http.StatusOK, `[{"name":"two"},{"name":"three"}]`)
		res = e.do(t, "DELETE", p+"?id=eq.1", nil, nil)
		if res.Status != http.StatusNoContent {
			t.Fatalf("DELETE: %d %s", res.Status, res.Body)
		}
		wantJSON(t, e.do(t, "GET", p, nil, nil), http.StatusOK, `[]`)
	})
	t.Run("tx rollback", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "rollback")
		h := map[string]string{"Prefer": "return=representation, tx=rollback"}
		res := e.do(t, "POST", p+"?select=name", h, map[string]any{"name": "ghost"})
		wantJSON(t, res, http.StatusCreated, `[{"name":"ghost"}]`)
		wantHeader(t, res, "Preference-Applied", "return=representation, tx=rollback")
		wantJSON(t, e.do(t, "DELETE", p+"?select=id&order=id", h, nil), http.StatusOK, `[{"id":1},{"id":2},{"id":3}]`)
		wantJSON(t, e.do(t, "GET", p+"?select=name&order=id", nil, nil), http.StatusOK, `[{"name":"one"},{"name":"two"},{"name":"three"}]`)
		// A failing statement under tx=rollback leaves the connection usable.
		wantError(t, e.do(t, "POST", p, h, map[string]any{"name": "one"}), http.StatusConflict, "23505", "")
		wantJSON(t, e.do(t, "GET", p+"?select=id&id=eq.1", nil, nil), http.StatusOK, `[{"id":1}]`)
	})
	t.Run("singular write rolls back", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "singular")
		res := e.do(t, "PATCH", p+"?qty=lt.3", reprObj, map[string]any{"qty": 50})
		wantSame(t, res, http.StatusNotAcceptable,
			`{"code":"PGRST116","message":"JSON object requested, multiple (or no) rows returned","details":"The result contains 2 rows","hint":null}`)
		wantJSON(t, e.do(t, "GET", p+"?select=qty&order=id", nil, nil), http.StatusOK, `[{"qty":1},{"qty":2},{"qty":3}]`)
		res = e.do(t, "PATCH", p+"?id=eq.1&select=id,qty", reprObj, map[string]any{"qty": 50})
		wantJSON(t, res, http.StatusOK, `{"id":1,"qty":50}`)
		res = e.do(t, "POST", p+"?select=name", reprObj, `[{"name":"a"},{"name":"b"}]`)
		wantError(t, res, http.StatusNotAcceptable, "PGRST116", "")
		wantJSON(t, e.do(t, "GET", p+"?select=name&name=in.(a,b)", nil, nil), http.StatusOK, `[]`)
	})
	t.Run("max-affected", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "maxaff")
		h := map[string]string{"Prefer": "handling=strict, max-affected=1"}
		wantSame(t, e.do(t, "DELETE", p+"?id=lt.3", h, nil), http.StatusBadRequest,
			`{"code":"PGRST124","message":"Query result exceeds max-affected preference constraint","details":"The query affects 2 rows","hint":null}`)
		res := e.do(t, "DELETE", p+"?id=eq.1", h, nil)
		if res.Status != http.StatusNoContent {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		wantHeader(t, res, "Preference-Applied", "handling=strict, max-affected=1")
		wantJSON(t, e.do(t, "GET", p+"?select=id&order=id", nil, nil), http.StatusOK, `[{"id":2},{"id":3}]`)
	})
	t.Run("csv representation", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "csvrep")
		res := e.do(t, "POST", p+"?select=id,name", map[string]string{"Prefer": "return=representation", "Accept": "text/csv"}, `{"name":"a,b"}`)
		if res.Status != http.StatusCreated || string(res.Body) != "id,name\n4,\"a,b\"" {
			t.Fatalf("%d %q", res.Status, res.Body)
		}
	})
	t.Run("database errors", func(t *testing.T) {
		t.Parallel()
		p := e.items(t, "dberr")
		wantError(t, e.do(t, "POST", p, nil, map[string]any{"name": "one"}), http.StatusConflict, "23505", "duplicate key")
		wantError(t, e.do(t, "POST", p, nil, map[string]any{"name": "x", "author_id": 999}), http.StatusConflict, "23503", "foreign key")
		wantError(t, e.do(t, "POST", p, nil, map[string]any{"qty": 1}), http.StatusBadRequest, "23502", "not-null")
		wantError(t, e.do(t, "POST", p, nil, map[string]any{"name": "y", "qty": "many"}), http.StatusBadRequest, "22P02", "integer")
		wantError(t, e.do(t, "POST", p, nil, map[string]any{"name": "y", "tags": "notalist"}), http.StatusBadRequest, "22P02", "")
		wantError(t, e.do(t, "PATCH", p+"?id=eq.1", nil, map[string]any{"qty": 1.5}), http.StatusBadRequest, "22P02", "")
		wantError(t, e.do(t, "DELETE", "/authors?id=eq.1", nil, nil), http.StatusConflict, "23503", "")
		wantError(t, e.do(t, "POST", p, nil, map[string]any{"nope": 1}), http.StatusBadRequest, "PGRST204", "Could not find the 'nope' column of 'dberr'")
		wantError(t, e.do(t, "POST", p+"?columns=name,zzz", nil, map[string]any{"name": "z"}), http.StatusBadRequest, "PGRST204", "'zzz'")
		wantError(t, e.do(t, "POST", p, nil, `{"name":`), http.StatusBadRequest, "PGRST102", "Empty or invalid json")
		wantError(t, e.do(t, "POST", p, nil, ``), http.StatusBadRequest, "PGRST102", "")
		wantError(t, e.do(t, "POST", p, nil, `42`), http.StatusBadRequest, "PGRST102", "")
		wantError(t, e.do(t, "POST", p, nil, `[1,2]`), http.StatusBadRequest, "PGRST102", "")
		wantError(t, e.do(t, "PATCH", p, nil, `[{"qty":1}]`), http.StatusBadRequest, "PGRST102", "")
		wantError(t, e.do(t, "POST", "/nope", nil, map[string]any{"a": 1}), http.StatusNotFound, "PGRST205", "")
		wantError(t, e.do(t, "PATCH", p+"?nope=eq.1", nil, map[string]any{"qty": 1}), http.StatusBadRequest, "42703", "")
		// Nothing of the failed writes is left behind.
		wantJSON(t, e.do(t, "GET", p+"?select=id,qty&order=id", nil, nil), http.StatusOK, `[{"id":1,"qty":1},{"id":2,"qty":2},{"id":3,"qty":3}]`)
	})
	t.Run("empty object inserts defaults", func(t *testing.T) {
		t.Parallel()
		e.ts.SQL(t, e.p.Ref, `create table defaults_only (id serial primary key, at text default 'now')`)
		res := e.do(t, "POST", "/defaults_only", repr, `{}`)
		wantJSON(t, res, http.StatusCreated, `[{"id":1,"at":"now"}]`)
		res = e.do(t, "PATCH", "/defaults_only?id=eq.1", repr, `{}`)
		wantJSON(t, res, http.StatusOK, `[{"id":1,"at":"now"}]`)
		res = e.do(t, "POST", "/defaults_only", repr, `[]`)
		wantJSON(t, res, http.StatusCreated, `[]`)
	})
}

// TestCSVInsert: POST with Content-Type: text/csv inserts one row per line
// (PostgREST's CSV bulk insert); NULL is null; bad CSV is PGRST102 and
// nothing is written.
func TestCSVInsert(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "csv-in", "")
	csv := map[string]string{"Content-Type": "text/csv; charset=utf-8", "Prefer": "return=representation"}
	res := e.ts.Rest(t, e.p, e.p.ServiceKey, "POST", "/authors?select=name,country,born", csv,
		"name,country,born\nLem,PL,1921-09-12\n\"Le Guin, Ursula\",NULL,NULL\n")
	if res.Status != http.StatusCreated {
		t.Fatalf("csv insert: %d %s", res.Status, res.Body)
	}
	wantJSON(t, res, http.StatusCreated, `[{"name":"Lem","country":"PL","born":"1921-09-12"},{"name":"Le Guin, Ursula","country":null,"born":null}]`)
	before := e.ts.Rest(t, e.p, e.p.ServiceKey, "GET", "/authors?select=id", map[string]string{"Prefer": "count=exact"}, nil).Header.Get("Content-Range")
	wantError(t, e.ts.Rest(t, e.p, e.p.ServiceKey, "POST", "/authors", csv, "name,country\nonly-one-field\n"), 400, "PGRST102", "CSV")
	wantError(t, e.ts.Rest(t, e.p, e.p.ServiceKey, "POST", "/authors", csv, "name,nope\nx,y\n"), 400, "PGRST204", "nope")
	// A value Postgres cannot convert rolls the whole body back.
	wantError(t, e.ts.Rest(t, e.p, e.p.ServiceKey, "POST", "/authors", csv, "name,born\nok,1950-01-01\nbad,not-a-date\n"), 400, "22007", "")
	if after := e.ts.Rest(t, e.p, e.p.ServiceKey, "GET", "/authors?select=id", map[string]string{"Prefer": "count=exact"}, nil).Header.Get("Content-Range"); after != before {
		t.Fatalf("failed CSV writes left rows: %s -> %s", before, after)
	}
}

// An update or delete that returns nothing reads only the columns its
// filters name, as in PostgREST (RETURNING 1): a role with column-level
// SELECT may still change and remove rows, and only a representation needs
// the right to read every column.
func TestWritesWithColumnPrivileges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "colpriv", "")
	anon := e.p.Schema + "_anon"
	e.ts.SQL(t, "colpriv", `create table notes (id int primary key, body text not null, secret text);
		insert into notes values (1, 'a', 's1'), (2, 'b', 's2'), (3, 'c', 's3');
		revoke all on notes from `+anon+`;
		grant select (id, body) on notes to `+anon+`;
		grant update (body) on notes to `+anon+`;
		grant delete on notes to `+anon+`;`)
	if res := e.ts.Admin(t, "PUT", "/projects/colpriv/rules", map[string]any{"policies": []map[string]string{
		{"role": "anon", "table": "notes", "action": "*"},
	}}); res.Status != http.StatusOK {
		t.Fatalf("rules: %d %s", res.Status, res.Body)
	}
	anonDo := func(method, path string, headers map[string]string, body any) *testserver.Response {
		return e.ts.Rest(t, e.p, e.p.AnonKey, method, path, headers, body)
	}
	if res := anonDo("PATCH", "/notes?id=eq.1", nil, map[string]any{"body": "A"}); res.Status != http.StatusNoContent {
		t.Fatalf("update: %d %s", res.Status, res.Body)
	}
	res := anonDo("DELETE", "/notes?id=eq.2", nil, nil)
	if res.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	wantHeader(t, res, "Content-Range", "0-0/*") // one row, counted without reading it
	// A representation reads every column: refused, and nothing is left behind.
	wantError(t, anonDo("PATCH", "/notes?id=eq.3", repr, map[string]any{"body": "C"}), http.StatusUnauthorized, "42501", "permission denied")
	wantError(t, anonDo("DELETE", "/notes?id=eq.3", repr, nil), http.StatusUnauthorized, "42501", "permission denied")
	wantJSON(t, e.do(t, "GET", "/notes?order=id", nil, nil), http.StatusOK, `[{"id":1,"body":"A","secret":"s1"},{"id":3,"body":"c","secret":"s3"}]`)
}
