package query

import (
	"strings"
	"testing"
)

func TestOrder(t *testing.T) {
	tests := []struct {
		raw  string
		want []Order
	}{
		{"order=id", []Order{{Terms: []OrderTerm{{Field: col("id")}}}}},
		{"order=id.desc.nullslast,other.asc", []Order{{Terms: []OrderTerm{
			{Field: col("id"), Dir: Desc, Nulls: NullsLast}, {Field: col("other"), Dir: Asc}}}}},
		{"order=a.nullsfirst,b.asc.nullsfirst,c", []Order{{Terms: []OrderTerm{
			{Field: col("a"), Nulls: NullsFirst}, {Field: col("b"), Dir: Asc, Nulls: NullsFirst}, {Field: col("c")}}}}},
		{"order=data->a->>b.desc", []Order{{Terms: []OrderTerm{
			{Field: Field{Name: "data", JSON: []JSONStep{{Key: "a"}, {Key: "b", AsText: true}}}, Dir: Desc}}}}},
		{"order=data->0.asc", []Order{{Terms: []OrderTerm{
			{Field: Field{Name: "data", JSON: []JSONStep{{Key: "0", Index: true}}}, Dir: Asc}}}}},
		{"order=author(name).desc.nullsfirst,id", []Order{{Terms: []OrderTerm{
			{Relation: "author", Field: col("name"), Dir: Desc, Nulls: NullsFirst}, {Field: col("id")}}}}},
		{"books.order=title.asc", []Order{{Path: Path{"books"}, Terms: []OrderTerm{{Field: col("title"), Dir: Asc}}}}},
		{"books.reviews.order=stars.desc", []Order{{Path: Path{"books", "reviews"}, Terms: []OrderTerm{{Field: col("stars"), Dir: Desc}}}}},
		{"order=a&order=b.desc", []Order{{Terms: []OrderTerm{{Field: col("b"), Dir: Desc}}}}},
		{"order=a&books.order=b", []Order{{Terms: []OrderTerm{{Field: col("a")}}}, {Path: Path{"books"}, Terms: []OrderTerm{{Field: col("b")}}}}},
		{"order=+id+.desc+,+b", []Order{{Terms: []OrderTerm{{Field: col("id"), Dir: Desc}, {Field: col("b")}}}}},
	}
	for _, tt := range tests {
		q := mustQuery(t, tt.raw)
		equal(t, tt.raw, q.Order, tt.want)
	}
	q := mustQuery(t, "order=a&books.order=b.desc")
	equal(t, "OrderFor", q.OrderFor(Path{"books"}), []OrderTerm{{Field: col("b"), Dir: Desc}})
	if q.OrderFor(Path{"nope"}) != nil {
		t.Error("OrderFor(unknown) != nil")
	}
}

func TestOrderErrors(t *testing.T) {
	tests := []struct{ value, message string }{
		{"", `failed to parse order () at position 0: unexpected end of input`},
		{"id.ac", `failed to parse order (id.ac) at position 3: unexpected "a"`},
		{"id.descc", `failed to parse order (id.descc) at position 7: unexpected "c"`},
		{"id.nulsfist", `failed to parse order (id.nulsfist) at position 3: unexpected "n"`},
		{"id.asc.smth", `failed to parse order (id.asc.smth) at position 7: unexpected "s"`},
		{"id.nullslast.asc", `failed to parse order (id.nullslast.asc) at position 12: unexpected "."`},
		{"clients(name,id)", `failed to parse order (clients(name,id)) at position 12: unexpected ","`},
		{"a,,b", `failed to parse order (a,,b) at position 2: unexpected ","`},
		{"a,", `failed to parse order (a,) at position 2: unexpected end of input`},
	}
	for _, tt := range tests {
		_, err := ParseQuery("order=" + tt.value)
		if err == nil {
			t.Errorf("order=%s: no error", tt.value)
			continue
		}
		if e := asError(t, err); e.Code != CodeParse || e.Message != tt.message {
			t.Errorf("order=%s:\n got  %s %q\n want %q", tt.value, e.Code, e.Message, tt.message)
		}
	}
}

func TestPages(t *testing.T) {
	q := mustQuery(t, "limit=20&offset=40&books.limit=2&books.reviews.offset=1&limit=10")
	want := []Page{
		{Range: Range{Offset: 40, Limit: 10}},
		{Path: Path{"books"}, Range: Range{Offset: 0, Limit: 2}},
		{Path: Path{"books", "reviews"}, Range: Range{Offset: 1, Limit: NoLimit}},
	}
	equal(t, "pages", q.Pages, want)
	equal(t, "RangeFor(books)", q.RangeFor(Path{"books"}), Range{Limit: 2})
	if r := q.RangeFor(Path{"x"}); !r.IsAll() {
		t.Errorf("RangeFor(unknown) = %+v", r)
	}
	equal(t, "limit=0", mustQuery(t, "limit=0").Pages, []Page{{Range: Range{Limit: 0}}})

	for _, raw := range []string{"limit=-1", "limit=abc", "offset=-5", "limit=", "limit=99999999999999999999", "books.offset=1.5"} {
		_, err := ParseQuery(raw)
		if e := asError(t, err); e.Code != CodeRange || e.Status() != 416 || e.Message != "Requested range not satisfiable" {
			t.Errorf("%s: %v", raw, err)
		}
	}
	_, err := ParseQuery("limit=-1")
	if e := asError(t, err); e.Details != "Limit should be greater than or equal to zero." {
		t.Errorf("negative limit details = %q", e.Details)
	}
}

func TestColumnsAndOnConflict(t *testing.T) {
	q := mustQuery(t, `columns=id,"full name",title&on_conflict=a,+b`)
	equal(t, "columns", q.Columns, []string{"id", "full name", "title"})
	equal(t, "on_conflict", q.OnConflict, []string{"a", "b"})
	// postgrest-js sends bulk-insert columns quoted.
	equal(t, "postgrest-js columns", mustQuery(t, "columns=%22id%22%2C%22title%22").Columns, []string{"id", "title"})
	if q := mustQuery(t, "id=eq.1"); q.Columns != nil || q.OnConflict != nil {
		t.Errorf("absent columns/on_conflict: %+v %+v", q.Columns, q.OnConflict)
	}
	for _, raw := range []string{"columns=", "columns=a,,b", "on_conflict=a(b)"} {
		_, err := ParseQuery(raw)
		if e := asError(t, err); e.Code != CodeParse {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

func TestQueryStringDecoding(t *testing.T) {
	// '+' is a space, %2B a plus; empty pairs and keys without '=' are ignored.
	q := mustQuery(t, "name=eq.a+b%2Bc&&flag&id=eq.1&")
	equal(t, "where", q.Where, []Where{
		{Expr: leaf(Filter{Field: col("name"), Op: OpEq, Value: "a b+c"})},
		{Expr: leaf(Filter{Field: col("id"), Op: OpEq, Value: "1"})},
	})
	tests := []struct{ raw, wantCode string }{
		{"name=eq.%zz", CodeParse},
		{"name=eq.%ff", CodeParse},   // invalid UTF-8
		{"name=eq.a%00b", CodeParse}, // NUL
		{"%ff=eq.1", CodeParse},
		{"=", CodeParse}, // an empty key is a filter on no column, as in PostgREST
	}
	for _, tt := range tests {
		_, err := ParseQuery(tt.raw)
		if e := asError(t, err); e.Code != tt.wantCode {
			t.Errorf("%s: %v", tt.raw, err)
		}
	}
	if _, err := ParseQuery("a=eq." + strings.Repeat("x", maxQueryLen)); err == nil {
		t.Error("over-long query accepted")
	}
}

func TestReservedKeys(t *testing.T) {
	for _, k := range []string{"select", "columns", "on_conflict", "order", "limit", "offset", "and", "or",
		"not.or", "not.and", "books.order", "books.limit", "a.b.offset", "books.or"} {
		if !IsReservedKey(k) {
			t.Errorf("IsReservedKey(%q) = false", k)
		}
	}
	for _, k := range []string{"id", "name", "books.select", "orders", `"order"`, "books.id"} {
		if IsReservedKey(k) {
			t.Errorf("IsReservedKey(%q) = true", k)
		}
	}
	keys := ReservedKeys()
	keys[0] = "mutated"
	if ReservedKeys()[0] != "select" {
		t.Error("ReservedKeys shares state")
	}
}
