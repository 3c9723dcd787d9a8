package authz

import (
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/schema"
)

// fuzzSchema is a small project schema for rule validation.
func fuzzSchema() *schema.Schema {
	s := &schema.Schema{Name: "p_fuzz", Tables: map[string]*schema.Table{}, Functions: map[string][]*schema.Function{}}
	t := &schema.Table{Name: "notes", Kind: "table", Insertable: true, PrimaryKey: []string{"id"}, ColumnIndex: map[string]*schema.Column{}}
	for i, c := range []string{"id", "owner_id", "team", "public", "body"} {
		col := &schema.Column{Name: c, Position: i + 1, Type: "text", Nullable: true}
		t.Columns = append(t.Columns, col)
		t.ColumnIndex[c] = col
	}
	s.Tables["notes"] = t
	s.Functions["ping"] = []*schema.Function{{Name: "ping", ReturnType: "void", Volatile: "v"}}
	return s
}

// FuzzRuleCondition feeds arbitrary rule conditions, tables, actions and
// roles through the rules API's validation: no input may panic, every
// refusal is a 4xx, and an accepted condition formats to text that parses
// back to the same condition (the rules/check endpoint relies on it).
// Run longer with: go test -run '^$' -fuzz FuzzRuleCondition ./platform/authz/
func FuzzRuleCondition(f *testing.F) {
	for _, seed := range []string{
		"owner_id=eq.{auth.uid}",
		"or=(public.is.true,team=eq.{auth.claims.team})",
		"team=in.(\"a,b\",c)&public=is.true",
		"not.and=(id.gt.1,body.like.*x*)",
		"body=eq.'; drop table notes; --",
		"owner_id=eq.{auth.nope}",
		"nosuch=eq.1",
		"or=" + strings.Repeat("(", 80),
		"id=eq.\x00\xff",
	} {
		f.Add(seed, "notes", "select", "authenticated")
	}
	f.Add("", "rpc:ping", "execute", "anon")
	f.Add("id=eq.1", "no*", "*", "editor")
	sch := fuzzSchema()
	f.Fuzz(func(t *testing.T, cond, table, action, role string) {
		if e, err := query.ParseCondition(cond); err == nil {
			text := FormatCondition(e)
			again, err := query.ParseCondition(text)
			if err != nil {
				t.Fatalf("formatted condition %q (from %q) does not parse: %v", text, cond, err)
			}
			if FormatCondition(again) != text {
				t.Fatalf("format is not stable: %q -> %q", text, FormatCondition(again))
			}
		}
		rs := RuleSet{
			Policies: []Policy{{Role: role, Table: table, Action: action, Condition: cond}},
			Roles:    []RoleDef{{Role: "editor", Inherits: "authenticated"}},
		}
		out, err := Validate(rs, sch)
		if err != nil {
			if e := apierror.From(err, false); e.Status < 400 || e.Status >= 500 {
				t.Fatalf("refusal with status %d: %v", e.Status, err)
			}
			return
		}
		if len(out.Policies) != 1 {
			t.Fatalf("accepted rule set lost its policy: %+v", out)
		}
		if _, err := query.ParseCondition(out.Policies[0].Condition); err != nil {
			t.Fatalf("accepted condition %q does not parse: %v", out.Policies[0].Condition, err)
		}
	})
}
