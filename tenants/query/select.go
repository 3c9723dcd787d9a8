package query

// parseSelect parses the select parameter.
func parseSelect(value string) ([]SelectItem, *Error) {
	s := newScanner("select parameter", value)
	items, err := s.selectList(0)
	if err != nil {
		return nil, err
	}
	if !s.eof() {
		return nil, s.fail(`"," or end of input`)
	}
	return items, nil
}

// selectList reads comma-separated items up to the end or a ')'. An empty
// list is allowed: select= and rel() (embed used only for filtering).
func (s *scanner) selectList(depth int) ([]SelectItem, *Error) {
	if depth > maxDepth {
		return nil, s.errorf(s.pos, "select nested too deeply")
	}
	items := []SelectItem{}
	s.skipSpace()
	if s.eof() || s.peek() == ')' {
		return items, nil
	}
	for {
		if len(items) >= maxItems {
			return nil, s.errorf(s.pos, "too many items in select")
		}
		item, err := s.selectItem(depth)
		if err != nil {
			return nil, err
		}
		items = append(items, item)
		s.skipSpace()
		if s.peek() != ',' {
			return items, nil
		}
		s.pos++
		s.skipSpace()
	}
}

// selectItem reads *, a column, an embed or a spread embed.
func (s *scanner) selectItem(depth int) (SelectItem, *Error) {
	if s.accept("*") {
		s.skipSpace()
		if err := s.itemEnd(); err != nil {
			return SelectItem{}, err
		}
		return SelectItem{Kind: SelectStar}, nil
	}
	if s.accept("...") {
		e, err := s.embed(depth)
		if err != nil {
			return SelectItem{}, err
		}
		e.Spread = true
		return SelectItem{Kind: SelectEmbed, Embed: e}, nil
	}

	var alias string
	name, err := s.fieldName()
	if err != nil {
		return SelectItem{}, err
	}
	if s.peek() == ':' && !s.hasPrefix("::") {
		s.pos++
		s.skipSpace()
		alias = name
		if name, err = s.fieldName(); err != nil {
			return SelectItem{}, err
		}
	}
	s.skipSpace()
	if c := s.peek(); c == '!' || c == '(' {
		e, err := s.embedRest(name, depth)
		if err != nil {
			return SelectItem{}, err
		}
		return SelectItem{Kind: SelectEmbed, Alias: alias, Embed: e}, nil
	}

	path, err := s.jsonPath()
	if err != nil {
		return SelectItem{}, err
	}
	item := SelectItem{Kind: SelectColumn, Alias: alias, Field: Field{Name: name, JSON: path}}
	if s.accept("::") {
		at := s.pos
		item.Cast = s.identifier(isIdentRune)
		if item.Cast == "" {
			return SelectItem{}, s.failAt(at, "type name")
		}
	}
	s.skipSpace()
	if err := s.itemEnd(); err != nil {
		return SelectItem{}, err
	}
	return item, nil
}

// itemEnd checks that a column item is followed by ',', ')' or the end.
func (s *scanner) itemEnd() *Error {
	if s.eof() || s.peek() == ',' || s.peek() == ')' {
		return nil
	}
	return s.fail(`"->", "::", "," or end of input`)
}

// embed reads name[!hint][!inner|!left](items).
func (s *scanner) embed(depth int) (*Embed, *Error) {
	name, err := s.fieldName()
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	return s.embedRest(name, depth)
}

// embedRest reads the part of an embed after its name. PostgREST accepts the
// hint and the join type in either order.
func (s *scanner) embedRest(name string, depth int) (*Embed, *Error) {
	e := &Embed{Name: name}
	for i := 0; i < 2 && s.peek() == '!'; i++ {
		s.pos++
		at := s.pos
		word, err := s.fieldName()
		if err != nil {
			return nil, err
		}
		switch {
		case word == "inner" && e.Join == JoinDefault && s.src[at] != '"':
			e.Join = JoinInner
		case word == "left" && e.Join == JoinDefault && s.src[at] != '"':
			e.Join = JoinLeft
		case e.Hint == "":
			e.Hint = word
		default:
			return nil, s.failAt(at, `"("`)
		}
		s.skipSpace()
	}
	if s.peek() != '(' {
		return nil, s.fail(`"("`)
	}
	s.pos++
	items, err := s.selectList(depth + 1)
	if err != nil {
		return nil, err
	}
	if s.peek() != ')' {
		return nil, s.fail(`"," or ")"`)
	}
	s.pos++
	e.Select = items
	return e, nil
}
