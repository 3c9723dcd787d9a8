package plinth

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTypedFilters(t *testing.T) {
	t.Parallel()
	const (
		done  Col[bool]            = "done"
		title Col[string]          = "title"
		id    Col[int64]           = "id"
		tags  Col[[]string]        = "tags"
		at    Col[time.Time]       = "at"
		meta  Col[json.RawMessage] = "meta"
	)
	when := time.Date(2025, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, c := range []struct {
		f    Filter
		want string
	}{
		{done.Eq(false), "done=eq.false"},
		{id.In(1, 2, 2), "id=in.(1,2)"},
		{title.In("a,b", "c"), `title=in.("a,b",c)`},
		{id.NotIn(3), "id=not.in.(3)"},
		{title.IsNull(), "title=is.null"},
		{title.NotNull(), "title=not.is.null"},
		{tags.Contains([]string{"x", "y"}), "tags=cs.{x,y}"},
		{tags.Overlaps([]string{"x"}), "tags=ov.{x}"},
		{at.Gte(when), "at=gte.2025-02-03T04:05:06Z"},
		{meta.Contains(json.RawMessage(`{"a":1}`)), `meta=cs.{"a":1}`},
		{title.ILike("*go*"), "title=ilike.*go*"},
		{Or(done.Eq(true), id.Gt(5)), "or=(done.eq.true,id.gt.5)"},
		{Or(title.Eq("a, b"), And(id.Gte(1), id.Lte(9))), `or=(title.eq."a, b",and(id.gte.1,id.lte.9))`},
		{Not(Or(done.Eq(true), title.Eq(`say "hi"`))), `not.or=(done.eq.true,title.eq."say \"hi\"")`},
		{Or(Not(done.Eq(true)), id.In(1, 2)), "or=(done.not.eq.true,id.in.(1,2))"},
		{F("age", "gte", 18), "age=gte.18"},
	} {
		if got := c.f.String(); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
	q := New("http://h", "demo", "k").From("todos").Select("*").Where(done.Eq(false), Or(id.Eq(1), id.Eq(2)))
	if got := q.URL(); got != "http://h/p/demo/rest/v1/todos?select=*&done=eq.false&or=%28id.eq.1%2Cid.eq.2%29" {
		t.Errorf("Where URL = %s", got)
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	s := "x"
	var nilp *int
	for _, c := range []struct {
		in   any
		want string
	}{
		{nil, "null"}, {true, "true"}, {int8(-3), "-3"}, {uint(7), "7"}, {1.5, "1.5"}, {1e21, "1e+21"}, {1e-7, "1e-7"},
		{float32(0.25), "0.25"}, {json.Number("12.50"), "12.50"}, {&s, "x"}, {nilp, "null"}, {[]any{1, nil, "a"}, "1,,a"},
		{map[string]int{"a": 1}, `{"a":1}`},
	} {
		if got := text(c.in); got != c.want {
			t.Errorf("text(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestHostRouting(t *testing.T) {
	t.Parallel()
	c := New("https://demo.example.com/", "", "k")
	if got := c.From("t").URL(); got != "https://demo.example.com/rest/v1/t" {
		t.Errorf("URL = %s", got)
	}
	if got := New("http://h", "demo", "k").From("my table/x").URL(); got != "http://h/p/demo/rest/v1/my%20table%2Fx" {
		t.Errorf("escaped URL = %s", got)
	}
	if _, err := New("http://h", "demo", "k").From(" ").Execute(t.Context(), nil); err == nil {
		t.Error("empty table name accepted")
	}
}
