// Package typegen turns a project's schema into source code: a TypeScript
// Database type in the shape `supabase gen types typescript` emits (so
// postgrest-js, supabase-js and Plinth's JS SDK are typed by it), and Go
// structs with typed table handles over Plinth's Go SDK. It is pure: the
// same schema.Schema always gives byte-identical output.
package typegen

import (
	"sort"
	"strings"

	"github.com/plinth-dev/plinth/tenants/schema"
)

// pgType is a Postgres type resolved against the project schema.
type pgType struct {
	name  string // canonical type name: "int4", "timestamptz", an enum's or a table's name
	array bool
	enum  bool
	table string // name of a table or view whose row type this is
}

// formatNames maps format_type spellings to pg_type names.
var formatNames = map[string]string{
	"smallint": "int2", "integer": "int4", "bigint": "int8", "real": "float4", "double precision": "float8",
	"boolean": "bool", "character varying": "varchar", "character": "bpchar", `"char"`: "char",
	"timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz",
	"time without time zone": "time", "time with time zone": "timetz", "bit varying": "varbit",
}

// model is the schema prepared for generation: sorted names and the enums
// the schema's columns use.
type model struct {
	s      *schema.Schema
	tables []*schema.Table // tables, partitioned and foreign tables, by name
	views  []*schema.Table // views and materialized views, by name
	enums  map[string][]string
	enumNs []string
	funcs  []string // callable function names, sorted
}

func newModel(s *schema.Schema) *model {
	m := &model{s: s, enums: map[string][]string{}}
	for _, name := range s.TableNames() {
		t := s.Tables[name]
		if t.Kind == "view" || t.Kind == "materialized_view" {
			m.views = append(m.views, t)
		} else {
			m.tables = append(m.tables, t)
		}
		for _, c := range t.Columns {
			if len(c.EnumVals) == 0 {
				continue
			}
			n := strings.TrimPrefix(c.TypeName, "_")
			if c.Category != "A" {
				n = c.TypeName
			}
			if _, ok := m.enums[n]; !ok {
				m.enums[n] = c.EnumVals
				m.enumNs = append(m.enumNs, n)
			}
		}
	}
	sort.Strings(m.enumNs)
	for name, fns := range s.Functions {
		if len(m.callable(fns)) > 0 {
			m.funcs = append(m.funcs, name)
		}
	}
	sort.Strings(m.funcs)
	return m
}

// callable keeps the overloads the data API can call: not trigger
// functions, and every argument named (or a single unnamed one, as
// PostgREST allows for a json/text body). They are sorted for determinism.
func (m *model) callable(fns []*schema.Function) []*schema.Function {
	var out []*schema.Function
	for _, f := range fns {
		rt := m.resolve(f.ReturnType)
		if rt.name == "trigger" || rt.name == "event_trigger" {
			continue
		}
		unnamed := 0
		for _, a := range f.Args {
			if a.Name == "" {
				unnamed++
			}
		}
		if unnamed > 0 && len(f.Args) != 1 {
			continue
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return argKey(out[i]) < argKey(out[j]) })
	return out
}

func argKey(f *schema.Function) string {
	var sb strings.Builder
	for _, a := range f.Args {
		sb.WriteString(a.Name)
		sb.WriteByte(' ')
		sb.WriteString(a.Type)
		sb.WriteByte(',')
	}
	return sb.String()
}

// column resolves a column's type from the catalog fields.
func (m *model) column(c *schema.Column) pgType {
	t := pgType{name: c.TypeName}
	if c.Category == "A" && strings.HasPrefix(c.TypeName, "_") {
		t.array = true
		t.name = c.TypeName[1:]
	}
	if _, ok := m.enums[t.name]; ok {
		t.enum = true
	} else if _, ok := m.s.Tables[t.name]; ok && c.Category == "C" {
		t.table = t.name
	}
	return t
}

// resolve parses a format_type spelling ("integer[]", "p_x.mood",
// "character varying(20)", "timestamp(3) with time zone").
func (m *model) resolve(spelled string) pgType {
	s := strings.TrimSpace(spelled)
	var t pgType
	for strings.HasSuffix(s, "[]") {
		t.array = true
		s = strings.TrimSpace(strings.TrimSuffix(s, "[]"))
	}
	s = stripTypmods(s)
	if n, ok := formatNames[s]; ok {
		t.name = n
		return t
	}
	parts := splitQualified(s)
	name := parts[len(parts)-1]
	t.name = name
	if _, ok := m.enums[name]; ok {
		t.enum = true
	} else if _, ok := m.s.Tables[name]; ok {
		t.table = name
	}
	return t
}

// stripTypmods removes (…) groups outside quotes and collapses spaces.
func stripTypmods(s string) string {
	var sb strings.Builder
	depth, quoted := 0, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && r == '(':
			depth++
			continue
		case !quoted && r == ')':
			depth--
			continue
		}
		if depth == 0 {
			sb.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(sb.String()), " ")
}

// splitQualified splits schema.name on dots outside quotes and unquotes.
func splitQualified(s string) []string {
	var parts []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"' && quoted && i+1 < len(s) && s[i+1] == '"':
			cur.WriteByte('"')
			i++
		case ch == '"':
			quoted = !quoted
		case ch == '.' && !quoted:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(ch)
		}
	}
	return append(parts, cur.String())
}

// insertable reports whether a relation accepts writes.
func insertable(t *schema.Table) bool {
	switch t.Kind {
	case "table", "partitioned_table":
		return true
	case "view", "foreign_table":
		return t.Insertable
	}
	return false
}

// oneToOne reports whether a foreign key's columns are also the table's
// primary key or a (non-partial) unique index, so each referenced row has
// at most one referencing row.
func oneToOne(t *schema.Table, fk *schema.ForeignKey) bool {
	if sameSet(fk.Columns, t.PrimaryKey) {
		return true
	}
	for _, ix := range t.Indexes {
		if ix.Unique && !strings.Contains(strings.ToUpper(ix.Definition), " WHERE ") && sameSet(fk.Columns, ix.Columns) {
			return true
		}
	}
	return false
}

func sameSet(a, b []string) bool {
	if len(a) == 0 || len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return true
}

// sortedFKs returns a table's foreign keys into the schema, by name.
func sortedFKs(s *schema.Schema, t *schema.Table) []*schema.ForeignKey {
	var out []*schema.ForeignKey
	for _, fk := range t.ForeignKeys {
		if _, ok := s.Tables[fk.RefTable]; ok {
			out = append(out, fk)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].RefTable < out[j].RefTable
	})
	return out
}
