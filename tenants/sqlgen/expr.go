package sqlgen

import (
	"strings"

	"github.com/plinth-dev/plinth/tenants/query"
)

var simpleOps = map[query.Operator]string{
	query.OpEq: "=", query.OpNeq: "<>", query.OpGt: ">", query.OpGte: ">=", query.OpLt: "<", query.OpLte: "<=",
	query.OpLike: "like", query.OpILike: "ilike", query.OpMatch: "~", query.OpIMatch: "~*",
	query.OpCs: "@>", query.OpCd: "<@", query.OpOv: "&&", query.OpSl: "<<", query.OpSr: ">>",
	query.OpNxl: "&<", query.OpNxr: "&>", query.OpAdj: "-|-",
}

var ftsFuncs = map[query.Operator]string{
	query.OpFts: "to_tsquery", query.OpPlFts: "plainto_tsquery", query.OpPhFts: "phraseto_tsquery", query.OpWFts: "websearch_to_tsquery",
}

// conjunction renders the AND of exprs over n ("" when there is nothing).
func (b *builder) conjunction(n *node, exprs []query.Expr) (string, error) {
	var parts []string
	for _, e := range exprs {
		if e.IsEmpty() {
			continue
		}
		var w sqlBuf
		if err := b.expr(&w, n, e); err != nil {
			return "", err
		}
		parts = append(parts, w.String())
	}
	return strings.Join(parts, " and "), nil
}

func (b *builder) expr(w *sqlBuf, n *node, e query.Expr) error {
	if e.Filter != nil {
		return b.filter(w, n, e.Filter)
	}
	if e.Not {
		w.w("not ")
	}
	if len(e.Children) == 0 {
		w.w("true")
		return nil
	}
	w.w("(")
	for i, c := range e.Children {
		if i > 0 {
			w.w(" ", e.Op.String(), " ")
		}
		if err := b.expr(w, n, c); err != nil {
			return err
		}
	}
	w.w(")")
	return nil
}

// likeValue turns PostgREST's * wildcard into SQL's %.
func likeValue(op query.Operator, v string) string {
	if op == query.OpLike || op == query.OpILike {
		return strings.ReplaceAll(v, "*", "%")
	}
	return v
}

func (b *builder) filter(w *sqlBuf, n *node, f *query.Filter) error {
	// author=is.null / author=not.is.null on an embedded resource: whether
	// the embed found anything (PostgREST's null filtering on embeds).
	if e := n.embedByKey(f.Field.Name); e != nil && len(f.Field.JSON) == 0 && f.Op == query.OpIs {
		if _, isCol := n.table.Column(f.Field.Name); !isCol {
			var test string
			switch f.Value {
			case query.IsNull:
				test = " is null"
			case query.IsNotNull:
				test = " is not null"
			default:
				return errBadRequest("PGRST100", "an embedded resource can only be filtered with is.null or not.is.null")
			}
			e.filtering = true
			if f.Not {
				w.w("not ")
			}
			w.w("(", e.lat, ".j", test, ")")
			return nil
		}
	}
	col, _, err := b.field(n, f.Field)
	if err != nil {
		return err
	}
	if f.Not {
		w.w("not ")
	}
	w.w("(")
	switch {
	case f.Op == query.OpIn:
		// An untyped array literal: Postgres reads it as the column's type.
		w.w(col, " = any(", b.filterArg(f, partList), ")")
	case f.Op == query.OpIs:
		switch f.Value {
		case query.IsNull:
			w.w(col, " is null")
		case query.IsNotNull:
			w.w(col, " is not null")
		case query.IsTrue, query.IsFalse, query.IsUnknown:
			w.w(col, " is ", f.Value)
		default:
			return errBadRequest("PGRST100", "invalid value for is: %q", f.Value)
		}
	case f.Op == query.OpIsDistinct:
		w.w(col, " is distinct from ", b.filterArg(f, partValue))
	case f.Op.FullText():
		fn := ftsFuncs[f.Op]
		if f.Lang != "" {
			w.w(col, " @@ ", fn, "(", b.filterArg(f, partLang), "::regconfig, ", b.filterArg(f, partValue), ")")
		} else {
			w.w(col, " @@ ", fn, "(", b.filterArg(f, partValue), ")")
		}
	default:
		op, ok := simpleOps[f.Op]
		if !ok {
			return errBadRequest("PGRST100", "unknown operator %q", string(f.Op))
		}
		switch f.Quant {
		case query.QuantAny:
			w.w(col, " ", op, " any(", b.filterArg(f, partValue), ")")
		case query.QuantAll:
			w.w(col, " ", op, " all(", b.filterArg(f, partValue), ")")
		default:
			w.w(col, " ", op, " ", b.filterArg(f, partValue))
		}
	}
	w.w(")")
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
