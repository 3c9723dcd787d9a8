package query

import (
	"bytes"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestShape(t *testing.T) {
	t.Parallel()
	same := [][2]string{
		{"id=eq.1", "id=eq.22"},
		{"select=id,title&score=gte.5&order=score.asc&limit=20", "select=id,title&score=gte.900&order=score.asc&limit=20"},
		{`or=(a.eq.1,b.eq."x,y")`, "or=(a.eq.2,b.eq.3)"},
		{"id=in.(1,2)", `id=in.(3,"4,5",6)`},
		{"name=like.*a*", "name=like.b"},
		{"t=fts(english).cat", "t=fts(english).dog%20house"},
		{"tags=cs.{a,b}&not.and=(x.lt.1,y.is.null)", "tags=cs.{c}&not.and=(x.lt.-7,y.is.null)"},
		{"a=eq.%00", "a=eq.1"}, // the first is refused (NUL); see below
	}
	for _, p := range same[:len(same)-1] {
		a, b := mustQuery(t, p[0]), mustQuery(t, p[1])
		if a.Shape != b.Shape {
			t.Errorf("%q and %q: shapes differ:\n%q\n%q", p[0], p[1], a.Shape, b.Shape)
		}
	}
	if _, err := ParseQuery(same[len(same)-1][0]); err == nil {
		t.Error("a NUL in a value must be refused: the shape relies on it")
	}
	differ := [][2]string{
		{"id=eq.1", "id=gt.1"},
		{"id=eq.1", "id=not.eq.1"},
		{"a=is.null", "a=is.true"},
		{"limit=1", "limit=2"},
		{"select=id", "select=id,name"},
		{"a=eq.1&b=eq.2", "a=eq.1"},
		{"or=(a.eq.1,b.eq.2)", "or=(a.eq.1)"},
		{"t=fts(english).cat", "t=fts(french).cat"},
		{"a=eq.1", "b=eq.1"},
		{"a=eq.1&b=eq.2", "b=eq.2&a=eq.1"},
		{"a=eq.x&b=eq.y", "a=eq.x%26b%3Deq.y"}, // one filter, not two
		{"order=a.asc", "order=a.desc"},
	}
	for _, p := range differ {
		if a, b := mustQuery(t, p[0]), mustQuery(t, p[1]); a.Shape == b.Shape {
			t.Errorf("%q and %q: same shape %q", p[0], p[1], a.Shape)
		}
	}
}

func TestSlots(t *testing.T) {
	t.Parallel()
	q := mustQuery(t, `a=eq.1&b=is.null&or=(c.in.(1,2),d.like.x*)&books.e=gt.5`)
	var vals []string
	for i, f := range q.Slots {
		if f.Slot != i+1 {
			t.Errorf("Slots[%d] has Slot %d", i, f.Slot)
		}
		vals = append(vals, f.Value+strings.Join(f.List, "|"))
	}
	if want := []string{"1", "1|2", "x*", "5"}; !reflect.DeepEqual(vals, want) {
		t.Errorf("slotted values %q, want %q", vals, want)
	}
	if f := q.Where[1].Expr.Filter; f.Op != OpIs || f.Slot != 0 {
		t.Errorf("an is filter binds no value: %+v", f)
	}
	cond, err := ParseCondition("owner_id=eq.{auth.uid}")
	if err != nil {
		t.Fatal(err)
	}
	if cond.Filter.Slot != 0 {
		t.Errorf("a rule condition's filter is not a query-string value: slot %d", cond.Filter.Slot)
	}
}

// Every query string in the table keeps its tree when its values change:
// checkShapeRoundTrip rebuilds a query string from the shape with other
// values and compares.
func TestShapeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"select=id,title,author:authors(name)&done=eq.false&order=id.desc&limit=20",
		"or=(a.eq.1,and(b.gt.2,c.is.null))&books.not.or=(x.in.(1,\"a,b\"),y.like(any).{a*,b*})",
		"id=in.(1,\"2,3\",4)&t=fts(english).cat&r=ov.[1,5)&a=is.not_null",
		`x=eq."quoted"&y=neq.a,b)&z=isdistinct.`,
	} {
		checkShapeRoundTrip(t, raw)
	}
}

// checkShapeRoundTrip holds ParseQuery to Query.Shape's promise for raw:
// the query string written back from raw's shape, with every value
// replaced, parses to the same shape and the same tree but for the values.
func checkShapeRoundTrip(t *testing.T, raw string) {
	t.Helper()
	q, err := ParseQuery(raw)
	if err != nil {
		return
	}
	if n := strings.Count(q.Shape, "\x00"); n != len(q.Slots) {
		t.Fatalf("%q: %d values in shape %q, %d slots", raw, n, q.Shape, len(q.Slots))
	}
	rebuilt, ok := fromShape(q)
	if !ok {
		t.Fatalf("%q: malformed shape %q", raw, q.Shape)
	}
	q2, err := ParseQuery(rebuilt)
	if err != nil {
		t.Fatalf("%q: rebuilt %q does not parse: %v", raw, rebuilt, err)
	}
	if q2.Shape != q.Shape {
		t.Fatalf("%q: rebuilt %q has shape %q, want %q", raw, rebuilt, q2.Shape, q.Shape)
	}
	for _, f := range q2.Slots {
		if v := f.Value + strings.Join(f.List, ""); v != "v"+strconv.Itoa(f.Slot) {
			t.Fatalf("%q: rebuilt %q: slot %d holds %q", raw, rebuilt, f.Slot, v)
		}
	}
	blank := func(q *Query) Query {
		c := *q
		c.Where = unslotted(q.Where)
		for _, w := range c.Where {
			blankValues(w.Expr)
		}
		c.Shape, c.Slots = "", nil
		return c
	}
	if a, b := blank(q), blank(q2); !reflect.DeepEqual(a, b) {
		t.Fatalf("%q and rebuilt %q: trees differ beyond values", raw, rebuilt)
	}
}

func blankValues(e Expr) {
	if f := e.Filter; f != nil && f.Op != OpIs {
		f.Value, f.List = "", nil
	}
	for _, c := range e.Children {
		blankValues(c)
	}
}

// fromShape writes a query string with q's shape, slot n's value being
// "vN" (an in list: "(vN)").
func fromShape(q *Query) (string, bool) {
	s, slot := q.Shape, 0
	var out []string
	next := func() (string, bool) {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			return "", false
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil || n > len(s)-i-1 {
			return "", false
		}
		v := s[i+1 : i+1+n]
		s = s[i+1+n:]
		return v, true
	}
	for s != "" {
		key, ok := next()
		if !ok {
			return "", false
		}
		masked, ok := next()
		if !ok {
			return "", false
		}
		var v bytes.Buffer
		for _, part := range strings.SplitAfter(masked, "\x00") {
			if !strings.HasSuffix(part, "\x00") {
				v.WriteString(part)
				continue
			}
			v.WriteString(strings.TrimSuffix(part, "\x00"))
			if slot >= len(q.Slots) {
				return "", false
			}
			val := "v" + strconv.Itoa(slot+1)
			if q.Slots[slot].Op == OpIn {
				val = "(" + val + ")"
			}
			v.WriteString(val)
			slot++
		}
		out = append(out, url.QueryEscape(key)+"="+url.QueryEscape(v.String()))
	}
	return strings.Join(out, "&"), true
}
