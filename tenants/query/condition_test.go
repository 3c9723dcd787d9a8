package query

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCondition(t *testing.T) {
	tests := []struct {
		cond string
		want Expr
	}{
		{"", Expr{Op: And}},
		{"  ", Expr{Op: And}},
		{"owner_id=eq.{auth.uid}", leaf(Filter{Field: col("owner_id"), Op: OpEq, Value: "{auth.uid}"})},
		{"or=(public.is.true,team=eq.{auth.claims.team})", group(Or, false,
			leaf(Filter{Field: col("public"), Op: OpIs, Value: IsTrue}),
			// DESIGN §7.1's spelling: col=op.value inside a tree.
			leaf(Filter{Field: col("team"), Op: OpEq, Value: "{auth.claims.team}"}))},
		{"or=(public.is.true,team.eq.{auth.claims.team})", group(Or, false,
			leaf(Filter{Field: col("public"), Op: OpIs, Value: IsTrue}),
			leaf(Filter{Field: col("team"), Op: OpEq, Value: "{auth.claims.team}"}))},
		{"owner_id=eq.{auth.uid}&status=neq.archived", group(And, false,
			leaf(Filter{Field: col("owner_id"), Op: OpEq, Value: "{auth.uid}"}),
			leaf(Filter{Field: col("status"), Op: OpNeq, Value: "archived"}))},
		{"not.and=(a.eq.1,b.eq.2)", group(And, true,
			leaf(Filter{Field: col("a"), Op: OpEq, Value: "1"}),
			leaf(Filter{Field: col("b"), Op: OpEq, Value: "2"}))},
		{`or=(name.eq."a&b",id.in.({auth.uid},x))&n=like.50%`, group(And, false,
			group(Or, false,
				leaf(Filter{Field: col("name"), Op: OpEq, Value: "a&b"}),
				leaf(Filter{Field: col("id"), Op: OpIn, List: []string{"{auth.uid}", "x"}})),
			leaf(Filter{Field: col("n"), Op: OpLike, Value: "50%"}))},
		{"role=eq.{auth.role}", leaf(Filter{Field: col("role"), Op: OpEq, Value: "{auth.role}"})},
		{"tags=cs.{a,b}", leaf(Filter{Field: col("tags"), Op: OpCs, Value: "{a,b}"})},
	}
	for _, tt := range tests {
		got, err := ParseCondition(tt.cond)
		if err != nil {
			t.Errorf("%q: %v", tt.cond, err)
			continue
		}
		equal(t, tt.cond, got, tt.want)
	}
	if e, _ := ParseCondition(""); !e.IsEmpty() {
		t.Error("empty condition is not IsEmpty")
	}
}

func TestParseConditionErrors(t *testing.T) {
	for _, cond := range []string{
		"owner_id",
		"owner_id=",
		"owner_id=eq.{auth.user}",
		"owner_id=eq.{auth.claims.}",
		"id=in.({auth.uuid})",
		"author.id=eq.1",
		"select=id",
		"order=id",
		"limit=1",
		"books.or=(a.eq.1)",
		"or=(a.eq.1",
		"a=eq.\x00",
		"a=eq.\xff",
	} {
		_, err := ParseCondition(cond)
		if err == nil {
			t.Errorf("%q: no error", cond)
			continue
		}
		if e := asError(t, err); e.Code != CodeParse {
			t.Errorf("%q: %v", cond, err)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		v    string
		want Placeholder
		ok   bool
	}{
		{"{auth.uid}", Placeholder{Kind: PlaceholderUID}, true},
		{"{auth.role}", Placeholder{Kind: PlaceholderRole}, true},
		{"{auth.claims.team}", Placeholder{Kind: PlaceholderClaim, Claim: []string{"team"}}, true},
		{"{auth.claims.app_metadata.org-id}", Placeholder{Kind: PlaceholderClaim, Claim: []string{"app_metadata", "org-id"}}, true},
		{"{auth.claims}", Placeholder{}, false},
		{"{auth.claims.a..b}", Placeholder{}, false},
		{"{auth.uid", Placeholder{}, false},
		{"auth.uid", Placeholder{}, false},
		{"x{auth.uid}", Placeholder{}, false},
	}
	for _, tt := range tests {
		got, ok := ParsePlaceholder(tt.v)
		if ok != tt.ok || (ok && (got.Kind != tt.want.Kind || strings.Join(got.Claim, ".") != strings.Join(tt.want.Claim, "."))) {
			t.Errorf("ParsePlaceholder(%q) = %+v %v", tt.v, got, ok)
		}
		if ok && got.String() != tt.v {
			t.Errorf("String() = %q, want %q", got.String(), tt.v)
		}
	}

	cond, err := ParseCondition("owner_id=eq.{auth.uid}&or=(team.eq.{auth.claims.org.team},id.in.(1,{auth.uid}),r.eq.{auth.role})")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range cond.Placeholders() {
		names = append(names, p.String())
	}
	if got := strings.Join(names, " "); got != "{auth.uid} {auth.claims.org.team} {auth.uid} {auth.role}" {
		t.Errorf("Placeholders = %s", got)
	}

	sub, err := cond.Substitute(func(p Placeholder) (string, error) {
		switch p.Kind {
		case PlaceholderUID:
			return "u-1,\"x)", nil // hostile text stays one value
		case PlaceholderRole:
			return "authenticated", nil
		}
		return strings.Join(p.Claim, "/"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := group(And, false,
		leaf(Filter{Field: col("owner_id"), Op: OpEq, Value: "u-1,\"x)"}),
		group(Or, false,
			leaf(Filter{Field: col("team"), Op: OpEq, Value: "org/team"}),
			leaf(Filter{Field: col("id"), Op: OpIn, List: []string{"1", "u-1,\"x)"}}),
			leaf(Filter{Field: col("r"), Op: OpEq, Value: "authenticated"})))
	equal(t, "substituted", sub, want)
	// The original is untouched.
	if cond.Children[0].Filter.Value != "{auth.uid}" || cond.Children[1].Children[1].Filter.List[1] != "{auth.uid}" {
		t.Error("Substitute modified its receiver")
	}

	missing := errors.New("no such claim")
	if _, err := cond.Substitute(func(p Placeholder) (string, error) {
		if p.Kind == PlaceholderClaim {
			return "", missing
		}
		return "x", nil
	}); !errors.Is(err, missing) {
		t.Errorf("Substitute error = %v", err)
	}
}
