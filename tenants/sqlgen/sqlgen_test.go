package sqlgen

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/tenants/query"
)

const wrap = "select coalesce(json_agg(_r), '[]')::text, count(*), null::bigint, null::text from ("

func TestReadSQL(t *testing.T) {
	t.Parallel()
	s := testSchema()
	cases := []struct {
		name, table, raw string
		sql              string
		args             []any
	}{
		{"columns filter order limit", "authors", "select=id,name&name=eq.x&order=id.desc.nullslast&limit=10&offset=5",
			wrap + `select t0."id" as "id", t0."name" as "name" from "p_demo"."authors" t0 where (t0."name" = $1) order by t0."id" desc nulls last limit 10 offset 5) _r`,
			[]any{"x"}},
		{"star", "authors", "",
			wrap + `select t0.* from "p_demo"."authors" t0) _r`, nil},
		{"alias cast json path", "authors", "select=n:name::text,meta->a->>b,meta->0",
			wrap + `select (t0."name")::text as "n", t0."meta"->'a'->>'b' as "b", t0."meta"->0 as "0" from "p_demo"."authors" t0) _r`, nil},
		{"json key is a literal", "authors", "select=meta->>it's",
			wrap + `select t0."meta"->>E'it''s' as "it's" from "p_demo"."authors" t0) _r`, nil},
		{"operators", "books", "title=like.*a*&pages=not.gte.3&id=in.(1,\"2,3\")&owner=is.null&author_id=isdistinct.4",
			wrap + `select t0.* from "p_demo"."books" t0 where (t0."title" like $1) and not (t0."pages" >= $2) and (t0."id" = any($3)) and (t0."owner" is null) and (t0."author_id" is distinct from $4)) _r`,
			[]any{"%a%", "3", `{"1","2,3"}`, "4"}},
		{"quantified and fts", "books", "title=ilike(any).{a*,b*}&pages=gt(all).{1,2}&owner=fts(english).cat",
			wrap + `select t0.* from "p_demo"."books" t0 where (t0."title" ilike any($1)) and (t0."pages" > all($2)) and (t0."owner" @@ to_tsquery($3::regconfig, $4))) _r`,
			[]any{"{a%,b%}", "{1,2}", "english", "cat"}},
		{"logic tree", "books", "or=(pages.lt.10,and(title.eq.x,not.or(owner.is.null,owner.eq.y)))&not.and=(id.gt.1,id.lt.3)",
			wrap + `select t0.* from "p_demo"."books" t0 where ((t0."pages" < $1) or ((t0."title" = $2) and not ((t0."owner" is null) or (t0."owner" = $3)))) and not ((t0."id" > $4) and (t0."id" < $5))) _r`,
			[]any{"10", "x", "y", "1", "3"}},
		{"many-to-one embed with filter", "books", "select=title,authors(name)&authors.country=eq.US",
			wrap + `select t0."title" as "title", e2.j as "authors" from "p_demo"."books" t0 left join lateral (select row_to_json(e2_r) as j from (select t1."name" as "name" from "p_demo"."authors" t1 where t1."id" = t0."author_id" and (t1."country" = $1)) e2_r) e2 on true) _r`,
			[]any{"US"}},
		{"one-to-many inner with order and limit", "authors", "select=name,books!inner(title)&books.pages=gt.100&books.order=title&books.limit=2&order=name",
			wrap + `select t0."name" as "name", coalesce(e2.j, '[]') as "books" from "p_demo"."authors" t0 left join lateral (select json_agg(e2_r) as j from (select t1."title" as "title" from "p_demo"."books" t1 where t1."author_id" = t0."id" and (t1."pages" > $1) order by t1."title" limit 2) e2_r) e2 on true where e2.j is not null order by t0."name") _r`,
			[]any{"100"}},
		{"many-to-many", "books", "select=id,tags(name)",
			wrap + `select t0."id" as "id", coalesce(e2.j, '[]') as "tags" from "p_demo"."books" t0 left join lateral (select json_agg(e2_r) as j from (select t1."name" as "name" from "p_demo"."tags" t1 join "p_demo"."book_tags" j3 on j3."tag_id" = t1."id" where j3."book_id" = t0."id") e2_r) e2 on true) _r`,
			nil},
		{"spread", "books", "select=title,...authors(writer:name)",
			wrap + `select t0."title" as "title", e2.j->'writer' as "writer" from "p_demo"."books" t0 left join lateral (select row_to_json(e2_r) as j from (select t1."name" as "writer" from "p_demo"."authors" t1 where t1."id" = t0."author_id") e2_r) e2 on true) _r`,
			nil},
		{"null filter on hidden embed", "authors", "select=id,books()&books=is.null",
			wrap + `select t0."id" as "id" from "p_demo"."authors" t0 left join lateral (select json_agg(e2_r) as j from (select  from "p_demo"."books" t1 where t1."author_id" = t0."id") e2_r) e2 on true where (e2.j is null)) _r`,
			nil},
		{"hidden embed that filters nothing is left out", "authors", "select=id,books()&books.pages=gt.1",
			wrap + `select t0."id" as "id" from "p_demo"."authors" t0) _r`, nil},
		{"order by to-one embed", "books", "select=id,authors(name)&order=authors(name).desc",
			wrap + `select t0."id" as "id", e2.j as "authors" from "p_demo"."books" t0 left join lateral (select row_to_json(e2_r) as j from (select t1."name" as "name" from "p_demo"."authors" t1 where t1."id" = t0."author_id") e2_r) e2 on true order by (select o3."name" from "p_demo"."authors" o3 where o3."id" = t0."author_id") desc) _r`,
			nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := Read(s, c.table, req(c.raw))
			if err != nil {
				t.Fatal(err)
			}
			if st.SQL != c.sql {
				t.Fatalf("sql\n got %s\nwant %s", st.SQL, c.sql)
			}
			if !reflect.DeepEqual(st.Args, c.args) && (len(st.Args) > 0 || len(c.args) > 0) {
				t.Fatalf("args %q, want %q", st.Args, c.args)
			}
			if !st.ReadOnly {
				t.Fatal("a read must be read-only")
			}
		})
	}
}

func TestReadOptions(t *testing.T) {
	t.Parallel()
	s := testSchema()
	t.Run("max rows caps the limit", func(t *testing.T) {
		r := req("limit=500")
		r.MaxRows = 100
		st := mustRead(t, s, "authors", r)
		if !strings.HasSuffix(st.SQL, `"authors" t0 limit 100) _r`) {
			t.Fatal(st.SQL)
		}
		r = req("limit=5")
		r.MaxRows = 100
		if st := mustRead(t, s, "authors", r); !strings.Contains(st.SQL, " limit 5)") {
			t.Fatal(st.SQL)
		}
	})
	t.Run("exact count reuses from and where", func(t *testing.T) {
		r := req("select=id,books!inner(id)&name=eq.x")
		r.Prefer.Count = query.CountExact
		st := mustRead(t, s, "authors", r)
		want := `(select count(*) from "p_demo"."authors" t0 left join lateral (select json_agg(e2_r) as j from (select t1."id" as "id" from "p_demo"."books" t1 where t1."author_id" = t0."id") e2_r) e2 on true where (t0."name" = $1) and e2.j is not null)`
		if !strings.Contains(st.SQL, want) || len(st.Args) != 1 {
			t.Fatalf("%s %v", st.SQL, st.Args)
		}
	})
	t.Run("count leaves out embeds that do not filter", func(t *testing.T) {
		r := req("select=id,books(id)")
		r.Prefer.Count = query.CountExact
		st := mustRead(t, s, "authors", r)
		if !strings.Contains(st.SQL, `(select count(*) from "p_demo"."authors" t0)`) {
			t.Fatal(st.SQL)
		}
	})
	t.Run("planned count explains the query with literals", func(t *testing.T) {
		r := req("name=eq.it's")
		r.Prefer.Count = query.CountPlanned
		st := mustRead(t, s, "authors", r)
		if !strings.Contains(st.SQL, "plinth_api.plan_rows($2)") ||
			st.Args[1] != `select 1 from "p_demo"."authors" t0 where (t0."name" = E'it''s')` {
			t.Fatalf("%s %q", st.SQL, st.Args)
		}
	})
	t.Run("estimated counts exactly up to max rows", func(t *testing.T) {
		r := req("")
		r.Prefer.Count = query.CountEstimated
		r.MaxRows = 50
		st := mustRead(t, s, "authors", r)
		if !strings.Contains(st.SQL, `(select case when c.n <= 50 then c.n else plinth_api.plan_rows($1) end from (select count(*) as n from (select 1 from "p_demo"."authors" t0 limit 51) _c) c)`) {
			t.Fatal(st.SQL)
		}
	})
	t.Run("singular raises unless one row", func(t *testing.T) {
		r := req("select=id")
		r.Media = query.MediaObject
		st := mustRead(t, s, "authors", r)
		want := `select case when count(*) <> 1 then plinth_api.raise('PGRST', (jsonb_set($1::jsonb, '{details}', to_jsonb('The result contains ' || count(*) || ' rows')))::text, $2)::text else coalesce((json_agg(_r)->0)::text, 'null') end`
		if !strings.HasPrefix(st.SQL, want) || st.Args[1] != `{"status":406}` || !strings.Contains(st.Args[0].(string), `"code":"PGRST116"`) {
			t.Fatalf("%s %q", st.SQL, st.Args)
		}
	})
	t.Run("csv", func(t *testing.T) {
		r := req("select=id,name")
		r.Media = query.MediaCSV
		st := mustRead(t, s, "authors", r)
		if !strings.HasPrefix(st.SQL, `select case when count(*) = 0 then '' else $1 end || chr(10) || coalesce(string_agg(substring(_r::text, 2, length(_r::text) - 2), chr(10)), '')`) ||
			st.Args[0] != "id,name" {
			t.Fatalf("%s %q", st.SQL, st.Args)
		}
	})
	t.Run("no body", func(t *testing.T) {
		r := req("")
		r.NoBody = true
		if st := mustRead(t, s, "authors", r); !strings.HasPrefix(st.SQL, "select '', count(*)") {
			t.Fatal(st.SQL)
		}
	})
}

func mustRead(t *testing.T, s any, table string, r *Request) *Statement {
	t.Helper()
	st, err := Read(testSchema(), table, r)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// wantCode checks an error's PostgREST code and HTTP status.
func wantCode(t *testing.T, err error, status int, code string) *apierror.Error {
	t.Helper()
	var ae *apierror.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T), want %s", err, err, code)
	}
	if ae.Code != code || ae.Status != status {
		t.Fatalf("got %d %s (%s), want %d %s", ae.Status, ae.Code, ae.Message, status, code)
	}
	return ae
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	s := testSchema()
	cases := []struct {
		table, raw string
		status     int
		code       string
	}{
		{"nope", "", 404, "PGRST205"},
		{"authors", "select=nope", 400, "42703"},
		{"authors", "nope=eq.1", 400, "42703"},
		{"authors", "order=nope", 400, "42703"},
		{"authors", "select=*,people(*)", 400, "PGRST200"},
		{"authors", "select=*,books!nope(*)", 400, "PGRST200"},
		{"messages", "select=*,people(*)", 300, "PGRST201"},
		{"authors", "books.id=eq.1", 400, "PGRST108"},
		{"authors", "select=id,books(id)&books.x.limit=1", 400, "PGRST108"},
		{"authors", "select=id,books(id)&order=books(id)", 400, "PGRST118"},
		{"authors", "select=id&order=books(id)", 400, "PGRST108"},
		{"authors", "select=...books(id)", 400, "PGRST119"},
		{"authors", "select=id,books(id)&books=eq.1", 400, "42703"},
		{"authors", "select=id,books(id)&books=is.true", 400, "PGRST100"},
		{"authors", "select=meta->x1", 400, ""}, // fine: a key, not an index
	}
	for _, c := range cases {
		_, err := Read(s, c.table, req(c.raw))
		if c.code == "" {
			if err != nil {
				t.Errorf("%s?%s: %v", c.table, c.raw, err)
			}
			continue
		}
		wantCode(t, err, c.status, c.code)
	}
	// The parser never yields such a cast; the builder refuses it anyway.
	q := &query.Query{Select: []query.SelectItem{{Kind: query.SelectColumn, Field: query.Field{Name: "id"}, Cast: "int; drop table x"}}}
	_, err := Read(s, "authors", &Request{Query: q, Range: query.Range{Limit: query.NoLimit}})
	wantCode(t, err, 400, "PGRST100")
}

func TestRelationships(t *testing.T) {
	t.Parallel()
	s := testSchema()
	cases := []struct {
		from, target, hint string
		card               cardinality
		to                 string
	}{
		{"books", "authors", "", manyToOne, "authors"},
		{"books", "author_id", "", manyToOne, "authors"},
		{"books", "books_author_id_fkey", "", manyToOne, "authors"},
		{"authors", "books", "", oneToMany, "books"},
		{"authors", "books", "author_id", oneToMany, "books"},
		{"authors", "books", "books_author_id_fkey", oneToMany, "books"},
		{"authors", "author_bios", "", oneToOne, "author_bios"},
		{"author_bios", "authors", "", oneToOne, "authors"},
		{"books", "tags", "", manyToMany, "tags"},
		{"tags", "books", "book_tags", manyToMany, "books"},
		{"messages", "people", "sender_id", manyToOne, "people"},
		{"messages", "people", "messages_receiver_id_fkey", manyToOne, "people"},
	}
	for _, c := range cases {
		r, err := findRelation(s, s.Tables[c.from], c.target, c.hint)
		if err != nil {
			t.Errorf("%s -> %s!%s: %v", c.from, c.target, c.hint, err)
			continue
		}
		if r.card != c.card || r.to.Name != c.to {
			t.Errorf("%s -> %s!%s: %s to %s", c.from, c.target, c.hint, r.card, r.to.Name)
		}
	}
	ae := wantCode(t, func() error { _, err := findRelation(s, s.Tables["messages"], "people", ""); return err }(), 300, "PGRST201")
	details := ae.Details.([]map[string]string)
	if len(details) != 2 || details[0]["relationship"] != "messages_receiver_id_fkey using messages(receiver_id) and people(id)" {
		t.Fatalf("details %v", details)
	}
	// The junction needs both keys inside its primary key.
	s.Tables["book_tags"].PrimaryKey = []string{"book_id"}
	if _, err := findRelation(s, s.Tables["books"], "tags", ""); err == nil {
		t.Fatal("a junction without both keys in its primary key made a relationship")
	}
}
