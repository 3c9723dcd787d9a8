package query

import "testing"

func TestFilterOperators(t *testing.T) {
	tests := []struct {
		raw  string
		want Filter
	}{
		{"id=eq.1", Filter{Field: col("id"), Op: OpEq, Value: "1"}},
		{"id=neq.1", Filter{Field: col("id"), Op: OpNeq, Value: "1"}},
		{"id=gt.1", Filter{Field: col("id"), Op: OpGt, Value: "1"}},
		{"id=gte.1", Filter{Field: col("id"), Op: OpGte, Value: "1"}},
		{"id=lt.1", Filter{Field: col("id"), Op: OpLt, Value: "1"}},
		{"id=lte.1", Filter{Field: col("id"), Op: OpLte, Value: "1"}},
		{"name=like.*ab*", Filter{Field: col("name"), Op: OpLike, Value: "*ab*"}},
		{"name=ilike.*AB%25", Filter{Field: col("name"), Op: OpILike, Value: "*AB%"}},
		{"name=match.^a.b$", Filter{Field: col("name"), Op: OpMatch, Value: "^a.b$"}},
		{"name=imatch.x", Filter{Field: col("name"), Op: OpIMatch, Value: "x"}},
		{"id=in.(1,2,3)", Filter{Field: col("id"), Op: OpIn, List: []string{"1", "2", "3"}}},
		{"a=is.null", Filter{Field: col("a"), Op: OpIs, Value: IsNull}},
		{"a=is.NULL", Filter{Field: col("a"), Op: OpIs, Value: IsNull}},
		{"a=is.not_null", Filter{Field: col("a"), Op: OpIs, Value: IsNotNull}},
		{"a=is.true", Filter{Field: col("a"), Op: OpIs, Value: IsTrue}},
		{"a=is.False", Filter{Field: col("a"), Op: OpIs, Value: IsFalse}},
		{"a=is.unknown", Filter{Field: col("a"), Op: OpIs, Value: IsUnknown}},
		{"a=isdistinct.5", Filter{Field: col("a"), Op: OpIsDistinct, Value: "5"}},
		{"t=fts.cat", Filter{Field: col("t"), Op: OpFts, Value: "cat"}},
		{"t=fts(english).cat", Filter{Field: col("t"), Op: OpFts, Lang: "english", Value: "cat"}},
		{"t=plfts.fat+cat", Filter{Field: col("t"), Op: OpPlFts, Value: "fat cat"}},
		{"t=phfts(simple).fat+cat", Filter{Field: col("t"), Op: OpPhFts, Lang: "simple", Value: "fat cat"}},
		{"t=wfts.%22fat+cat%22+-rat", Filter{Field: col("t"), Op: OpWFts, Value: `"fat cat" -rat`}},
		{"tags=cs.{a,b}", Filter{Field: col("tags"), Op: OpCs, Value: "{a,b}"}},
		{"tags=cd.{a,b}", Filter{Field: col("tags"), Op: OpCd, Value: "{a,b}"}},
		{"r=ov.[1,5)", Filter{Field: col("r"), Op: OpOv, Value: "[1,5)"}},
		{"r=sl.(1,10)", Filter{Field: col("r"), Op: OpSl, Value: "(1,10)"}},
		{"r=sr.(1,10)", Filter{Field: col("r"), Op: OpSr, Value: "(1,10)"}},
		{"r=nxl.(1,10)", Filter{Field: col("r"), Op: OpNxl, Value: "(1,10)"}},
		{"r=nxr.(1,10)", Filter{Field: col("r"), Op: OpNxr, Value: "(1,10)"}},
		{"r=adj.(1,10)", Filter{Field: col("r"), Op: OpAdj, Value: "(1,10)"}},
		{"id=not.eq.1", Filter{Field: col("id"), Not: true, Op: OpEq, Value: "1"}},
		{"id=not.in.(1,2)", Filter{Field: col("id"), Not: true, Op: OpIn, List: []string{"1", "2"}}},
		{"a=not.is.null", Filter{Field: col("a"), Not: true, Op: OpIs, Value: IsNull}},
		{"name=like(any).{a*,b*}", Filter{Field: col("name"), Op: OpLike, Quant: QuantAny, Value: "{a*,b*}"}},
		{"name=not.ilike(all).{a*,b*}", Filter{Field: col("name"), Not: true, Op: OpILike, Quant: QuantAll, Value: "{a*,b*}"}},
		{"id=eq(any).{1,2}", Filter{Field: col("id"), Op: OpEq, Quant: QuantAny, Value: "{1,2}"}},
		{"id=gte(all).{1,2}", Filter{Field: col("id"), Op: OpGte, Quant: QuantAll, Value: "{1,2}"}},
		{"name=match(any).{a,b}", Filter{Field: col("name"), Op: OpMatch, Quant: QuantAny, Value: "{a,b}"}},
		// A top-level value is everything after the operator, dots and all.
		{"v=eq.a.b,c)", Filter{Field: col("v"), Op: OpEq, Value: "a.b,c)"}},
		{"v=eq.", Filter{Field: col("v"), Op: OpEq, Value: ""}},
		{`v=eq."quoted"`, Filter{Field: col("v"), Op: OpEq, Value: `"quoted"`}},
		{"ts=gt.2024-01-01T00:00:00%2B00:00", Filter{Field: col("ts"), Op: OpGt, Value: "2024-01-01T00:00:00+00:00"}},
		{"data->a->>b=eq.x", Filter{Field: Field{Name: "data", JSON: []JSONStep{{Key: "a"}, {Key: "b", AsText: true}}}, Op: OpEq, Value: "x"}},
		{"data->0->>-1=eq.x", Filter{Field: Field{Name: "data", JSON: []JSONStep{{Key: "0", Index: true}, {Key: "-1", Index: true, AsText: true}}}, Op: OpEq, Value: "x"}},
		{"my-col=eq.1", Filter{Field: col("my-col"), Op: OpEq, Value: "1"}},
		{"first+name=eq.Ann", Filter{Field: col("first name"), Op: OpEq, Value: "Ann"}},
		{`"a.b"=eq.1`, Filter{Field: col("a.b"), Op: OpEq, Value: "1"}},
		{`"order"=eq.1`, Filter{Field: col("order"), Op: OpEq, Value: "1"}},
		{"名前=eq.値", Filter{Field: col("名前"), Op: OpEq, Value: "値"}},
	}
	for _, tt := range tests {
		q := mustQuery(t, tt.raw)
		want := []Where{{Expr: leaf(tt.want)}}
		equal(t, tt.raw, q.Where, want)
	}
}

func TestInListQuoting(t *testing.T) {
	tests := []struct {
		value string
		want  []string
	}{
		{`(a,"b,c",d)`, []string{"a", "b,c", "d"}},
		{`("Hebdon,John","Williams,Mary")`, []string{"Hebdon,John", "Williams,Mary"}},
		{`("a\"b","c\\d")`, []string{`a"b`, `c\d`}},
		{`("x)y")`, []string{"x)y"}},
		{`(a"b,c)`, []string{`a"b`, "c"}},
		{`("a"b,c)`, []string{`"a"b`, "c"}}, // a quote not closing the element is literal
		{`()`, []string{}},
		{`( )`, []string{}},
		{`("")`, []string{""}},
		{`(,)`, []string{"", ""}},
		{`(1, 2)`, []string{"1", " 2"}},
		{`(ü,€)`, []string{"ü", "€"}},
	}
	for _, tt := range tests {
		f, err := parseFilterValue(col("c"), "in."+tt.value, nil)
		if err != nil {
			t.Errorf("in.%s: %v", tt.value, err)
			continue
		}
		equal(t, "in."+tt.value, f.List, tt.want)
	}
}

func TestEmbeddedFilters(t *testing.T) {
	q := mustQuery(t, "author.name=eq.x&books.reviews.stars=gte.4&books.data->>k=eq.v")
	want := []Where{
		{Path: Path{"author"}, Expr: leaf(Filter{Field: col("name"), Op: OpEq, Value: "x"})},
		{Path: Path{"books", "reviews"}, Expr: leaf(Filter{Field: col("stars"), Op: OpGte, Value: "4"})},
		{Path: Path{"books"}, Expr: leaf(Filter{Field: Field{Name: "data", JSON: []JSONStep{{Key: "k", AsText: true}}}, Op: OpEq, Value: "v"})},
	}
	equal(t, "where", q.Where, want)
	if got := q.WhereFor(Path{"books", "reviews"}); len(got) != 1 || got[0].Filter.Field.Name != "stars" {
		t.Errorf("WhereFor(books.reviews) = %+v", got)
	}
	if got := q.WhereFor(nil); len(got) != 0 {
		t.Errorf("WhereFor(root) = %+v, want none", got)
	}
}

func TestFilterErrors(t *testing.T) {
	tests := []struct {
		raw     string
		message string
		details string
	}{
		{"id=eq", "failed to parse filter (eq) at position 2: unexpected end of input", `unexpected end of input expecting delimiter (.)`},
		{"id=noop.1", `failed to parse filter (noop.1) at position 0: unknown operator "noop"`, `unexpected "noop" expecting operator (eq, gt, ...)`},
		{"id=1", `failed to parse filter (1) at position 0: unexpected "1"`, `unexpected "1" expecting "not" or operator (eq, gt, ...)`},
		{"id=", `failed to parse filter () at position 0: unexpected end of input`, `unexpected end of input expecting "not" or operator (eq, gt, ...)`},
		{"id=in.1,2", `failed to parse filter (in.1,2) at position 3: unexpected "1"`, `unexpected "1" expecting "("`},
		{"id=in.(1,2", `failed to parse filter (in.(1,2) at position 7: unexpected end of input`, ``},
		{"id=in.(1)x", `failed to parse filter (in.(1)x) at position 6: unexpected "x"`, ``},
		{"a=is.nul", `failed to parse filter (is.nul) at position 3: unexpected "n"`, `unexpected "n" expecting isVal: (null, not_null, true, false, unknown)`},
		{"a=neq(any).1", `failed to parse filter (neq(any).1) at position 3: unexpected "("`, ``},
		{"a=eq(some).1", `failed to parse filter (eq(some).1) at position 3: unexpected "s"`, `unexpected "s" expecting "any" or "all"`},
		{"a=in(any).(1)", `failed to parse filter (in(any).(1)) at position 2: unexpected "("`, ``},
		{"a=fts().x", `failed to parse filter (fts().x) at position 4: unexpected ")"`, ``},
		{"a=not.1", `failed to parse filter (not.1) at position 4: unexpected "1"`, ``},
		{"a=EQ.1", `failed to parse filter (EQ.1) at position 0: unexpected "E"`, ``},
		{"=eq.1", `failed to parse tree path () at position 0: unexpected end of input`, ``},
		{"a.=eq.1", `failed to parse tree path (a.) at position 2: unexpected end of input`, ``},
		{"data->=eq.1", `failed to parse tree path (data->) at position 6: unexpected end of input`, ``},
	}
	for _, tt := range tests {
		_, err := ParseQuery(tt.raw)
		if err == nil {
			t.Errorf("%s: no error", tt.raw)
			continue
		}
		e := asError(t, err)
		if e.Code != CodeParse {
			t.Errorf("%s: code %s", tt.raw, e.Code)
		}
		if e.Message != tt.message {
			t.Errorf("%s: message\n got  %q\n want %q", tt.raw, e.Message, tt.message)
		}
		if tt.details != "" && e.Details != tt.details {
			t.Errorf("%s: details\n got  %q\n want %q", tt.raw, e.Details, tt.details)
		}
	}
}
