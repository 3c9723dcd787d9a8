package authz_test

import (
	"reflect"
	"testing"

	"github.com/plinth-dev/plinth/platform/authz"
	"github.com/plinth-dev/plinth/tenants/query"
)

func mustParse(t *testing.T, cond string) query.Expr {
	t.Helper()
	e, err := query.ParseCondition(cond)
	if err != nil {
		t.Fatalf("parse %q: %v", cond, err)
	}
	return e
}

// The check endpoint shows the OR of several conditions as one condition;
// it must read back as exactly the same tree, whatever the values hold.
func TestFormatConditionRoundTrip(t *testing.T) {
	t.Parallel()
	conds := []string{
		"owner_id=eq.{auth.uid}",
		"public=is.true",
		"team=eq.{auth.claims.app_metadata.team}",
		"or=(public.is.true,team=eq.{auth.claims.team})",
		"a=eq.1&b=gt.2&c=not.is.null",
		"name=eq.a,b",
		"name=eq.has (parens) and \"quotes\" and \\ backslash",
		"name=like.*tea*",
		"tags=cs.{a,b}",
		"id=in.(1,2,\"x,y\",{auth.uid})",
		"id=in.()",
		"data->>team=eq.red",
		"data->0->>k=eq.v",
		"not.or=(a.eq.1,and(b.lt.2,c.neq. x ))",
		"body=fts(english).tea",
		"n=gt(any).{1,2}",
		"\"order\"=eq.1",
		"\"my col\"=eq.x",
		"name=eq.",
		"name=eq.&b=eq.1",
	}
	var all []query.Expr
	for _, c := range conds {
		e := mustParse(t, c)
		all = append(all, e)
		// One condition alone reads back equivalent (a leaf may come back
		// wrapped in a one-element and=(...)), and formatting is stable.
		text := authz.FormatCondition(e)
		again := authz.FormatCondition(mustParse(t, text))
		if again != text {
			t.Errorf("%q: formatted %q, then %q", c, text, again)
		}
	}
	// The OR of all of them is exact.
	or := query.Expr{Op: query.Or, Children: all}
	text := authz.FormatCondition(or)
	back := mustParse(t, text)
	if !reflect.DeepEqual(back, or) {
		t.Fatalf("round trip of %s:\n got %#v\nwant %#v", text, back, or)
	}
	if got := authz.FormatCondition(query.Expr{Op: query.And}); got != "" {
		t.Fatalf("empty condition formats as %q", got)
	}
}
