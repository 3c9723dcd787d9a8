package query

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits that keep hostile input from costing more than it should. Input is
// already bounded by the URL length; these bound recursion and list fan-out.
const (
	maxDepth    = 32    // nesting of embeds and of and/or groups
	maxItems    = 1000  // select items per level, logic children per group, order terms
	maxList     = 10000 // elements of in.(...)
	maxQueryLen = 1 << 20
)

// scanner is a cursor over one parameter value. Positions are byte offsets
// into src; src is always valid UTF-8 (checked when the query is decoded).
type scanner struct {
	src  string
	pos  int
	what string // what is being parsed, for error messages
	// condition relaxes the grammar for access-rule conditions (see parseLogic).
	condition bool
	// vals, when set, numbers the filters read and records where their
	// values were (a request's query string; see Query.Shape).
	vals *valueSpans
}

// valueSpans collects, while a query string is parsed, its filters in order
// and where in the current parameter's value each one's value was.
type valueSpans struct {
	filters []*Filter
	spans   [][2]int
}

// add numbers f and records its value at src[from:to].
func (v *valueSpans) add(f *Filter, from, to int) {
	if v == nil {
		return
	}
	v.filters = append(v.filters, f)
	f.Slot = len(v.filters)
	v.spans = append(v.spans, [2]int{from, to})
}

func newScanner(what, src string) *scanner { return &scanner{src: src, what: what} }

func (s *scanner) eof() bool { return s.pos >= len(s.src) }

// peek returns the byte at the cursor, 0 at end of input.
func (s *scanner) peek() byte {
	if s.pos < len(s.src) {
		return s.src[s.pos]
	}
	return 0
}

func (s *scanner) hasPrefix(p string) bool { return strings.HasPrefix(s.src[s.pos:], p) }

// accept consumes p if the input continues with it.
func (s *scanner) accept(p string) bool {
	if s.hasPrefix(p) {
		s.pos += len(p)
		return true
	}
	return false
}

// skipSpace skips the blanks PostgREST tolerates around tokens.
func (s *scanner) skipSpace() {
	for s.pos < len(s.src) && (s.src[s.pos] == ' ' || s.src[s.pos] == '\t') {
		s.pos++
	}
}

// fail reports an unexpected token at the cursor.
func (s *scanner) fail(expecting string) *Error {
	return s.failAt(s.pos, expecting)
}

func (s *scanner) failAt(pos int, expecting string) *Error {
	unexpected := "unexpected " + describe(s.src, pos)
	details := unexpected
	if expecting != "" {
		details += " expecting " + expecting
	}
	return parseError(s.what, s.src, pos, unexpected, details)
}

// errorf reports a failure that is not a plain unexpected token.
func (s *scanner) errorf(pos int, reason string) *Error {
	return parseError(s.what, s.src, pos, reason, reason)
}

const expectName = "field name (* or [a..z0..9_$])"

func isIdentRune(r rune) bool {
	return unicode.IsLetter(r) || ('0' <= r && r <= '9') || r == '_' || r == '$' || r == ' '
}

// identifier reads a run of identifier characters, trimmed of spaces.
func (s *scanner) identifier(ok func(rune) bool) string {
	start := s.pos
	for s.pos < len(s.src) {
		r, n := utf8.DecodeRuneInString(s.src[s.pos:])
		if !ok(r) {
			break
		}
		s.pos += n
	}
	return strings.TrimSpace(s.src[start:s.pos])
}

// dashed reads identifiers joined by dashes (my-col), where a dash followed
// by '>' starts a JSON arrow instead.
func (s *scanner) dashed(ok func(rune) bool) (string, bool) {
	start := s.pos
	first := s.identifier(ok)
	if s.pos == start {
		return "", false
	}
	if s.peek() != '-' {
		return first, true
	}
	parts := []string{first}
	for s.peek() == '-' && s.pos+1 < len(s.src) && s.src[s.pos+1] != '>' {
		save := s.pos
		s.pos++
		at := s.pos
		part := s.identifier(ok)
		if s.pos == at {
			s.pos = save
			break
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "-"), true
}

// quoted reads "..." with backslash escapes. ok is false (and nothing is
// consumed) when the input does not start with a quote; an unterminated quote
// is an error.
func (s *scanner) quoted() (string, bool, *Error) {
	if s.peek() != '"' {
		return "", false, nil
	}
	start := s.pos
	s.pos++
	var b strings.Builder
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch c {
		case '"':
			s.pos++
			return b.String(), true, nil
		case '\\':
			if s.pos+1 < len(s.src) {
				s.pos++
				_, n := utf8.DecodeRuneInString(s.src[s.pos:])
				b.WriteString(s.src[s.pos : s.pos+n])
				s.pos += n
				continue
			}
		}
		b.WriteByte(c)
		s.pos++
	}
	s.pos = start
	return "", false, s.failAt(len(s.src), `"\""`)
}

// fieldName reads a quoted or plain column/relation name.
func (s *scanner) fieldName() (string, *Error) {
	at := s.pos
	if name, ok, err := s.quoted(); err != nil {
		return "", err
	} else if ok {
		if name == "" {
			return "", s.errorf(at, "empty field name")
		}
		return name, nil
	}
	name, ok := s.dashed(isIdentRune)
	if !ok || name == "" {
		s.pos = at
		return "", s.fail(expectName)
	}
	return name, nil
}

// field reads a name followed by an optional JSON path, with blanks around.
func (s *scanner) field() (Field, *Error) {
	s.skipSpace()
	name, err := s.fieldName()
	if err != nil {
		return Field{}, err
	}
	path, err := s.jsonPath()
	if err != nil {
		return Field{}, err
	}
	s.skipSpace()
	return Field{Name: name, JSON: path}, nil
}

// isJSONKeyRune excludes the characters that end a JSON key: .,:()>- (the
// dash is handled by dashed, so keys like a-b still work).
func isJSONKeyRune(r rune) bool {
	return !strings.ContainsRune("(-:.,>)", r)
}

// jsonPath reads zero or more ->key / ->>key / ->0 steps.
func (s *scanner) jsonPath() ([]JSONStep, *Error) {
	var steps []JSONStep
	for s.hasPrefix("->") {
		if len(steps) >= maxItems {
			return nil, s.errorf(s.pos, "JSON path too long")
		}
		step := JSONStep{}
		if s.accept("->>") {
			step.AsText = true
		} else {
			s.pos += 2
		}
		if idx, ok := s.jsonIndex(); ok {
			step.Key, step.Index = idx, true
		} else {
			at := s.pos
			key, ok, err := s.quoted()
			if err != nil {
				return nil, err
			}
			if !ok {
				key, ok = s.dashed(isJSONKeyRune)
				if !ok || key == "" {
					s.pos = at
					return nil, s.fail("JSON key or array index")
				}
			}
			step.Key = key
		}
		steps = append(steps, step)
	}
	return steps, nil
}

// jsonIndex reads -?[0-9]+ when it is a whole path step, i.e. followed by
// another arrow, a cast, a delimiter or the end.
func (s *scanner) jsonIndex() (string, bool) {
	i := s.pos
	if i < len(s.src) && s.src[i] == '-' {
		i++
	}
	digits := i
	for i < len(s.src) && '0' <= s.src[i] && s.src[i] <= '9' {
		i++
	}
	if i == digits {
		return "", false
	}
	rest := s.src[i:]
	if rest == "" || strings.HasPrefix(rest, "->") || strings.HasPrefix(rest, "::") ||
		rest[0] == '.' || rest[0] == ',' || rest[0] == ')' || rest[0] == ' ' {
		v := s.src[s.pos:i]
		s.pos = i
		return v, true
	}
	return "", false
}
