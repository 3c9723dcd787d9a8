package query

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// FuzzParse checks that no input panics and that every error is a *Error.
// Run with: go test -run '^$' -fuzz FuzzParse ./tenants/query/
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"select=id,title,author:authors(name)&done=eq.false&order=id.desc&limit=20",
		"select=*,a:b!hint!inner(x,...c(y)),data->a->>b::text",
		"or=(a.eq.1,and(b.gt.2,c.is.null))&books.not.or=(x.in.(1,\"a,b\"),y.like(any).{a*,b*})",
		"id=in.(1,\"2,3\",4)&t=fts(english).cat&r=ov.[1,5)&a=is.not_null",
		"order=author(name).desc.nullslast,data->0.asc&books.limit=2&books.offset=1",
		"columns=a,b&on_conflict=id",
		"owner_id=eq.{auth.uid}&or=(public.is.true,team=eq.{auth.claims.team})",
		"a=%zz&b=%ff%00",
		"or=" + strings.Repeat("(", 64),
		"select=" + strings.Repeat("a(", 64),
		`x="\`,
	} {
		f.Add(seed, "count=exact, return=representation", "0-9", "application/json;q=0.5, text/csv")
	}
	f.Fuzz(func(t *testing.T, raw, prefer, rng, accept string) {
		check := func(what string, err error) {
			if err == nil {
				return
			}
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("%s: error %v is %T, not *query.Error", what, err, err)
			}
			if qe.Code == "" || qe.Message == "" {
				t.Fatalf("%s: incomplete error %+v", what, qe)
			}
		}
		q, err := ParseQuery(raw)
		check("ParseQuery", err)
		if err == nil && q.Select == nil {
			t.Fatal("nil Select without error")
		}
		checkShapeRoundTrip(t, raw)
		_, _, err = ParseRPC(raw, func(n string) bool { return len(n)%2 == 0 })
		check("ParseRPC", err)
		cond, err := ParseCondition(raw)
		check("ParseCondition", err)
		if err == nil {
			_, _ = cond.Substitute(func(Placeholder) (string, error) { return raw, nil })
			_ = cond.Placeholders()
		}
		h := http.Header{"Prefer": {prefer}, "Range": {rng}, "Accept": {accept}}
		_, err = Parse(raw, h)
		check("Parse", err)
		_, err = ParseHeaders(h)
		check("ParseHeaders", err)
	})
}
