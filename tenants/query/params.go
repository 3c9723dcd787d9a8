package query

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// param is one decoded key=value pair of the query string.
type param struct {
	key, value string
}

// splitQuery decodes a raw query string into its pairs, in order. Pairs
// without '=' are dropped (PostgREST ignores them); '+' means space.
func splitQuery(raw string) ([]param, *Error) {
	if len(raw) > maxQueryLen {
		return nil, &Error{Code: CodeParse, Message: "query string too long", Pos: -1}
	}
	var out []param
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, hasEq := strings.Cut(pair, "=")
		if !hasEq {
			continue
		}
		key, err := unescape(k)
		if err != nil {
			return nil, err
		}
		value, err := unescape(v)
		if err != nil {
			return nil, err
		}
		out = append(out, param{key, value})
	}
	return out, nil
}

// unescape percent-decodes s and rejects what Postgres could never store in
// text (invalid UTF-8, NUL), so those fail here as a 400 rather than later.
func unescape(s string) (string, *Error) {
	d, err := url.QueryUnescape(s)
	if err != nil {
		return "", &Error{Code: CodeParse, Message: "failed to parse query string: " + echo(err.Error()), Pos: -1}
	}
	if err := checkText("query string", d); err != nil {
		return "", err
	}
	return d, nil
}

func checkText(what, s string) *Error {
	if !utf8.ValidString(s) {
		return &Error{Code: CodeParse, Message: "failed to parse " + what + ": invalid UTF-8", Pos: -1}
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return &Error{Code: CodeParse, Message: "failed to parse " + what + ": NUL byte not allowed", Pos: i}
	}
	return nil
}

// Reserved query-string keys. Keys ending in ".order" etc. are reserved too:
// they address an embed.
const (
	keySelect     = "select"
	keyColumns    = "columns"
	keyOnConflict = "on_conflict"
	keyOrder      = "order"
	keyLimit      = "limit"
	keyOffset     = "offset"
	keyAnd        = "and"
	keyOr         = "or"
)

// ReservedKeys lists the query-string keys that are never filters or RPC
// arguments. A key whose last dot-separated word is order, limit, offset,
// and or or (books.limit, not.or) is reserved as well; see IsReservedKey.
func ReservedKeys() []string {
	return []string{keySelect, keyColumns, keyOnConflict, keyOrder, keyLimit, keyOffset, keyAnd, keyOr}
}

// IsReservedKey reports whether key is a reserved word of the grammar rather
// than a column filter or an RPC argument.
func IsReservedKey(key string) bool {
	switch key {
	case keySelect, keyColumns, keyOnConflict:
		return true
	}
	switch lastWord(key) {
	case keyOrder, keyLimit, keyOffset, keyAnd, keyOr:
		return true
	}
	return false
}

func lastWord(key string) string {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[i+1:]
	}
	return key
}

// ParseQuery parses a raw (still percent-encoded) query string, such as
// "select=id,title&done=eq.false&order=id.desc&limit=20".
func ParseQuery(rawQuery string) (*Query, error) {
	params, err := splitQuery(rawQuery)
	if err != nil {
		return nil, err
	}
	q, err := buildQuery(params)
	if err != nil {
		return nil, err
	}
	return q, nil
}

// buildQuery interprets decoded params.
func buildQuery(params []param) (*Query, *Error) {
	q := &Query{}
	haveSelect := false
	vals := &valueSpans{}
	var shape []byte
	for _, p := range params {
		vals.spans = vals.spans[:0]
		var err *Error
		switch p.key {
		case keySelect:
			// The first select wins, as in PostgREST.
			if !haveSelect {
				haveSelect = true
				q.Select, err = parseSelect(p.value)
			}
		case keyColumns:
			if q.Columns == nil {
				q.Columns, err = parseColumns("columns parameter", p.value)
			}
		case keyOnConflict:
			if q.OnConflict == nil {
				q.OnConflict, err = parseColumns("on_conflict parameter", p.value)
			}
		default:
			err = q.addKeyed(p, vals)
		}
		if err != nil {
			return nil, err
		}
		shape = appendShape(shape, p, vals.spans)
	}
	if !haveSelect {
		q.Select = []SelectItem{{Kind: SelectStar}}
	}
	q.Shape, q.Slots = string(shape), vals.filters
	return q, nil
}

// appendShape appends one parameter to a query's shape: its key and its
// value with each value span replaced by a NUL (which a decoded query
// string never contains), both length-prefixed so that no two different
// parameter lists can read the same.
func appendShape(dst []byte, p param, spans [][2]int) []byte {
	n := len(p.value) + len(spans)
	for _, sp := range spans {
		n -= sp[1] - sp[0]
	}
	dst = strconv.AppendInt(dst, int64(len(p.key)), 10)
	dst = append(append(dst, ':'), p.key...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, ':')
	at := 0
	for _, sp := range spans {
		dst = append(append(dst, p.value[at:sp[0]]...), 0)
		at = sp[1]
	}
	return append(dst, p.value[at:]...)
}

// addKeyed handles the params whose key may carry an embed path: order,
// limit, offset, and/or trees and filters.
func (q *Query) addKeyed(p param, vals *valueSpans) *Error {
	switch lastWord(p.key) {
	case keyOrder:
		path, err := parsePath(p.key)
		if err != nil {
			return err
		}
		terms, err := parseOrder(p.value)
		if err != nil {
			return err
		}
		q.setOrder(path, terms)
	case keyLimit, keyOffset:
		path, err := parsePath(p.key)
		if err != nil {
			return err
		}
		return q.setPage(path, lastWord(p.key), p.value)
	case keyAnd, keyOr:
		path, err := parsePath(p.key)
		if err != nil {
			return err
		}
		op := And
		if lastWord(p.key) == keyOr {
			op = Or
		}
		not := len(path) > 0 && path[len(path)-1] == "not"
		if not {
			path = path[:len(path)-1]
			if len(path) == 0 {
				path = nil
			}
		}
		e, err := parseLogic(op, not, p.value, false, vals)
		if err != nil {
			return err
		}
		q.Where = append(q.Where, Where{Path: path, Expr: e})
	default:
		path, field, err := parseFilterKey(p.key)
		if err != nil {
			return err
		}
		f, err := parseFilterValue(field, p.value, vals)
		if err != nil {
			return err
		}
		q.Where = append(q.Where, Where{Path: path, Expr: Expr{Filter: f}})
	}
	return nil
}

// parsePath parses a reserved key such as "books.reviews.order" and returns
// the embed path before the final word. Quoted names may contain dots.
func parsePath(key string) (Path, *Error) {
	s := newScanner("tree path", key)
	var path Path
	for {
		if len(path) > maxDepth {
			return nil, s.errorf(s.pos, "embed path too deep")
		}
		s.skipSpace()
		name, err := s.fieldName()
		if err != nil {
			return nil, err
		}
		s.skipSpace()
		if s.eof() {
			return path, nil
		}
		if s.peek() != '.' {
			return nil, s.fail(`delimiter (.)`)
		}
		s.pos++
		path = append(path, name)
	}
}

// parseFilterKey parses a filter key: [embed.]*column[->json...].
func parseFilterKey(key string) (Path, Field, *Error) {
	s := newScanner("tree path", key)
	var path Path
	for {
		if len(path) > maxDepth {
			return nil, Field{}, s.errorf(s.pos, "embed path too deep")
		}
		f, err := s.field()
		if err != nil {
			return nil, Field{}, err
		}
		if s.eof() {
			return path, f, nil
		}
		if s.peek() != '.' || len(f.JSON) > 0 {
			return nil, Field{}, s.fail(`"->", delimiter (.) or end of input`)
		}
		s.pos++
		path = append(path, f.Name)
	}
}

func (q *Query) setOrder(path Path, terms []OrderTerm) {
	for i := range q.Order {
		if q.Order[i].Path.Equal(path) {
			q.Order[i].Terms = terms
			return
		}
	}
	q.Order = append(q.Order, Order{Path: path, Terms: terms})
}

// setPage records limit or offset for path; the last value given wins.
func (q *Query) setPage(path Path, which, value string) *Error {
	what := "Limit"
	if which == keyOffset {
		what = "Offset"
	}
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil {
		return rangeError(what + " should be an integer, got " + quote(value) + ".")
	}
	if n < 0 {
		// PostgREST's wording for a negative limit.
		return rangeError(what + " should be greater than or equal to zero.")
	}
	idx := -1
	for i := range q.Pages {
		if q.Pages[i].Path.Equal(path) {
			idx = i
		}
	}
	if idx < 0 {
		q.Pages = append(q.Pages, Page{Path: path, Range: Range{Limit: NoLimit}})
		idx = len(q.Pages) - 1
	}
	if which == keyLimit {
		q.Pages[idx].Limit = n
	} else {
		q.Pages[idx].Offset = n
	}
	return nil
}

// parseColumns parses columns= and on_conflict=: names separated by commas.
func parseColumns(what, value string) ([]string, *Error) {
	s := newScanner(what, value)
	var cols []string
	for {
		if len(cols) >= maxList {
			return nil, s.errorf(s.pos, "too many columns")
		}
		s.skipSpace()
		name, err := s.fieldName()
		if err != nil {
			return nil, err
		}
		cols = append(cols, name)
		s.skipSpace()
		if s.eof() {
			return cols, nil
		}
		if s.peek() != ',' {
			return nil, s.fail(`"," or end of input`)
		}
		s.pos++
	}
}
