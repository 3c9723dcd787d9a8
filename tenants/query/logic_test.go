package query

import (
	"strings"
	"testing"
)

func TestLogicTrees(t *testing.T) {
	a1 := leaf(Filter{Field: col("a"), Op: OpEq, Value: "1"})
	tests := []struct {
		raw  string
		want []Where
	}{
		{"or=(a.eq.1,and(b.gt.2,c.is.null))", []Where{{Expr: group(Or, false, a1,
			group(And, false,
				leaf(Filter{Field: col("b"), Op: OpGt, Value: "2"}),
				leaf(Filter{Field: col("c"), Op: OpIs, Value: IsNull})))}}},
		{"and=(a.eq.1)", []Where{{Expr: group(And, false, a1)}}},
		{"not.or=(a.eq.1,b.not.eq.2)", []Where{{Expr: group(Or, true, a1,
			leaf(Filter{Field: col("b"), Not: true, Op: OpEq, Value: "2"}))}}},
		{"not.and=(a.eq.1)", []Where{{Expr: group(And, true, a1)}}},
		{"or=(a.eq.1,not.and(b.eq.2,or(c.eq.3,d.eq.4)))", []Where{{Expr: group(Or, false, a1,
			group(And, true,
				leaf(Filter{Field: col("b"), Op: OpEq, Value: "2"}),
				group(Or, false,
					leaf(Filter{Field: col("c"), Op: OpEq, Value: "3"}),
					leaf(Filter{Field: col("d"), Op: OpEq, Value: "4"}))))}}},
		{"books.or=(a.eq.1)", []Where{{Path: Path{"books"}, Expr: group(Or, false, a1)}}},
		{"books.not.and=(a.eq.1)", []Where{{Path: Path{"books"}, Expr: group(And, true, a1)}}},
		{"a.b.or=(a.eq.1)", []Where{{Path: Path{"a", "b"}, Expr: group(Or, false, a1)}}},
		// Spaces around the structure are tolerated (but belong to raw values).
		{"or=( a.eq.1, and ( a.eq.1) )", []Where{{Expr: group(Or, false, a1, group(And, false, a1))}}},
		// Values: quoted, arrays, in-lists, operators with modifiers.
		{`or=(name.eq."a,b)",name.eq."x\"y")`, []Where{{Expr: group(Or, false,
			leaf(Filter{Field: col("name"), Op: OpEq, Value: "a,b)"}),
			leaf(Filter{Field: col("name"), Op: OpEq, Value: `x"y`}))}}},
		{`or=(tags.cs.{a,b},id.in.(1,"2,3"),n.like(any).{a*,b*},t.fts(english).cat)`, []Where{{Expr: group(Or, false,
			leaf(Filter{Field: col("tags"), Op: OpCs, Value: "{a,b}"}),
			leaf(Filter{Field: col("id"), Op: OpIn, List: []string{"1", "2,3"}}),
			leaf(Filter{Field: col("n"), Op: OpLike, Quant: QuantAny, Value: "{a*,b*}"}),
			leaf(Filter{Field: col("t"), Op: OpFts, Lang: "english", Value: "cat"}))}}},
		{`or=(a.eq.,b.is.TRUE,c.eq.x y)`, []Where{{Expr: group(Or, false,
			leaf(Filter{Field: col("a"), Op: OpEq, Value: ""}),
			leaf(Filter{Field: col("b"), Op: OpIs, Value: IsTrue}),
			leaf(Filter{Field: col("c"), Op: OpEq, Value: "x y"}))}}},
		{`or=(data->>k.eq.1,data->0.eq.2)`, []Where{{Expr: group(Or, false,
			leaf(Filter{Field: Field{Name: "data", JSON: []JSONStep{{Key: "k", AsText: true}}}, Op: OpEq, Value: "1"}),
			leaf(Filter{Field: Field{Name: "data", JSON: []JSONStep{{Key: "0", Index: true}}}, Op: OpEq, Value: "2"}))}}},
		// Columns named like the logic words.
		{`or=(or.eq.1,not.eq.2,and.is.null)`, []Where{{Expr: group(Or, false,
			leaf(Filter{Field: col("or"), Op: OpEq, Value: "1"}),
			leaf(Filter{Field: col("not"), Op: OpEq, Value: "2"}),
			leaf(Filter{Field: col("and"), Op: OpIs, Value: IsNull}))}}},
	}
	for _, tt := range tests {
		q := mustQuery(t, tt.raw)
		equal(t, tt.raw, q.Where, tt.want)
	}
}

func TestLogicAndFiltersCombine(t *testing.T) {
	q := mustQuery(t, "id=gt.1&or=(a.eq.1,b.eq.2)&books.id=eq.3")
	if len(q.WhereFor(nil)) != 2 || len(q.WhereFor(Path{"books"})) != 1 {
		t.Errorf("where = %+v", q.Where)
	}
}

func TestLogicErrors(t *testing.T) {
	tests := []struct{ raw, message string }{
		{"or=()", `failed to parse logic tree (()) at position 1: unexpected ")"`},
		{"or=a.eq.1", `failed to parse logic tree (a.eq.1) at position 0: unexpected "a"`},
		{"or=(id.in.1,2,id.eq.3)", `failed to parse logic tree ((id.in.1,2,id.eq.3)) at position 7: unexpected "1"`},
		{"or=(a.eq.1", `failed to parse logic tree ((a.eq.1) at position 7: unexpected end of input`},
		{"or=(a.eq.1))", `failed to parse logic tree ((a.eq.1))) at position 8: unexpected ")"`},
		{"or=(a.eq.1,not.xor(b.eq.2))", `failed to parse logic tree ((a.eq.1,not.xor(b.eq.2))) at position 12: unknown operator "xor"`},
		{"or=(a.eq.1,)", `failed to parse logic tree ((a.eq.1,)) at position 8: unexpected ")"`},
		{"or=(a)", `failed to parse logic tree ((a)) at position 2: unexpected ")"`},
		{"or=(a.is.maybe)", `failed to parse logic tree ((a.is.maybe)) at position 6: unexpected "m"`},
		{"or=(a.eq.x)b", `failed to parse logic tree ((a.eq.x)b) at position 8: unexpected "b"`},
		{"x.=(a.eq.1)", `failed to parse tree path (x.) at position 2: unexpected end of input`},
	}
	for _, tt := range tests {
		_, err := ParseQuery(tt.raw)
		if err == nil {
			t.Errorf("%s: no error", tt.raw)
			continue
		}
		if e := asError(t, err); e.Code != CodeParse || e.Message != tt.message {
			t.Errorf("%s:\n got  %s %q\n want %q", tt.raw, e.Code, e.Message, tt.message)
		}
	}
}

func TestLogicDepthCap(t *testing.T) {
	ok := "or=(" + strings.Repeat("and(", maxDepth-1) + "a.eq.1" + strings.Repeat(")", maxDepth-1) + ")"
	mustQuery(t, ok)
	deep := "or=(" + strings.Repeat("and(", maxDepth) + "a.eq.1" + strings.Repeat(")", maxDepth) + ")"
	_, err := ParseQuery(deep)
	if e := asError(t, err); e.Code != CodeParse || !strings.Contains(e.Message, "nested too deeply") {
		t.Errorf("deep tree: %v", err)
	}
	huge := "or=(" + strings.Repeat("and(", 100000)
	if _, err := ParseQuery(huge); err == nil {
		t.Error("huge nesting accepted")
	}
}

// In requests a tree leaf is col.op.value only, as in PostgREST; col=op.value
// is accepted in access-rule conditions alone.
func TestLogicEqualsDelimiterOnlyInConditions(t *testing.T) {
	if _, err := ParseQuery("or=(a=eq.1)"); err == nil {
		t.Error("request accepted col=op inside a tree")
	}
	if _, err := ParseCondition("or=(a=eq.1,b.eq.2)"); err != nil {
		t.Error(err)
	}
}
