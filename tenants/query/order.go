package query

// parseOrder parses an order parameter: term(,term)*, each term being
// [rel(]field[)][.asc|.desc][.nullsfirst|.nullslast].
func parseOrder(value string) ([]OrderTerm, *Error) {
	s := newScanner("order", value)
	var terms []OrderTerm
	for {
		if len(terms) >= maxItems {
			return nil, s.errorf(s.pos, "too many order terms")
		}
		t, err := s.orderTerm()
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
		if s.eof() {
			return terms, nil
		}
		if s.peek() != ',' {
			return nil, s.fail(`delimiter (.), "," or end of input`)
		}
		s.pos++
	}
}

func (s *scanner) orderTerm() (OrderTerm, *Error) {
	var t OrderTerm
	f, err := s.field()
	if err != nil {
		return t, err
	}
	if len(f.JSON) == 0 && s.peek() == '(' {
		// rel(col): order by a column of a to-one embed.
		s.pos++
		t.Relation = f.Name
		if f, err = s.field(); err != nil {
			return t, err
		}
		if s.peek() != ')' {
			return t, s.fail(`")"`)
		}
		s.pos++
		s.skipSpace()
	}
	t.Field = f
	if s.peek() == '.' {
		at := s.pos + 1
		switch {
		case s.accept(".asc"):
			t.Dir = Asc
		case s.accept(".desc"):
			t.Dir = Desc
		case s.accept(".nullsfirst"):
			t.Nulls = NullsFirst
		case s.accept(".nullslast"):
			t.Nulls = NullsLast
		default:
			return t, s.failAt(at, `"asc", "desc", "nullsfirst" or "nullslast"`)
		}
		if t.Nulls == NullsDefault && s.peek() == '.' {
			at = s.pos + 1
			switch {
			case s.accept(".nullsfirst"):
				t.Nulls = NullsFirst
			case s.accept(".nullslast"):
				t.Nulls = NullsLast
			default:
				return t, s.failAt(at, `"nullsfirst" or "nullslast"`)
			}
		}
	}
	s.skipSpace()
	if !s.eof() && s.peek() != ',' {
		return t, s.fail(`"," or end of input`)
	}
	return t, nil
}
