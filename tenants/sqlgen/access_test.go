package sqlgen

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/tenants/query"
)

// rules is a hand-written Access: a condition per table and action (an
// absent entry denies), recording what was asked.
type rules struct {
	conds map[string]string // "table/action" -> condition ("" = every row)
	asked []string
}

func (r *rules) access(table, action string) (query.Expr, error) {
	key := table + "/" + action
	r.asked = append(r.asked, key)
	cond, ok := r.conds[key]
	if !ok {
		return query.Expr{}, apierror.Newf(http.StatusForbidden, apierror.CodeForbidden, "denied %s", key)
	}
	return query.ParseCondition(cond)
}

func withRules(r *Request, conds map[string]string) *rules {
	rl := &rules{conds: conds}
	r.Access = rl.access
	return rl
}

func TestAccessReads(t *testing.T) {
	t.Parallel()
	s := testSchema()

	t.Run("condition is ANDed into the top level and the count", func(t *testing.T) {
		r := req("select=id&id=gt.1")
		r.Prefer.Count = query.CountExact
		withRules(r, map[string]string{"books/select": "owner=eq.u1"})
		st := mustAccessRead(t, s, "books", r)
		if !strings.Contains(st.SQL, `from "p_demo"."books" t0 where (t0."id" > $1) and (t0."owner" = $2))`) ||
			!strings.Contains(st.SQL, `(select count(*) from "p_demo"."books" t0 where (t0."id" > $1) and (t0."owner" = $2))`) ||
			!slices.Equal(anyStrings(st.Args), []string{"1", "u1"}) {
			t.Fatalf("%s %q", st.SQL, st.Args)
		}
	})
	t.Run("embedded tables are checked and filtered", func(t *testing.T) {
		r := req("select=id,authors(name),tags(name)")
		rl := withRules(r, map[string]string{
			"books/select": "", "authors/select": "or=(country.eq.US,country.is.null)",
			"tags/select": "name=neq.secret", "book_tags/select": "tag_id=lt.100",
		})
		st := mustAccessRead(t, s, "books", r)
		for _, want := range []string{
			`from "p_demo"."authors" t1 where t1."id" = t0."author_id" and ((t1."country" = $1) or (t1."country" is null))`,
			`join "p_demo"."book_tags" j5 on j5."tag_id" = t3."id" where j5."book_id" = t0."id" and (j5."tag_id" < $2) and (t3."name" <> $3)`,
		} {
			if !strings.Contains(st.SQL, want) {
				t.Fatalf("missing %s in\n%s", want, st.SQL)
			}
		}
		if !slices.Equal(rl.asked, []string{"books/select", "authors/select", "tags/select", "book_tags/select"}) {
			t.Fatalf("asked %v", rl.asked)
		}
	})
	t.Run("order by a to-one embed respects its condition", func(t *testing.T) {
		r := req("select=id,authors(name)&order=authors(name)")
		withRules(r, map[string]string{"books/select": "", "authors/select": "country=eq.US"})
		st := mustAccessRead(t, s, "books", r)
		if !strings.Contains(st.SQL, `order by (select o3."name" from "p_demo"."authors" o3 where o3."id" = t0."author_id" and (o3."country" = $2))`) {
			t.Fatal(st.SQL)
		}
	})
	t.Run("an empty condition adds nothing", func(t *testing.T) {
		r := req("select=id")
		withRules(r, map[string]string{"books/select": ""})
		if st := mustAccessRead(t, s, "books", r); strings.Contains(st.SQL, "where") {
			t.Fatal(st.SQL)
		}
	})
	t.Run("a condition nobody meets", func(t *testing.T) {
		r := req("select=id")
		r.Access = func(string, string) (query.Expr, error) { return query.Expr{Op: query.And, Not: true}, nil }
		if st := mustAccessRead(t, s, "books", r); !strings.Contains(st.SQL, `"books" t0 where not true)`) {
			t.Fatal(st.SQL)
		}
	})
	for _, c := range []struct {
		name, table, raw string
		conds            map[string]string
	}{
		{"denied table", "books", "select=id", map[string]string{}},
		{"denied embed", "books", "select=id,authors(name)", map[string]string{"books/select": ""}},
		{"denied junction", "books", "select=id,tags(name)", map[string]string{"books/select": "", "tags/select": ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := req(c.raw)
			withRules(r, c.conds)
			_, err := Read(s, c.table, r)
			wantCode(t, err, http.StatusForbidden, apierror.CodeForbidden)
		})
	}
	t.Run("a condition on an unknown column is an error, not a leak", func(t *testing.T) {
		r := req("select=id")
		withRules(r, map[string]string{"books/select": "nope=eq.1"})
		_, err := Read(s, "books", r)
		wantCode(t, err, http.StatusBadRequest, "42703")
	})
}

func mustAccessRead(t *testing.T, s any, table string, r *Request) *Statement {
	t.Helper()
	st, err := Read(testSchema(), table, r)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func anyStrings(a []any) []string {
	out := make([]string, len(a))
	for i, v := range a {
		out[i], _ = v.(string)
	}
	return out
}

func TestAccessWrites(t *testing.T) {
	t.Parallel()
	s := testSchema()
	const violation = `(select bool_and(coalesce((t0."owner" = $`

	t.Run("insert checks every new row", func(t *testing.T) {
		r := req("")
		r.NoBody = true
		rl := withRules(r, map[string]string{"books/insert": "owner=eq.u1"})
		st, err := Insert(s, "books", r, []byte(`{"title":"x","owner":"u1"}`))
		if err != nil {
			t.Fatal(err)
		}
		want := `select case when (select bool_and(coalesce((t0."owner" = $2), false)) from pgrst_source t0) is false then plinth_api.raise('42501', $3, null, $4)::text else '' end`
		if !strings.Contains(st.SQL, want) || st.Args[1] != "u1" || !strings.Contains(st.Args[2].(string), `new row violates the access rules for table "books"`) {
			t.Fatalf("%s %q", st.SQL, st.Args)
		}
		if !slices.Equal(rl.asked, []string{"books/insert"}) {
			t.Fatalf("asked %v", rl.asked)
		}
	})
	t.Run("representation needs select and is filtered by it", func(t *testing.T) {
		r := req("select=id")
		withRules(r, map[string]string{"books/insert": "", "books/select": "owner=eq.u1"})
		st, err := Insert(s, "books", r, []byte(`{"title":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(st.SQL, `(select t0."id" as "id" from pgrst_source t0 where (t0."owner" = $2)) _r`) || strings.Contains(st.SQL, "42501") {
			t.Fatal(st.SQL)
		}
		r = req("select=id")
		withRules(r, map[string]string{"books/insert": ""})
		_, err = Insert(s, "books", r, []byte(`{"title":"x"}`))
		wantCode(t, err, http.StatusForbidden, apierror.CodeForbidden)
	})
	t.Run("update limits old rows and checks new ones", func(t *testing.T) {
		r := req("id=eq.1")
		r.NoBody = true
		withRules(r, map[string]string{"books/update": "owner=eq.u1"})
		st, err := Update(s, "books", r, []byte(`{"owner":"u2"}`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(st.SQL, `where (t0."id" = $1) and (t0."owner" = $2) returning t0.*`) || !strings.Contains(st.SQL, violation+"4), false))") {
			t.Fatal(st.SQL)
		}
	})
	t.Run("delete limits rows", func(t *testing.T) {
		r := req("")
		r.NoBody = true
		withRules(r, map[string]string{"books/delete": "owner=eq.u1"})
		st, err := Delete(s, "books", r)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(st.SQL, `delete from "p_demo"."books" as t0 where (t0."owner" = $1) returning`) || strings.Contains(st.SQL, "42501") {
			t.Fatal(st.SQL)
		}
	})
	t.Run("upsert needs insert and update", func(t *testing.T) {
		r := req("")
		r.NoBody = true
		r.Prefer.Resolution = query.MergeDuplicates
		rl := withRules(r, map[string]string{"books/insert": "owner=eq.u1", "books/update": "owner=eq.u1"})
		st, err := Insert(s, "books", r, []byte(`{"id":1,"owner":"u1"}`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(st.SQL, `do update set "id" = excluded."id", "owner" = excluded."owner" where (t0."owner" = $2) returning`) ||
			!strings.Contains(st.SQL, `coalesce((t0."owner" = $3) and (t0."owner" = $4), false)`) {
			t.Fatal(st.SQL)
		}
		if !slices.Equal(rl.asked, []string{"books/insert", "books/update"}) {
			t.Fatalf("asked %v", rl.asked)
		}
		delete(rl.conds, "books/update")
		_, err = Insert(s, "books", r, []byte(`{"id":1}`))
		wantCode(t, err, http.StatusForbidden, apierror.CodeForbidden)
	})
	t.Run("put needs insert and update", func(t *testing.T) {
		r := req("id=eq.1")
		r.NoBody = true
		withRules(r, map[string]string{"books/insert": ""})
		_, err := Put(s, "books", r, []byte(`{"id":1}`))
		wantCode(t, err, http.StatusForbidden, apierror.CodeForbidden)
	})
	for _, action := range []string{"insert", "update", "delete"} {
		t.Run("denied "+action, func(t *testing.T) {
			r := req("id=eq.1")
			withRules(r, map[string]string{"books/select": ""})
			var err error
			switch action {
			case "insert":
				_, err = Insert(s, "books", r, []byte(`{"id":1}`))
			case "update":
				_, err = Update(s, "books", r, []byte(`{"id":1}`))
			case "delete":
				_, err = Delete(s, "books", r)
			}
			wantCode(t, err, http.StatusForbidden, apierror.CodeForbidden)
		})
	}
}

func TestAccessCalls(t *testing.T) {
	t.Parallel()
	s := testSchema()
	r := req("select=id,authors(name)")
	rl := withRules(r, map[string]string{"rpc:books_by/execute": "id=lt.10", "authors/select": ""})
	st, err := Call(s, "books_by", r, CallInput{Body: []byte(`{"author":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.SQL, `where (t0."id" < $2)`) || !slices.Equal(rl.asked, []string{"rpc:books_by/execute", "authors/select"}) {
		t.Fatalf("%s %v", st.SQL, rl.asked)
	}
	r = req("")
	withRules(r, map[string]string{})
	_, err = Call(s, "add", r, CallInput{Body: []byte(`{"a":1,"b":2}`)})
	wantCode(t, err, http.StatusForbidden, apierror.CodeForbidden)
}
