package query

import "testing"

func TestParseRPC(t *testing.T) {
	q, args, err := ParseRPC("a=1&b=x+y&select=id&id=gt.5&order=id&name=eq.bob&ids=1&ids=2", nil)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "args", args, []Arg{{"a", "1"}, {"b", "x y"}, {"ids", "1"}, {"ids", "2"}})
	equal(t, "where", q.Where, []Where{
		{Expr: leaf(Filter{Field: col("id"), Op: OpGt, Value: "5"})},
		{Expr: leaf(Filter{Field: col("name"), Op: OpEq, Value: "bob"})},
	})
	equal(t, "select", q.Select, []SelectItem{column("id")})

	// With the function's argument names known, an argument may look like a filter.
	isArg := func(n string) bool { return n == "name" || n == "q" }
	q, args, err = ParseRPC("name=eq.bob&q=in.town&id=gt.5&other=7", isArg)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "args", args, []Arg{{"name", "eq.bob"}, {"q", "in.town"}, {"other", "7"}})
	if len(q.Where) != 1 || q.Where[0].Expr.Filter.Field.Name != "id" {
		t.Errorf("where = %+v", q.Where)
	}

	// Embedded filters and reserved keys never become arguments.
	_, args, err = ParseRPC("books.id=eq.1&limit=3&or=(a.eq.1)", func(string) bool { return true })
	if err != nil || len(args) != 0 {
		t.Errorf("args = %+v, err = %v", args, err)
	}
	if _, _, err := ParseRPC("books.id=bogus", nil); asError(t, err).Code != CodeParse {
		t.Errorf("embedded non-filter: %v", err)
	}
	if _, _, err := ParseRPC("a=%zz", nil); asError(t, err).Code != CodeParse {
		t.Errorf("bad escape: %v", err)
	}
}
