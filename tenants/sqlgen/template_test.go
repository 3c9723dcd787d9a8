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

// Row conditions bind the caller's values (auth.uid filled in by the authz
// engine; literal values stand in here): a template built under one
// condition gives, under another of the same structure, exactly Read's
// statement, and steps aside when the structure differs.
func TestTemplateRowConditions(t *testing.T) {
	t.Parallel()
	s := testSchema()
	same := []struct{ table, query, condA, condB string }{
		{"books", "id=eq.1", "owner=eq.u1", "owner=eq.u2"},
		{"books", "select=id&id=gt.1&order=id", "or=(owner.eq.u1,and(pages.gt.10,title.like.*a*))", "or=(owner.eq.u9,and(pages.gt.99,title.like.b*))"},
		{"books", "id=in.(1,2)", "owner=in.(a,b)", "owner=in.(c)"},
		{"books", "id=eq.1", "owner=is.null", "owner=is.null"},
		{"books", "id=eq.1", "title=fts(english).cat", "title=fts(english).dog"},
		{"books", "id=eq.1", "owner=not.eq.u1", "owner=not.eq.u2"},
	}
	for _, tc := range same {
		for _, count := range []query.CountPref{"", query.CountExact} {
			ra, rb := req(tc.query), req(tc.query)
			ra.Prefer.Count, rb.Prefer.Count = count, count
			withRules(ra, map[string]string{tc.table + "/select": tc.condA})
			withRules(rb, map[string]string{tc.table + "/select": tc.condB})
			_, tpl, err := ReadTemplate(s, tc.table, ra)
			if err != nil || tpl == nil {
				t.Fatalf("%s under %s: template %v %v", tc.query, tc.condA, tpl, err)
			}
			got, ok, err := tpl.Statement(rb, nil)
			if err != nil || !ok {
				t.Fatalf("%s under %s: from template: %v %v", tc.query, tc.condB, ok, err)
			}
			want := mustRead(t, s, tc.table, rb)
			if got.SQL != want.SQL || !reflect.DeepEqual(got.Args, want.Args) {
				t.Errorf("%s under %s (count %q):\ntemplate %s %q\nread     %s %q", tc.query, tc.condB, count, got.SQL, got.Args, want.SQL, want.Args)
			}
		}
	}

	// Conditions on embedded tables and on a junction come from their own
	// access calls.
	embedA := map[string]string{"books/select": "owner=eq.u1", "authors/select": "country=eq.PL", "tags/select": "name=neq.x", "book_tags/select": "tag_id=lt.5"}
	embedB := map[string]string{"books/select": "owner=eq.u2", "authors/select": "country=eq.US", "tags/select": "name=neq.y", "book_tags/select": "tag_id=lt.9"}
	ra, rb := req("select=id,authors(name),tags(name)&id=eq.1"), req("select=id,authors(name),tags(name)&id=eq.2")
	withRules(ra, embedA)
	withRules(rb, embedB)
	_, tpl, err := ReadTemplate(s, "books", ra)
	if err != nil || tpl == nil {
		t.Fatalf("embeds: template %v %v", tpl, err)
	}
	got, ok, err := tpl.Statement(rb, nil)
	want := mustRead(t, s, "books", rb)
	if err != nil || !ok || got.SQL != want.SQL || !reflect.DeepEqual(got.Args, want.Args) {
		t.Errorf("embeds: %v %v\ntemplate %v\nread     %s %q", ok, err, got, want.SQL, want.Args)
	}

	// Another structure, or no condition where there was one, or one where
	// there was none: build anew.
	base := req("id=eq.1")
	withRules(base, map[string]string{"books/select": "owner=eq.u1"})
	_, tpl, err = ReadTemplate(s, "books", base)
	if err != nil || tpl == nil {
		t.Fatalf("template %v %v", tpl, err)
	}
	for _, cond := range []string{"owner=neq.u1", "title=eq.u1", "owner=eq.u1&pages=gt.1", "or=(owner.eq.u1)", "owner=is.null", "owner=eq(any).{u1}", ""} {
		later := req("id=eq.2")
		withRules(later, map[string]string{"books/select": cond})
		if st, ok, err := tpl.Statement(later, nil); ok || st != nil || err != nil {
			t.Errorf("template built under owner=eq.u1 reused under %q: %v %v %v", cond, st, ok, err)
		}
	}
	if st, ok, err := tpl.Statement(req("id=eq.2"), nil); ok || st != nil || err != nil {
		t.Errorf("template with a condition reused without access rules: %v %v %v", st, ok, err)
	}
	isNull := req("id=eq.1")
	withRules(isNull, map[string]string{"books/select": "owner=is.null"})
	_, tpl, _ = ReadTemplate(s, "books", isNull)
	notNull := req("id=eq.1")
	withRules(notNull, map[string]string{"books/select": "owner=is.not_null"})
	if st, ok, err := tpl.Statement(notNull, nil); ok || err != nil {
		t.Errorf("is.null's template reused for is.not_null: %v %v %v", st, ok, err)
	}
	none := req("id=eq.1")
	withRules(none, allRows)
	_, tpl, _ = ReadTemplate(s, "books", none)
	later := req("id=eq.2")
	withRules(later, map[string]string{"books/select": "owner=eq.x"})
	if st, ok, err := tpl.Statement(later, nil); ok || st != nil || err != nil {
		t.Errorf("a condition added since: %v %v %v", st, ok, err)
	}

	// A hook handing out one condition to two access calls (the authz
	// engine copies each time): no template, as a reuse could not tell
	// the calls' values apart.
	shared, err := query.ParseCondition("country=eq.x")
	if err != nil {
		t.Fatal(err)
	}
	twice := req("select=id,a1:authors(name),a2:authors(id)")
	twice.Access = func(table, action string) (query.Expr, error) {
		if table == "authors" {
			return shared, nil
		}
		return query.Expr{}, nil
	}
	if _, tpl, err := ReadTemplate(s, "books", twice); err != nil || tpl != nil {
		t.Errorf("a condition shared by two access calls: template %v %v", tpl, err)
	}

	// Inserts check the new rows against the insert condition.
	mk := func(cond, body string) (*Request, *Payload) {
		r := req("select=id,name")
		r.Prefer.Return = query.ReturnRepresentation
		withRules(r, map[string]string{"authors/insert": cond, "authors/select": cond})
		p, err := ParsePayload([]byte(body), r)
		if err != nil {
			t.Fatal(err)
		}
		return r, p
	}
	ia, pa := mk("country=eq.PL", `{"name":"a","country":"PL"}`)
	ib, pb := mk("country=eq.US", `{"name":"b","country":"US"}`)
	_, itpl, err := InsertTemplate(s, "authors", ia, pa)
	if err != nil || itpl == nil {
		t.Fatalf("insert: template %v %v", itpl, err)
	}
	igot, ok, err := itpl.Statement(ib, pb)
	iwant, werr := InsertPayload(s, "authors", ib, pb)
	if err != nil || werr != nil || !ok || igot.SQL != iwant.SQL || !reflect.DeepEqual(igot.Args, iwant.Args) {
		t.Errorf("insert: %v %v %v\ntemplate %v\ninsert   %v", ok, err, werr, igot, iwant)
	}
}

// What binds more than the query string's and the conditions' values never
// becomes a template; a template asks the access rules again and steps
// aside when they denied since.
func TestTemplateLimits(t *testing.T) {
	t.Parallel()
	s := testSchema()

	r := req("select=id&limit=1")
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
