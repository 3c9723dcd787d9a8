package query

import "strings"

// ParseCondition parses an access-rule row condition (DESIGN §7.1): one or
// more key=value filter pairs joined by '&', in the request filter grammar,
// e.g. "owner_id=eq.{auth.uid}" or "or=(public.is.true,team=eq.{auth.claims.team})".
// Keys are columns of the rule's table or and/or/not.and/not.or; inside
// and/or trees a filter may be written col.op.value or col=op.value. Embed paths
// and select/order/limit are not allowed. The text is not percent-decoded
// (so like.50% means what it says); an '&' inside (...) or "..." does not
// split pairs. Several pairs are ANDed. The empty condition is the empty And
// group, which matches every row (Expr.IsEmpty).
//
// Values may be {auth.uid}, {auth.role} or {auth.claims.<path>}; see
// Placeholder and Expr.Substitute. An unknown {auth.…} value is an error.
func ParseCondition(cond string) (Expr, error) {
	if err := checkText("condition", cond); err != nil {
		return Expr{}, err
	}
	if len(cond) > maxQueryLen {
		return Expr{}, &Error{Code: CodeParse, Message: "condition too long", Pos: -1}
	}
	var exprs []Expr
	for _, pair := range splitPairs(cond) {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		if len(exprs) >= maxItems {
			return Expr{}, &Error{Code: CodeParse, Message: "failed to parse condition: too many filters", Pos: -1}
		}
		e, err := parseConditionPair(pair)
		if err != nil {
			return Expr{}, err
		}
		exprs = append(exprs, e)
	}
	var out Expr
	switch len(exprs) {
	case 0:
		out = Expr{Op: And}
	case 1:
		out = exprs[0]
	default:
		out = Expr{Op: And, Children: exprs}
	}
	if err := checkPlaceholders(out); err != nil {
		return Expr{}, err
	}
	return out, nil
}

func parseConditionPair(pair string) (Expr, *Error) {
	key, value, ok := strings.Cut(pair, "=")
	key = strings.TrimSpace(key)
	if !ok {
		return Expr{}, &Error{Code: CodeParse, Message: "failed to parse condition (" + echo(pair) + "): expecting key=value", Pos: -1}
	}
	switch key {
	case keyAnd, keyOr, "not." + keyAnd, "not." + keyOr:
		op := And
		if lastWord(key) == keyOr {
			op = Or
		}
		return parseLogic(op, strings.HasPrefix(key, "not."), value, true, nil)
	}
	if IsReservedKey(key) {
		return Expr{}, &Error{Code: CodeParse, Message: "failed to parse condition: " + quote(key) + " is not allowed in a condition", Pos: -1}
	}
	path, field, err := parseFilterKey(key)
	if err != nil {
		return Expr{}, err
	}
	if len(path) > 0 {
		return Expr{}, &Error{Code: CodeParse, Message: "failed to parse condition: " + quote(key) + " names an embedded resource; conditions apply to the rule's own table", Pos: -1}
	}
	f, err := parseFilterValue(field, value, nil)
	if err != nil {
		return Expr{}, err
	}
	return Expr{Filter: f}, nil
}

// splitPairs splits on '&' outside parentheses and double quotes.
func splitPairs(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			if depth > 0 {
				depth--
			}
		case c == '&' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func checkPlaceholders(e Expr) *Error {
	var bad string
	e.walkValues(func(v string) {
		if bad == "" && looksLikePlaceholder(v) {
			if _, ok := ParsePlaceholder(v); !ok {
				bad = v
			}
		}
	})
	if bad == "" {
		return nil
	}
	return &Error{
		Code:    CodeParse,
		Message: "failed to parse condition: unknown placeholder " + echo(bad),
		Hint:    "use {auth.uid}, {auth.role} or {auth.claims.<path>}",
		Pos:     -1,
	}
}
