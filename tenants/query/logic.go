package query

// parseLogic parses the value of an and=/or= parameter, "(...)", into a group
// with the given operator (and negation, for not.or=). In access-rule
// conditions (DESIGN §7.1 writes or=(public.is.true,team=eq.{...})) a leaf
// may also separate column and operator with '=' instead of '.'.
func parseLogic(op LogicOp, not bool, value string, condition bool, vals *valueSpans) (Expr, *Error) {
	s := newScanner("logic tree", value)
	s.condition, s.vals = condition, vals
	children, err := s.logicChildren(1)
	if err != nil {
		return Expr{}, err
	}
	if !s.eof() {
		return Expr{}, s.fail(`end of input`)
	}
	return Expr{Op: op, Not: not, Children: children}, nil
}

// logicChildren reads "(tree, tree, ...)" at the given nesting depth.
func (s *scanner) logicChildren(depth int) ([]Expr, *Error) {
	if depth > maxDepth {
		return nil, s.errorf(s.pos, "logic tree nested too deeply")
	}
	s.skipSpace()
	if s.peek() != '(' {
		return nil, s.fail(`"("`)
	}
	s.pos++
	var children []Expr
	for {
		if len(children) >= maxItems {
			return nil, s.errorf(s.pos, "too many conditions in logic tree")
		}
		s.skipSpace()
		e, err := s.logicTree(depth)
		if err != nil {
			return nil, err
		}
		children = append(children, e)
		s.skipSpace()
		switch s.peek() {
		case ',':
			s.pos++
			continue
		case ')':
			s.pos++
			s.skipSpace()
			return children, nil
		}
		return nil, s.fail(`"," or ")"`)
	}
}

// logicTree reads one element of a group: a nested [not.]and(...)/or(...) or
// a filter field.[not.]op.value.
func (s *scanner) logicTree(depth int) (Expr, *Error) {
	at := s.pos
	not := s.accept("not.")
	var op LogicOp
	switch {
	case s.accept("and"):
		op = And
	case s.accept("or"):
		op = Or
	}
	if op != 0 {
		s.skipSpace()
		if s.peek() == '(' {
			children, err := s.logicChildren(depth + 1)
			if err != nil {
				return Expr{}, err
			}
			return Expr{Op: op, Not: not, Children: children}, nil
		}
	}
	// Not a group: a filter whose column may well be called "not", "and" or "or".
	s.pos = at
	f, err := s.field()
	if err != nil {
		return Expr{}, err
	}
	if c := s.peek(); c != '.' && !(c == '=' && s.condition) {
		return Expr{}, s.fail(`delimiter (.)`)
	}
	s.pos++
	filter, err := s.opExpr(f, valueInTree)
	if err != nil {
		return Expr{}, err
	}
	return Expr{Filter: filter}, nil
}
