package sqlgen

import (
	"errors"
	"reflect"
	"testing"

	"github.com/plinth-dev/plinth/tenants/query"
)

// A template built from one request gives, for another request of the same
// shape, exactly the statement Read builds for it.
func TestTemplateMatchesRead(t *testing.T) {
	t.Parallel()
	s := testSchema()
	for _, tc := range []struct{ table, a, b string }{
		{"authors", "select=id,name&name=eq.x&order=id.desc.nullslast&limit=10&offset=5", "select=id,name&name=eq.other&order=id.desc.nullslast&limit=10&offset=5"},
		{"books", "title=like.*a*&pages=not.gte.3&id=in.(1,\"2,3\")&owner=is.null&author_id=isdistinct.4",
			"title=like.b*c&pages=not.gte.30&id=in.(7)&owner=is.null&author_id=isdistinct.x"},
		{"books", "title=ilike(any).{a*,b*}&pages=gt(all).{1,2}&owner=fts(english).cat", "title=ilike(any).{z*}&pages=gt(all).{9}&owner=fts(english).dog"},
		{"books", "or=(pages.lt.10,and(title.eq.x,not.or(owner.is.null,owner.eq.y)))&not.and=(id.gt.1,id.lt.3)",
			`or=(pages.lt.99,and(title.eq."a,b",not.or(owner.is.null,owner.eq.z)))&not.and=(id.gt.5,id.lt.6)`},
		{"books", "select=title,authors(name)&authors.country=eq.US", "select=title,authors(name)&authors.country=eq.FR"},
		{"authors", "select=name,books!inner(title)&books.pages=gt.100&books.order=title&books.limit=2&order=name",
			"select=name,books!inner(title)&books.pages=gt.7&books.order=title&books.limit=2&order=name"},
		{"books", "select=id,tags(name)&id=eq.1", "select=id,tags(name)&id=eq.2"},
	} {
		for _, count := range []query.CountPref{"", query.CountExact} {
			ra, rb := req(tc.a), req(tc.b)
			ra.Prefer.Count, rb.Prefer.Count = count, count
			if ra.Query.Shape != rb.Query.Shape {
				t.Fatalf("%s / %s: not the same shape", tc.a, tc.b)
			}
			withRules(ra, allRows)
			withRules(rb, allRows)
			_, tpl, err := ReadTemplate(s, tc.table, ra)
			if err != nil || tpl == nil {
				t.Fatalf("%s: template %v %v", tc.a, tpl, err)
			}
			got, ok, err := tpl.Statement(rb, nil)
			if err != nil || !ok {
				t.Fatalf("%s: from template: %v %v", tc.b, ok, err)
			}
			want := mustRead(t, s, tc.table, rb)
			if got.SQL != want.SQL || !reflect.DeepEqual(got.Args, want.Args) || got.ReadOnly != want.ReadOnly {
				t.Errorf("%s (count %q):\ntemplate %s %q\nread     %s %q", tc.b, count, got.SQL, got.Args, want.SQL, want.Args)
			}
		}
	}
}

// allRows allows every table used above with no row condition.
var allRows = map[string]string{"authors/select": "", "books/select": "", "tags/select": "", "book_tags/select": ""}

// What binds more than the query string's values never becomes a
// template; a template asks the access rules again and steps aside when
// they changed.
func TestTemplateLimits(t *testing.T) {
	t.Parallel()
	s := testSchema()

	r := req("id=eq.1")
	withRules(r, map[string]string{"books/select": "owner=eq.{auth.uid}"})
	// The condition has its placeholder filled by the authz engine; here
	// the rule's literal value stands in for the caller's.
	if _, tpl, err := ReadTemplate(s, "books", r); err != nil || tpl != nil {
		t.Errorf("a row condition binds the caller's values: template %v %v", tpl, err)
	}

	r = req("select=id&limit=1")
	r.Prefer.Count = query.CountEstimated
	r.MaxRows = 10
	withRules(r, allRows)
	if _, tpl, err := ReadTemplate(s, "books", r); err != nil || tpl != nil {
		t.Errorf("an estimated count inlines values: template %v %v", tpl, err)
	}

	r = req("id=eq.1")
	withRules(r, allRows)
	_, tpl, err := ReadTemplate(s, "books", r)
	if err != nil || tpl == nil {
		t.Fatalf("template: %v %v", tpl, err)
	}
	later := req("id=eq.2")
	withRules(later, map[string]string{"books/select": "owner=eq.x"})
	if st, ok, err := tpl.Statement(later, nil); ok || st != nil || err != nil {
		t.Errorf("a condition added since: %v %v %v", st, ok, err)
	}
	denied := req("id=eq.2")
	withRules(denied, map[string]string{})
	_, readErr := Read(s, "books", denied)
	if _, ok, err := tpl.Statement(denied, nil); ok || err == nil || !errors.Is(err, readErr) && err.Error() != readErr.Error() {
		t.Errorf("a denial since: %v %v, Read says %v", ok, err, readErr)
	}
}

// Inserts: the template of one body gives, for another body of the same
// keys, Insert's statement; missing=default never makes a template.
func TestTemplateInsert(t *testing.T) {
	t.Parallel()
	s := testSchema()
	conds := map[string]string{"authors/insert": "", "authors/select": "", "authors/update": ""}
	for _, tc := range []struct{ query, prefer, a, b string }{
		{"", "", `{"name":"a","country":"PL"}`, `{"name":"b","country":null}`},
		{"select=id,name", "return=representation", `[{"name":"a"},{"name":"b"}]`, `[{"name":"c"}]`},
		{"on_conflict=id", "resolution=merge-duplicates", `{"id":1,"name":"a"}`, `{"id":2,"name":"z"}`},
		{"", "return=headers-only", `{"name":"a"}`, `{"name":"x"}`},
	} {
		mk := func(body string) (*Request, *Payload) {
			r := req(tc.query)
			if tc.prefer != "" {
				p, err := query.ParsePrefer([]string{tc.prefer})
				if err != nil {
					t.Fatal(err)
				}
				r.Prefer = p
			}
			r.NoBody = r.Prefer.Return != query.ReturnRepresentation
			withRules(r, conds)
			p, err := ParsePayload([]byte(body), r)
			if err != nil {
				t.Fatal(err)
			}
			return r, p
		}
		ra, pa := mk(tc.a)
		rb, pb := mk(tc.b)
		if pa.Shape() != pb.Shape() {
			t.Fatalf("%s / %s: payload shapes differ", tc.a, tc.b)
		}
		_, tpl, err := InsertTemplate(s, "authors", ra, pa)
		if err != nil || tpl == nil {
			t.Fatalf("%s: template %v %v", tc.a, tpl, err)
		}
		got, ok, err := tpl.Statement(rb, pb)
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", tc.b, ok, err)
		}
		want, err := InsertPayload(s, "authors", rb, pb)
		if err != nil {
			t.Fatal(err)
		}
		if got.SQL != want.SQL || !reflect.DeepEqual(got.Args, want.Args) || !reflect.DeepEqual(got.PrimaryKey, want.PrimaryKey) {
			t.Errorf("%s:\ntemplate %s %q\ninsert   %s %q", tc.b, got.SQL, got.Args, want.SQL, want.Args)
		}
	}
	if a, b := mustPayload(t, `{"a":1,"b":2}`), mustPayload(t, `{"b":2,"a":1}`); a.Shape() == b.Shape() {
		t.Error("key order is part of the payload's shape (it orders the columns)")
	}
	if a, b := mustPayload(t, `{"a":1}`), mustPayload(t, `[{"a":1}]`); a.Shape() == b.Shape() {
		t.Error("an array is not an object")
	}
	r := req("columns=name,country")
	r.Prefer.Missing = query.MissingDefault
	withRules(r, conds)
	p, err := ParsePayload([]byte(`[{"name":"a"},{"name":"b","country":"PL"}]`), r)
	if err != nil {
		t.Fatal(err)
	}
	if _, tpl, err := InsertTemplate(s, "authors", r, p); err != nil || tpl != nil {
		t.Errorf("missing=default: template %v %v", tpl, err)
	}
}

func mustPayload(t *testing.T, body string) *Payload {
	t.Helper()
	p, err := ParsePayload([]byte(body), req(""))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
