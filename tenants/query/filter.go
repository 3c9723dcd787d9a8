package query

import "strings"

const expectOperator = "operator (eq, gt, ...)"

// valueMode says where an operator expression ends: a top-level filter value
// runs to the end of the parameter, a value inside a logic tree stops at the
// next ',' or ')' unless quoted or written as a {...} array.
type valueMode uint8

const (
	valueToEnd valueMode = iota
	valueInTree
)

// lookupOperator maps an operator name as written in the URL to an Operator.
func lookupOperator(name string) (Operator, bool) {
	switch op := Operator(name); op {
	case OpEq, OpNeq, OpGt, OpGte, OpLt, OpLte, OpLike, OpILike, OpMatch, OpIMatch,
		OpIn, OpIs, OpIsDistinct, OpFts, OpPlFts, OpPhFts, OpWFts,
		OpCs, OpCd, OpOv, OpSl, OpSr, OpNxl, OpNxr, OpAdj:
		return op, true
	}
	return "", false
}

// parseFilterValue parses the value side of col=value (not.op(mod).value).
func parseFilterValue(field Field, value string, vals *valueSpans) (*Filter, *Error) {
	s := newScanner("filter", value)
	s.vals = vals
	f, err := s.opExpr(field, valueToEnd)
	if err != nil {
		return nil, err
	}
	if !s.eof() {
		return nil, s.fail(`end of input`)
	}
	return f, nil
}

// opExpr reads [not.]op[(modifier)].value.
func (s *scanner) opExpr(field Field, mode valueMode) (*Filter, *Error) {
	f := &Filter{Field: field}
	if s.hasPrefix("not.") {
		f.Not = true
		s.pos += len("not.")
	}
	at := s.pos
	for s.pos < len(s.src) && 'a' <= s.src[s.pos] && s.src[s.pos] <= 'z' {
		s.pos++
	}
	name := s.src[at:s.pos]
	if name == "" {
		return nil, s.fail(`"not" or ` + expectOperator)
	}
	op, ok := lookupOperator(name)
	if !ok {
		return nil, parseError(s.what, s.src, at, "unknown operator "+quote(name),
			"unexpected "+quote(name)+" expecting "+expectOperator)
	}
	f.Op = op

	// Modifiers: (any)/(all) for quantifiable operators, (lang) for fts.
	if s.peek() == '(' {
		switch {
		case op.Quantifiable():
			switch {
			case s.accept("(any)"):
				f.Quant = QuantAny
			case s.accept("(all)"):
				f.Quant = QuantAll
			default:
				s.pos++
				return nil, s.fail(`"any" or "all"`)
			}
		case op.FullText():
			s.pos++
			langAt := s.pos
			lang := s.identifier(func(r rune) bool { return isIdentRune(r) && r != ' ' })
			if lang == "" {
				return nil, s.failAt(langAt, "language (e.g. english)")
			}
			if s.peek() != ')' {
				return nil, s.fail(`")"`)
			}
			s.pos++
			f.Lang = lang
		default:
			return nil, s.fail(`delimiter (.)`)
		}
	}
	if s.peek() != '.' {
		return nil, s.fail(`delimiter (.)`)
	}
	s.pos++

	at = s.pos
	switch op {
	case OpIn:
		list, err := s.inList()
		if err != nil {
			return nil, err
		}
		f.List = list
	case OpIs:
		// Not a bound value: sqlgen writes is null/true/... into the SQL,
		// so it stays part of the shape.
		v, err := s.isValue(mode)
		if err != nil {
			return nil, err
		}
		f.Value = v
		return f, nil
	default:
		v, err := s.singleValue(mode)
		if err != nil {
			return nil, err
		}
		f.Value = v
	}
	s.vals.add(f, at, s.pos)
	return f, nil
}

func quote(s string) string { return `"` + echo(s) + `"` }

// isValue reads null|not_null|true|false|unknown, case-insensitively.
func (s *scanner) isValue(mode valueMode) (string, *Error) {
	at := s.pos
	end := len(s.src)
	if mode == valueInTree {
		if i := strings.IndexAny(s.src[at:], ",)"); i >= 0 {
			end = at + i
		}
	}
	word := strings.ToLower(strings.TrimSpace(s.src[at:end]))
	switch word {
	case IsNull, IsNotNull, IsTrue, IsFalse, IsUnknown:
		s.pos = end
		return word, nil
	}
	return "", s.failAt(at, "isVal: (null, not_null, true, false, unknown)")
}

// singleValue reads an operator's value.
func (s *scanner) singleValue(mode valueMode) (string, *Error) {
	if mode == valueToEnd {
		v := s.src[s.pos:]
		s.pos = len(s.src)
		return v, nil
	}
	return s.treeValue()
}

// treeValue reads a value inside a logic tree: a quoted string that ends at
// ',' or ')', a {...} array literal, or raw text up to ',' or ')'.
func (s *scanner) treeValue() (string, *Error) {
	at := s.pos
	if v, ok, _ := s.quoted(); ok {
		if c := s.peek(); c == ',' || c == ')' || s.eof() {
			return v, nil
		}
		s.pos = at
	}
	if s.peek() == '{' {
		if i := strings.IndexAny(s.src[at+1:], "{}"); i >= 0 && s.src[at+1+i] == '}' {
			s.pos = at + i + 2
			return s.src[at:s.pos], nil
		}
	}
	return s.rawUntilDelim(), nil
}

// rawUntilDelim reads up to the next ',' or ')'.
func (s *scanner) rawUntilDelim() string {
	at := s.pos
	if i := strings.IndexAny(s.src[at:], ",)"); i >= 0 {
		s.pos = at + i
	} else {
		s.pos = len(s.src)
	}
	return s.src[at:s.pos]
}

// inList reads (a,"b,c",d). Quoted elements may contain , and ); an empty
// list () means no values.
func (s *scanner) inList() ([]string, *Error) {
	s.skipSpace()
	if s.peek() != '(' {
		return nil, s.fail(`"("`)
	}
	s.pos++
	s.skipSpace()
	if s.peek() == ')' {
		s.pos++
		s.skipSpace()
		return []string{}, nil
	}
	var list []string
	for {
		if len(list) >= maxList {
			return nil, s.errorf(s.pos, "too many values in list")
		}
		at := s.pos
		v, ok, _ := s.quoted()
		if ok {
			if c := s.peek(); c != ',' && c != ')' {
				s.pos, ok = at, false
			}
		}
		if !ok {
			v = s.rawUntilDelim()
		}
		list = append(list, v)
		switch s.peek() {
		case ',':
			s.pos++
			continue
		case ')':
			s.pos++
			s.skipSpace()
			return list, nil
		}
		return nil, s.fail(`"," or ")"`)
	}
}
