package sqlgen

import (
	"reflect"
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/tenants/query"
)

func TestWriteSQL(t *testing.T) {
	t.Parallel()
	s := testSchema()
	minimal := func(raw string) *Request { r := req(raw); r.NoBody = true; return r }
	cases := []struct {
		name  string
		build func() (*Statement, error)
		sql   string
		args  []any
	}{
		{"insert object", func() (*Statement, error) {
			return Insert(s, "authors", minimal(""), []byte(` {"name":"x","country":"US"} `))
		},
			`insert into "p_demo"."authors" as t0 ("name", "country") select _b."name", _b."country" from json_populate_recordset(null::"p_demo"."authors", $1::json) _b returning '', 1, null::bigint, null::text`,
			[]any{`[{"name":"x","country":"US"}]`}},
		{"insert object counted", func() (*Statement, error) {
			r := minimal("")
			r.Prefer.Count = query.CountExact
			return Insert(s, "authors", r, []byte(`{"name":"x","country":"US"}`))
		},
			`with pgrst_source as (insert into "p_demo"."authors" as t0 ("name", "country") select _b."name", _b."country" from json_populate_recordset(null::"p_demo"."authors", $1::json) _b returning 1) select '', count(*), count(*), null::text from (select from pgrst_source t0) _r`,
			[]any{`[{"name":"x","country":"US"}]`}},
		{"insert array with columns", func() (*Statement, error) {
			return Insert(s, "authors", minimal("columns=name"), []byte(`[{"name":"a","junk":1},{"name":"b"}]`))
		},
			`with pgrst_source as (insert into "p_demo"."authors" as t0 ("name") select _b."name" from json_populate_recordset(null::"p_demo"."authors", $1::json) _b returning 1) select '', count(*), null::bigint, null::text from (select from pgrst_source t0) _r`,
			[]any{`[{"name":"a","junk":1},{"name":"b"}]`}},
		{"missing default", func() (*Statement, error) {
			r := minimal("columns=id,name")
			r.Prefer.Missing = query.MissingDefault
			return Insert(s, "authors", r, []byte(`[{"id":1},{"name":"x"}]`))
		},
			`with pgrst_source as (insert into "p_demo"."authors" as t0 ("id", "name") select case when _j.v -> 'id' is not null then _b."id" else (nextval('authors_id_seq'::regclass)) end, case when _j.v -> 'name' is not null then _b."name" else null end from json_array_elements($1::json) with ordinality _j(v, n), lateral json_populate_record(null::"p_demo"."authors", _j.v) _b order by _j.n returning 1) select '', count(*), null::bigint, null::text from (select from pgrst_source t0) _r`,
			[]any{`[{"id":1},{"name":"x"}]`}},
		{"upsert merge on_conflict", func() (*Statement, error) {
			r := minimal("on_conflict=name")
			r.Prefer.Resolution = query.MergeDuplicates
			return Insert(s, "authors", r, []byte(`{"name":"x","country":"PL"}`))
		},
			`with pgrst_source as (insert into "p_demo"."authors" as t0 ("name", "country") select _b."name", _b."country" from json_populate_recordset(null::"p_demo"."authors", $1::json) _b on conflict ("name") do update set "name" = excluded."name", "country" = excluded."country" returning 1) select '', count(*), null::bigint, null::text from (select from pgrst_source t0) _r`,
			[]any{`[{"name":"x","country":"PL"}]`}},
		{"upsert ignore", func() (*Statement, error) {
			r := minimal("")
			r.Prefer.Resolution = query.IgnoreDuplicates
			return Insert(s, "nokey", r, []byte(`{"a":"x"}`))
		},
			`with pgrst_source as (insert into "p_demo"."nokey" as t0 ("a") select _b."a" from json_populate_recordset(null::"p_demo"."nokey", $1::json) _b on conflict do nothing returning 1) select '', count(*), null::bigint, null::text from (select from pgrst_source t0) _r`,
			[]any{`[{"a":"x"}]`}},
		{"update with representation and embed", func() (*Statement, error) {
			return Update(s, "books", req("id=eq.1&select=id,authors(name)"), []byte(`{"title":"t"}`))
		},
			`with pgrst_source as (update "p_demo"."books" as t0 set "title" = _b."title" from json_populate_record(null::"p_demo"."books", $2::json) _b where (t0."id" = $1) returning t0.*) select coalesce(json_agg(_r), '[]')::text, count(*), null::bigint, null::text from (select t0."id" as "id", e2.j as "authors" from pgrst_source t0 left join lateral (select row_to_json(e2_r) as j from (select t1."name" as "name" from "p_demo"."authors" t1 where t1."id" = t0."author_id") e2_r) e2 on true) _r`,
			[]any{"1", `{"title":"t"}`}},
		{"update minimal", func() (*Statement, error) {
			return Update(s, "books", minimal("id=eq.1"), []byte(`{"title":"t"}`))
		},
			`with pgrst_source as (update "p_demo"."books" as t0 set "title" = _b."title" from json_populate_record(null::"p_demo"."books", $2::json) _b where (t0."id" = $1) returning 1) select '', count(*), null::bigint, null::text from (select from pgrst_source t0) _r`,
			[]any{"1", `{"title":"t"}`}},
		{"delete limited", func() (*Statement, error) { return Delete(s, "books", minimal("pages=gt.5&order=id&limit=2")) },
			`with pgrst_source as (delete from "p_demo"."books" as t0 where t0.ctid = any(array(select t0.ctid from "p_demo"."books" t0 where (t0."pages" > $1) order by t0."id" limit 2)) returning 1) select '', count(*), null::bigint, null::text from (select from pgrst_source t0) _r`,
			[]any{"5"}},
		{"put", func() (*Statement, error) {
			return Put(s, "authors", minimal("id=eq.7"), []byte(`{"id":7,"name":"x"}`))
		},
			`with pgrst_source as (insert into "p_demo"."authors" as t0 ("id", "name") select _b."id", _b."name" from json_populate_recordset(null::"p_demo"."authors", $4::json) _b where case when _b."id" is distinct from $1 then plinth_api.raise('PGRST', ($2::jsonb)::text, $3) else true end on conflict ("id") do update set "id" = excluded."id", "name" = excluded."name" returning 1) select '', count(*), null::bigint, null::text from (select from pgrst_source t0) _r`,
			[]any{"7", `{"code":"PGRST115","details":null,"hint":null,"message":"Payload values do not match URL in primary key column(s)"}`, `{"status":400}`, `[{"id":7,"name":"x"}]`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := c.build()
			if err != nil {
				t.Fatal(err)
			}
			if st.SQL != c.sql {
				t.Fatalf("sql\n got %s\nwant %s", st.SQL, c.sql)
			}
			if !reflect.DeepEqual(st.Args, c.args) {
				t.Fatalf("args\n got %q\nwant %q", st.Args, c.args)
			}
			if st.ReadOnly {
				t.Fatal("a write marked read-only")
			}
		})
	}

	t.Run("location of a single insert", func(t *testing.T) {
		r := minimal("")
		r.Prefer.Return = query.ReturnHeadersOnly
		st, err := Insert(testSchema(), "book_tags", r, []byte(`{"book_id":1,"tag_id":2}`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(st.SQL, `(select json_build_array(t0."book_id"::text, t0."tag_id"::text)::text from pgrst_source t0 limit 1)`) ||
			!reflect.DeepEqual(st.PrimaryKey, []string{"book_id", "tag_id"}) {
			t.Fatalf("%s %v", st.SQL, st.PrimaryKey)
		}
	})
	t.Run("max-affected with strict handling", func(t *testing.T) {
		r := minimal("id=gt.1")
		n := int64(3)
		r.Prefer.MaxAffected, r.Prefer.Handling = &n, query.HandlingStrict
		st, err := Delete(testSchema(), "books", r)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(st.SQL, "select case when count(*) > 3 then plinth_api.raise('PGRST'") {
			t.Fatal(st.SQL)
		}
		r.Prefer.Handling = ""
		if st, _ := Delete(testSchema(), "books", r); strings.Contains(st.SQL, "count(*) > 3") {
			t.Fatal("max-affected applied without handling=strict")
		}
	})
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	s := testSchema()
	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"unknown table", func() error { _, err := Insert(s, "nope", req(""), []byte(`{}`)); return err }(), 404, "PGRST205"},
		{"invalid json", func() error { _, err := Insert(s, "authors", req(""), []byte(`{"a":`)); return err }(), 400, "PGRST102"},
		{"empty body", func() error { _, err := Insert(s, "authors", req(""), nil); return err }(), 400, "PGRST102"},
		{"scalar body", func() error { _, err := Insert(s, "authors", req(""), []byte(`"x"`)); return err }(), 400, "PGRST102"},
		{"array of scalars", func() error { _, err := Insert(s, "authors", req(""), []byte(`[1]`)); return err }(), 400, "PGRST102"},
		{"keys differ", func() error {
			_, err := Insert(s, "authors", req(""), []byte(`[{"name":"a"},{"country":"b"}]`))
			return err
		}(), 400, "PGRST102"},
		{"unknown payload column", func() error { _, err := Insert(s, "authors", req(""), []byte(`{"nope":1}`)); return err }(), 400, "PGRST204"},
		{"unknown columns= column", func() error { _, err := Insert(s, "authors", req("columns=nope"), []byte(`{"name":1}`)); return err }(), 400, "PGRST204"},
		{"unknown on_conflict", func() error {
			r := req("on_conflict=nope")
			r.Prefer.Resolution = query.MergeDuplicates
			_, err := Insert(s, "authors", r, []byte(`{"name":1}`))
			return err
		}(), 400, "42703"},
		{"merge without key", func() error {
			r := req("")
			r.Prefer.Resolution = query.MergeDuplicates
			_, err := Insert(s, "nokey", r, []byte(`{"a":1}`))
			return err
		}(), 400, "PGRST100"},
		{"patch array", func() error { _, err := Update(s, "authors", req(""), []byte(`[{"name":"a"}]`)); return err }(), 400, "PGRST102"},
		{"patch unknown filter", func() error { _, err := Update(s, "authors", req("nope=eq.1"), []byte(`{"name":"a"}`)); return err }(), 400, "42703"},
		{"delete unknown filter", func() error { _, err := Delete(s, "authors", req("or=(nope.eq.1)")); return err }(), 400, "42703"},
		{"put without pk filter", func() error { _, err := Put(s, "authors", req("name=eq.x"), []byte(`{"id":1}`)); return err }(), 400, "PGRST105"},
		{"put extra filter", func() error { _, err := Put(s, "authors", req("id=eq.1&name=eq.x"), []byte(`{"id":1}`)); return err }(), 400, "PGRST105"},
		{"put twice the key", func() error { _, err := Put(s, "authors", req("id=eq.1&id=eq.2"), []byte(`{"id":1}`)); return err }(), 400, "PGRST105"},
		{"put not eq", func() error { _, err := Put(s, "authors", req("id=gte.1"), []byte(`{"id":1}`)); return err }(), 400, "PGRST105"},
		{"put no pk", func() error { _, err := Put(s, "nokey", req("a=eq.1"), []byte(`{"a":1}`)); return err }(), 400, "PGRST105"},
		{"put limit", func() error { _, err := Put(s, "authors", req("id=eq.1&limit=1"), []byte(`{"id":1}`)); return err }(), 400, "PGRST114"},
		{"put many rows", func() error { _, err := Put(s, "authors", req("id=eq.1"), []byte(`[{"id":1},{"id":1}]`)); return err }(), 400, "PGRST102"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantCode(t, c.err, c.status, c.code) })
	}
}

func TestCallSQL(t *testing.T) {
	t.Parallel()
	s := testSchema()
	call := func(fn, raw string, in CallInput) *Statement {
		t.Helper()
		st, err := Call(s, fn, req(raw), in)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := call("add", "", CallInput{Body: []byte(`{"b":2,"a":1}`)})
	want := `with pgrst_source as materialized (select t0.pgrst_scalar from json_to_record($1::json) as _a("b" integer, "a" integer), lateral "p_demo"."add"("b" := _a."b", "a" := _a."a") t0(pgrst_scalar)) select coalesce((json_agg(_r.pgrst_scalar)->0)::text, 'null'), count(*), null::bigint, null::text from (select t0.pgrst_scalar from pgrst_source t0) _r`
	if st.SQL != want || !st.ReadOnly || !st.Scalar {
		t.Fatalf("POST scalar:\n%s", st.SQL)
	}
	st = call("add", "", CallInput{Get: true, Args: []query.Arg{{Name: "a", Value: "1"}, {Name: "b", Value: "2"}}})
	if !strings.Contains(st.SQL, `"p_demo"."add"("a" := $1::integer, "b" := $2::integer) t0(pgrst_scalar)`) || !reflect.DeepEqual(st.Args, []any{"1", "2"}) {
		t.Fatalf("GET scalar: %s %q", st.SQL, st.Args)
	}
	st = call("hello", "", CallInput{Body: []byte(`{"name":"a","greeting":"b"}`)})
	if !strings.Contains(st.SQL, `"p_demo"."hello"("name" := _a."name", "greeting" := _a."greeting")`) {
		t.Fatalf("overload: %s", st.SQL)
	}
	st = call("books_by", "select=id,authors(name)&id=gt.1&order=id&limit=2", CallInput{Body: []byte(`{"author":1}`)})
	want = `with pgrst_source as materialized (select t0.* from json_to_record($1::json) as _a("author" integer), lateral "p_demo"."books_by"("author" := _a."author") t0) select coalesce(json_agg(_r), '[]')::text, count(*), null::bigint, null::text from (select t0."id" as "id", e2.j as "authors" from pgrst_source t0 left join lateral (select row_to_json(e2_r) as j from (select t1."name" as "name" from "p_demo"."authors" t1 where t1."id" = t0."author_id") e2_r) e2 on true where (t0."id" > $2) order by t0."id" limit 2) _r`
	if st.SQL != want || st.Scalar {
		t.Fatalf("setof table:\n%s", st.SQL)
	}
	st = call("stats", "n=gt.1", CallInput{Get: true})
	if !strings.Contains(st.SQL, `(select t0.* from "p_demo"."stats"() t0)`) || !strings.Contains(st.SQL, `where (t0."n" > $1)`) {
		t.Fatalf("returns table: %s", st.SQL)
	}
	st = call("noop", "", CallInput{})
	if !st.Void || st.ReadOnly {
		t.Fatalf("void: %+v", st)
	}
	st = call("echo", "", CallInput{Body: []byte(`{"any":"thing"}`)})
	if !strings.Contains(st.SQL, `"p_demo"."echo"($1::jsonb) t0(pgrst_scalar)`) || st.Args[0] != `{"any":"thing"}` {
		t.Fatalf("whole body: %s", st.SQL)
	}

	for _, c := range []struct {
		fn     string
		in     CallInput
		status int
		code   string
	}{
		{"nope", CallInput{}, 404, "PGRST202"},
		{"add", CallInput{Body: []byte(`{"a":1}`)}, 404, "PGRST202"},
		{"add", CallInput{Body: []byte(`{"a":1,"b":2,"c":3}`)}, 404, "PGRST202"},
		{"add", CallInput{Body: []byte(`[1]`)}, 400, "PGRST102"},
		{"add", CallInput{Body: []byte(`{"a":`)}, 400, "PGRST102"},
		{"ambiguous", CallInput{}, 300, "PGRST203"},
		{"add", CallInput{SingleObject: true, Body: []byte(`{}`)}, 404, "PGRST202"},
	} {
		_, err := Call(s, c.fn, req(""), c.in)
		wantCode(t, err, c.status, c.code)
	}
	if !IsArg(s, "hello")("greeting") || IsArg(s, "hello")("title") {
		t.Fatal("IsArg")
	}
}
