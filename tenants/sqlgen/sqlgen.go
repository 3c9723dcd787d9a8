// Package sqlgen turns a parsed request (tenants/query) and a project's
// schema (tenants/schema) into one parameterised SQL statement. It is pure:
// every identifier is checked against the schema and quoted, every value is
// bound as a parameter, and Postgres builds the JSON.
package sqlgen

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/schema"
)

// Statement is SQL with its arguments.
type Statement struct {
	SQL  string
	Args []any
}

type builder struct {
	sb   strings.Builder
	args []any
}

func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *builder) w(s ...string) {
	for _, x := range s {
		b.sb.WriteString(x)
	}
}

func quote(id string) string { return pgx.Identifier{id}.Sanitize() }

// errTableNotFound is PostgREST's answer for an unknown resource.
func errTableNotFound(table string) error {
	return apierror.Newf(http.StatusNotFound, "PGRST205", "Could not find the table 'public.%s' in the schema cache", table).
		WithHint("Check the table name; tables live in the project's schema.")
}

func errColumnNotFound(table, col string) error {
	return apierror.Newf(http.StatusBadRequest, "42703", "column %s.%s does not exist", table, col)
}

// ReadOptions carry what the request and project add to a read.
type ReadOptions struct {
	MaxRows int64 // project cap; 0 = none
	Count   bool  // also compute the exact total of matching rows
}

// Read builds a GET: one row with the JSON array of results (column 1), the
// number of rows in it (column 2) and, with Count, the total (column 3).
func Read(s *schema.Schema, table string, q *query.Query, rng query.Range, opts ReadOptions) (*Statement, error) {
	t, ok := s.Table(table)
	if !ok {
		return nil, errTableNotFound(table)
	}
	b := &builder{}
	from := quote(s.Name) + "." + quote(t.Name)

	var where strings.Builder
	if err := b.whereClause(&where, t, q.WhereFor(nil)); err != nil {
		return nil, err
	}

	b.w("select coalesce(json_agg(_plinth_r), '[]')::text, count(_plinth_r.*)")
	if opts.Count {
		b.w(", (select count(*) from ", from, where.String(), ")")
	}
	b.w(" from (select ")
	if err := b.selectList(t, q.Select); err != nil {
		return nil, err
	}
	b.w(" from ", from, where.String())
	if err := b.orderBy(t, q.OrderFor(nil)); err != nil {
		return nil, err
	}
	limit := rng.Limit
	if opts.MaxRows > 0 && (limit == query.NoLimit || limit > opts.MaxRows) {
		limit = opts.MaxRows
	}
	if limit != query.NoLimit {
		b.w(" limit ", strconv.FormatInt(limit, 10))
	}
	if rng.Offset > 0 {
		b.w(" offset ", strconv.FormatInt(rng.Offset, 10))
	}
	b.w(") _plinth_r")
	return &Statement{SQL: b.sb.String(), Args: b.args}, nil
}

var castPattern = regexp.MustCompile(`^[a-z_][a-z0-9_ ]{0,62}(\[\])?$`)

func (b *builder) selectList(t *schema.Table, items []query.SelectItem) error {
	if len(items) == 0 {
		return nil // select= with nothing: PostgREST returns empty objects
	}
	for i, it := range items {
		if i > 0 {
			b.w(", ")
		}
		switch it.Kind {
		case query.SelectStar:
			b.w("*")
		case query.SelectColumn:
			expr, name, err := fieldExpr(t, it.Field)
			if err != nil {
				return err
			}
			if it.Cast != "" {
				if !castPattern.MatchString(it.Cast) {
					return apierror.Newf(http.StatusBadRequest, "PGRST100", "invalid cast type %q", it.Cast)
				}
				expr = "(" + expr + ")::" + it.Cast
			}
			if it.Alias != "" {
				name = it.Alias
			}
			b.w(expr, " as ", quote(name))
		case query.SelectEmbed:
			return apierror.Newf(http.StatusBadRequest, "PGRST200", "Could not find a relationship between '%s' and '%s' in the schema cache", t.Name, it.Embed.Name).
				WithHint("Embedded resources are not supported yet.")
		}
	}
	return nil
}

// fieldExpr returns the SQL for a column with its JSON path and the name
// PostgREST gives the result (the last JSON key, or the column).
func fieldExpr(t *schema.Table, f query.Field) (string, string, error) {
	if _, ok := t.Column(f.Name); !ok {
		return "", "", errColumnNotFound(t.Name, f.Name)
	}
	expr := quote(f.Name)
	name := f.Name
	for _, st := range f.JSON {
		op := "->"
		if st.AsText {
			op = "->>"
		}
		if st.Index {
			if _, err := strconv.Atoi(st.Key); err != nil {
				return "", "", apierror.Newf(http.StatusBadRequest, "PGRST100", "invalid JSON array index %q", st.Key)
			}
			expr += op + st.Key
		} else {
			expr += op + literal(st.Key)
		}
		name = st.Key
	}
	return expr, name, nil
}

// literal quotes a JSON key as a SQL string literal. Keys are names the
// client chose; quoting keeps them data.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (b *builder) orderBy(t *schema.Table, terms []query.OrderTerm) error {
	if len(terms) == 0 {
		return nil
	}
	b.w(" order by ")
	for i, term := range terms {
		if term.Relation != "" {
			return apierror.Newf(http.StatusBadRequest, "PGRST100", "ordering by an embedded resource (%s) is not supported yet", term.Relation)
		}
		if i > 0 {
			b.w(", ")
		}
		expr, _, err := fieldExpr(t, term.Field)
		if err != nil {
			return err
		}
		b.w(expr)
		switch term.Dir {
		case query.Asc:
			b.w(" asc")
		case query.Desc:
			b.w(" desc")
		}
		switch term.Nulls {
		case query.NullsFirst:
			b.w(" nulls first")
		case query.NullsLast:
			b.w(" nulls last")
		}
	}
	return nil
}

func (b *builder) whereClause(out *strings.Builder, t *schema.Table, exprs []query.Expr) error {
	first := true
	for _, e := range exprs {
		if e.IsEmpty() {
			continue
		}
		if first {
			out.WriteString(" where ")
			first = false
		} else {
			out.WriteString(" and ")
		}
		if err := b.expr(out, t, e); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) expr(out *strings.Builder, t *schema.Table, e query.Expr) error {
	if e.Filter != nil {
		return b.filter(out, t, e.Filter)
	}
	if e.Not {
		out.WriteString("not ")
	}
	if len(e.Children) == 0 {
		out.WriteString("true")
		return nil
	}
	out.WriteString("(")
	for i, c := range e.Children {
		if i > 0 {
			out.WriteString(" " + e.Op.String() + " ")
		}
		if err := b.expr(out, t, c); err != nil {
			return err
		}
	}
	out.WriteString(")")
	return nil
}

var simpleOps = map[query.Operator]string{
	query.OpEq: "=", query.OpNeq: "<>", query.OpGt: ">", query.OpGte: ">=", query.OpLt: "<", query.OpLte: "<=",
	query.OpLike: "like", query.OpILike: "ilike", query.OpMatch: "~", query.OpIMatch: "~*",
	query.OpCs: "@>", query.OpCd: "<@", query.OpOv: "&&", query.OpSl: "<<", query.OpSr: ">>",
	query.OpNxl: "&<", query.OpNxr: "&>", query.OpAdj: "-|-",
}

var ftsFuncs = map[query.Operator]string{
	query.OpFts: "to_tsquery", query.OpPlFts: "plainto_tsquery", query.OpPhFts: "phraseto_tsquery", query.OpWFts: "websearch_to_tsquery",
}

func likeValue(op query.Operator, v string) string {
	if op == query.OpLike || op == query.OpILike {
		return strings.ReplaceAll(v, "*", "%")
	}
	return v
}

func (b *builder) filter(out *strings.Builder, t *schema.Table, f *query.Filter) error {
	col, _, err := fieldExpr(t, f.Field)
	if err != nil {
		return err
	}
	if f.Not {
		out.WriteString("not ")
	}
	switch {
	case f.Op == query.OpIn:
		// An untyped array literal lets Postgres read it as the column's type.
		out.WriteString(col + " = any(" + b.arg(arrayLiteral(f.List)) + ")")
	case f.Op == query.OpIs:
		switch f.Value {
		case query.IsNull:
			out.WriteString(col + " is null")
		case query.IsNotNull:
			out.WriteString(col + " is not null")
		case query.IsTrue, query.IsFalse, query.IsUnknown:
			out.WriteString(col + " is " + f.Value)
		default:
			return apierror.Newf(http.StatusBadRequest, "PGRST100", "invalid value for is: %q", f.Value)
		}
	case f.Op == query.OpIsDistinct:
		out.WriteString(col + " is distinct from " + b.arg(f.Value))
	case f.Op.FullText():
		fn := ftsFuncs[f.Op]
		if f.Lang != "" {
			out.WriteString(col + " @@ " + fn + "(" + b.arg(f.Lang) + "::regconfig, " + b.arg(f.Value) + ")")
		} else {
			out.WriteString(col + " @@ " + fn + "(" + b.arg(f.Value) + ")")
		}
	default:
		op, ok := simpleOps[f.Op]
		if !ok {
			return apierror.Newf(http.StatusBadRequest, "PGRST100", "unknown operator %q", f.Op)
		}
		switch f.Quant {
		case query.QuantAny, query.QuantAll:
			q := "any"
			if f.Quant == query.QuantAll {
				q = "all"
			}
			out.WriteString(col + " " + op + " " + q + "(" + b.arg(likeValue(f.Op, f.Value)) + ")")
		default:
			out.WriteString(col + " " + op + " " + b.arg(likeValue(f.Op, f.Value)))
		}
	}
	return nil
}

// arrayLiteral renders elements as a Postgres array literal, each quoted.
func arrayLiteral(items []string) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i, it := range items {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('"')
		for _, r := range it {
			if r == '"' || r == '\\' {
				sb.WriteByte('\\')
			}
			sb.WriteRune(r)
		}
		sb.WriteByte('"')
	}
	sb.WriteByte('}')
	return sb.String()
}
