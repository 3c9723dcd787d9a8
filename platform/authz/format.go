package authz

import (
	"strings"

	"github.com/plinth-dev/plinth/tenants/query"
)

// FormatCondition writes a condition back in the grammar query.ParseCondition
// reads, so the rules/check endpoint can show the OR of several policies'
// conditions as one condition. Inside and/or trees every value that could
// be misread is double-quoted, so ParseCondition gives back the same tree.
func FormatCondition(e query.Expr) string {
	if e.IsEmpty() {
		return ""
	}
	if e.Filter == nil && !e.Not && e.Op == query.And {
		parts := make([]string, len(e.Children))
		for i, c := range e.Children {
			parts[i] = formatPair(c)
		}
		return strings.Join(parts, "&")
	}
	return formatPair(e)
}

// formatPair writes one key=value pair of a condition.
func formatPair(e query.Expr) string {
	if f := e.Filter; f != nil {
		// A top-level value runs to the end of the pair, so it is written
		// raw only when nothing in it could end the pair or open a quote;
		// anything else goes into a one-element and=(...) tree.
		if f.Op != query.OpIn && simpleName(f.Field.Name) && !query.IsReservedKey(f.Field.Name) &&
			!strings.ContainsAny(f.Value, "&()\"\\") {
			var sb strings.Builder
			formatField(&sb, f.Field)
			sb.WriteByte('=')
			formatOp(&sb, f)
			sb.WriteString(f.Value)
			return sb.String()
		}
		return "and=(" + formatTree(e) + ")"
	}
	var sb strings.Builder
	if e.Not {
		sb.WriteString("not.")
	}
	sb.WriteString(e.Op.String())
	sb.WriteString("=(")
	formatChildren(&sb, e.Children)
	sb.WriteByte(')')
	return sb.String()
}

// formatTree writes e as an element of an and/or tree.
func formatTree(e query.Expr) string {
	var sb strings.Builder
	writeTree(&sb, e)
	return sb.String()
}

func writeTree(sb *strings.Builder, e query.Expr) {
	if f := e.Filter; f != nil {
		formatField(sb, f.Field)
		sb.WriteByte('.')
		formatOp(sb, f)
		switch f.Op {
		case query.OpIn:
			sb.WriteByte('(')
			for i, v := range f.List {
				if i > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString(treeValue(v, false))
			}
			sb.WriteByte(')')
		case query.OpIs:
			sb.WriteString(f.Value)
		default:
			sb.WriteString(treeValue(f.Value, true))
		}
		return
	}
	if e.Not {
		sb.WriteString("not.")
	}
	sb.WriteString(e.Op.String())
	sb.WriteByte('(')
	formatChildren(sb, e.Children)
	sb.WriteByte(')')
}

func formatChildren(sb *strings.Builder, children []query.Expr) {
	for i, c := range children {
		if i > 0 {
			sb.WriteByte(',')
		}
		writeTree(sb, c)
	}
}

// formatOp writes [not.]op[(any)|(all)|(lang)]. (the trailing dot included).
func formatOp(sb *strings.Builder, f *query.Filter) {
	if f.Not {
		sb.WriteString("not.")
	}
	sb.WriteString(string(f.Op))
	switch {
	case f.Quant == query.QuantAny:
		sb.WriteString("(any)")
	case f.Quant == query.QuantAll:
		sb.WriteString("(all)")
	case f.Lang != "":
		sb.WriteString("(" + f.Lang + ")")
	}
	sb.WriteByte('.')
}

func formatField(sb *strings.Builder, f query.Field) {
	if simpleName(f.Name) && f.Name != "not" && f.Name != "and" && f.Name != "or" {
		sb.WriteString(f.Name)
	} else {
		sb.WriteString(quoteValue(f.Name))
	}
	for _, st := range f.JSON {
		if st.AsText {
			sb.WriteString("->>")
		} else {
			sb.WriteString("->")
		}
		if st.Index || simpleName(st.Key) {
			sb.WriteString(st.Key)
		} else {
			sb.WriteString(quoteValue(st.Key))
		}
	}
}

// simpleName reports whether a name reads back unquoted: letters, digits
// and _ or $, not starting with a digit.
func simpleName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r == '$' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z'):
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// treeValue quotes a value inside a tree unless it reads back as itself.
// A placeholder is left bare so conditions stay readable.
func treeValue(v string, single bool) string {
	if _, ok := query.ParsePlaceholder(v); ok && single {
		return v
	}
	if v == "" || strings.ContainsAny(v, ",()\"\\{}") || strings.TrimSpace(v) != v {
		return quoteValue(v)
	}
	return v
}

func quoteValue(v string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, r := range v {
		if r == '"' || r == '\\' {
			sb.WriteByte('\\')
		}
		sb.WriteRune(r)
	}
	sb.WriteByte('"')
	return sb.String()
}
