package plinth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Direction is an ORDER BY direction.
type Direction int

// Directions.
const (
	Asc Direction = iota
	Desc
)

// CountMethod asks the server for the total row count (Prefer: count=…),
// reported in Response.Count.
type CountMethod string

// Count methods, as in PostgREST.
const (
	CountExact     CountMethod = "exact"
	CountPlanned   CountMethod = "planned"
	CountEstimated CountMethod = "estimated"
)

// Opt is an optional argument of a query method (WithCount, Head,
// OnConflict, NullsFirst, Referenced, …). Methods ignore options that do not
// apply to them.
type Opt func(*opt)

type opt struct {
	count          CountMethod
	head           bool
	get            bool
	onConflict     *string
	ignoreDup      bool
	missingDefault bool
	nullsFirst     *bool
	referenced     string
	ftsConfig      string
	ftsType        string
}

func collect(opts []Opt) opt {
	var o opt
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// WithCount requests a total count (Select, Insert, Upsert, Update, Delete, RPC).
func WithCount(m CountMethod) Opt { return func(o *opt) { o.count = m } }

// Head makes Select (or RPC) a HEAD request: the count without the rows.
func Head() Opt { return func(o *opt) { o.head = true } }

// UseGet calls an RPC with GET and its arguments in the query string (for
// stable/immutable functions).
func UseGet() Opt { return func(o *opt) { o.get = true } }

// OnConflict names the unique columns an Upsert resolves on (on_conflict=…).
func OnConflict(columns string) Opt { return func(o *opt) { o.onConflict = &columns } }

// IgnoreDuplicates makes Upsert keep existing rows (resolution=ignore-duplicates).
func IgnoreDuplicates() Opt { return func(o *opt) { o.ignoreDup = true } }

// MissingDefault fills columns absent from some rows of a bulk Insert or
// Upsert with their defaults instead of null (Prefer: missing=default).
func MissingDefault() Opt { return func(o *opt) { o.missingDefault = true } }

// NullsFirst sorts nulls first in Order.
func NullsFirst() Opt { b := true; return func(o *opt) { o.nullsFirst = &b } }

// NullsLast sorts nulls last in Order.
func NullsLast() Opt { b := false; return func(o *opt) { o.nullsFirst = &b } }

// Referenced applies Order, Limit, Range, Or or And to an embedded resource
// (e.g. "books" in select=*,books(*)) instead of the top-level rows.
func Referenced(table string) Opt { return func(o *opt) { o.referenced = table } }

// Config sets the text search configuration of TextSearch (e.g. "english").
func Config(name string) Opt { return func(o *opt) { o.ftsConfig = name } }

// Plain makes TextSearch use plainto_tsquery.
func Plain() Opt { return func(o *opt) { o.ftsType = "pl" } }

// Phrase makes TextSearch use phraseto_tsquery.
func Phrase() Opt { return func(o *opt) { o.ftsType = "ph" } }

// Websearch makes TextSearch use websearch_to_tsquery.
func Websearch() Opt { return func(o *opt) { o.ftsType = "w" } }

// Query is one data API request being built: a read (Select), a write
// (Insert, Upsert, Update, Delete) or a function call (Client.RPC), plus
// filters and modifiers. Methods modify and return the same Query; a Query
// is meant to be built and executed once.
type Query struct {
	c           *Client
	url         string
	method      string
	p           params
	prefer      []string
	accept      string
	header      http.Header
	body        []byte
	err         error
	maybeSingle bool
}

// Response is a successful answer.
type Response struct {
	Status int
	// Count is the total from Content-Range when a count was requested
	// (WithCount), else -1.
	Count  int64
	Header http.Header
	Body   []byte
}

// From starts a request on a table or view.
func (c *Client) From(table string) *Query {
	q := &Query{c: c, url: c.restURL + "/" + pathEscape(table), header: http.Header{}}
	if strings.TrimSpace(table) == "" {
		q.err = errors.New("plinth: From needs a table name")
	}
	return q
}

// cleanSelect drops whitespace outside double quotes, as postgrest-js does.
func cleanSelect(columns string) string {
	if columns == "" {
		columns = "*"
	}
	var sb strings.Builder
	quoted := false
	for _, r := range columns {
		if !quoted && (r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v' || r == '\u00a0' || r == '\u2028' || r == '\u2029' || r == '\ufeff') {
			continue
		}
		if r == '"' {
			quoted = !quoted
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// Select picks columns (and embedded resources) to return. On a read it
// starts a GET (HEAD with Head()); after a write it asks for the written
// rows back (Prefer: return=representation).
func (q *Query) Select(columns string, opts ...Opt) *Query {
	o := collect(opts)
	cols := cleanSelect(columns)
	if q.method == "" || q.method == http.MethodGet || q.method == http.MethodHead {
		q.method = http.MethodGet
		if o.head {
			q.method = http.MethodHead
		}
		q.p.set("select", cols)
		if o.count != "" {
			q.prefer = append(q.prefer, "count="+string(o.count))
		}
		return q
	}
	q.p.set("select", cols)
	q.prefer = append(q.prefer, "return=representation")
	return q
}

// Insert adds one row (a struct or map) or many (a slice). Without a
// following Select the server answers 201 with no body.
func (q *Query) Insert(values any, opts ...Opt) *Query {
	o := collect(opts)
	q.method = http.MethodPost
	if o.count != "" {
		q.prefer = append(q.prefer, "count="+string(o.count))
	}
	if o.missingDefault {
		q.prefer = append(q.prefer, "missing=default")
	}
	q.setBody(values, true)
	return q
}

// Upsert inserts rows or, on a conflict with OnConflict's columns (default:
// the primary key), updates them (or keeps them with IgnoreDuplicates).
func (q *Query) Upsert(values any, opts ...Opt) *Query {
	o := collect(opts)
	q.method = http.MethodPost
	res := "merge"
	if o.ignoreDup {
		res = "ignore"
	}
	q.prefer = append(q.prefer, "resolution="+res+"-duplicates")
	if o.onConflict != nil {
		q.p.set("on_conflict", *o.onConflict)
	}
	if o.count != "" {
		q.prefer = append(q.prefer, "count="+string(o.count))
	}
	if o.missingDefault {
		q.prefer = append(q.prefer, "missing=default")
	}
	q.setBody(values, true)
	return q
}

// Update changes the rows matched by the filters to values (a struct or map).
func (q *Query) Update(values any, opts ...Opt) *Query {
	o := collect(opts)
	q.method = http.MethodPatch
	if o.count != "" {
		q.prefer = append(q.prefer, "count="+string(o.count))
	}
	q.setBody(values, false)
	return q
}

// Delete removes the rows matched by the filters.
func (q *Query) Delete(opts ...Opt) *Query {
	o := collect(opts)
	q.method = http.MethodDelete
	if o.count != "" {
		q.prefer = append(q.prefer, "count="+string(o.count))
	}
	return q
}

// setBody marshals a write body; for a JSON array it sets columns= to the
// union of the rows' keys in first-seen order, as postgrest-js does.
func (q *Query) setBody(values any, columns bool) {
	b, err := marshalJSON(values)
	if err != nil {
		q.err = fmt.Errorf("plinth: encode body: %w", err)
		return
	}
	q.body = b
	if !columns || len(b) == 0 || b[0] != '[' {
		return
	}
	keys, err := arrayKeys(b)
	if err != nil {
		q.err = fmt.Errorf("plinth: body: %w", err)
		return
	}
	if len(keys) > 0 {
		quoted := make([]string, len(keys))
		for i, k := range keys {
			quoted[i] = `"` + k + `"`
		}
		q.p.set("columns", strings.Join(quoted, ","))
	}
}

// arrayKeys lists the distinct object keys of a JSON array of objects in
// order of first appearance.
func arrayKeys(b []byte) ([]string, error) {
	var rows []json.RawMessage
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var keys []string
	for _, r := range rows {
		dec := json.NewDecoder(bytes.NewReader(r))
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			continue
		}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k := kt.(string)
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
	}
	return keys, nil
}

func (q *Query) add(column, value string) *Query {
	q.p.append(column, value)
	return q
}

// Eq: column = value.
func (q *Query) Eq(column string, value any) *Query { return q.add(column, "eq."+text(value)) }

// Neq: column <> value.
func (q *Query) Neq(column string, value any) *Query { return q.add(column, "neq."+text(value)) }

// Gt: column > value.
func (q *Query) Gt(column string, value any) *Query { return q.add(column, "gt."+text(value)) }

// Gte: column >= value.
func (q *Query) Gte(column string, value any) *Query { return q.add(column, "gte."+text(value)) }

// Lt: column < value.
func (q *Query) Lt(column string, value any) *Query { return q.add(column, "lt."+text(value)) }

// Lte: column <= value.
func (q *Query) Lte(column string, value any) *Query { return q.add(column, "lte."+text(value)) }

// Like: column LIKE pattern (% may be written *).
func (q *Query) Like(column, pattern string) *Query { return q.add(column, "like."+pattern) }

// LikeAllOf: column LIKE ALL(patterns).
func (q *Query) LikeAllOf(column string, patterns ...string) *Query {
	return q.add(column, "like(all).{"+strings.Join(patterns, ",")+"}")
}

// LikeAnyOf: column LIKE ANY(patterns).
func (q *Query) LikeAnyOf(column string, patterns ...string) *Query {
	return q.add(column, "like(any).{"+strings.Join(patterns, ",")+"}")
}

// ILike: column ILIKE pattern.
func (q *Query) ILike(column, pattern string) *Query { return q.add(column, "ilike."+pattern) }

// ILikeAllOf: column ILIKE ALL(patterns).
func (q *Query) ILikeAllOf(column string, patterns ...string) *Query {
	return q.add(column, "ilike(all).{"+strings.Join(patterns, ",")+"}")
}

// ILikeAnyOf: column ILIKE ANY(patterns).
func (q *Query) ILikeAnyOf(column string, patterns ...string) *Query {
	return q.add(column, "ilike(any).{"+strings.Join(patterns, ",")+"}")
}

// RegexMatch: column ~ pattern.
func (q *Query) RegexMatch(column, pattern string) *Query { return q.add(column, "match."+pattern) }

// RegexIMatch: column ~* pattern.
func (q *Query) RegexIMatch(column, pattern string) *Query { return q.add(column, "imatch."+pattern) }

// Is: column IS value (nil, true, false or "unknown").
func (q *Query) Is(column string, value any) *Query { return q.add(column, "is."+text(value)) }

// IsDistinct: column IS DISTINCT FROM value.
func (q *Query) IsDistinct(column string, value any) *Query {
	return q.add(column, "isdistinct."+text(value))
}

// In: column = ANY(values); values is a slice (or a single value).
func (q *Query) In(column string, values any) *Query {
	return q.add(column, "in.("+inList(values)+")")
}

// NotIn: column <> ALL(values).
func (q *Query) NotIn(column string, values any) *Query {
	return q.add(column, "not.in.("+inList(values)+")")
}

// Contains: column @> value (array, range or jsonb; a slice becomes {a,b},
// a map or struct JSON, a string is sent as written).
func (q *Query) Contains(column string, value any) *Query {
	return q.add(column, "cs."+containment(value))
}

// ContainedBy: column <@ value.
func (q *Query) ContainedBy(column string, value any) *Query {
	return q.add(column, "cd."+containment(value))
}

// Overlaps: column && value (arrays or ranges).
func (q *Query) Overlaps(column string, value any) *Query {
	if s, ok := value.(string); ok {
		return q.add(column, "ov."+s)
	}
	return q.add(column, "ov."+braces(value))
}

// RangeGt: range column strictly right of r (>>).
func (q *Query) RangeGt(column, r string) *Query { return q.add(column, "sr."+r) }

// RangeGte: range column does not extend left of r (&>).
func (q *Query) RangeGte(column, r string) *Query { return q.add(column, "nxl."+r) }

// RangeLt: range column strictly left of r (<<).
func (q *Query) RangeLt(column, r string) *Query { return q.add(column, "sl."+r) }

// RangeLte: range column does not extend right of r (&<).
func (q *Query) RangeLte(column, r string) *Query { return q.add(column, "nxr."+r) }

// RangeAdjacent: range column adjacent to r (-|-).
func (q *Query) RangeAdjacent(column, r string) *Query { return q.add(column, "adj."+r) }

// TextSearch: full-text search (fts, or plfts/phfts/wfts with Plain,
// Phrase, Websearch; Config picks the configuration).
func (q *Query) TextSearch(column, query string, opts ...Opt) *Query {
	o := collect(opts)
	cfg := ""
	if o.ftsConfig != "" {
		cfg = "(" + o.ftsConfig + ")"
	}
	return q.add(column, o.ftsType+"fts"+cfg+"."+query)
}

// Match adds column=eq.value for each entry (in key order).
func (q *Query) Match(query map[string]any) *Query {
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		q.Eq(k, query[k])
	}
	return q
}

// Not negates an operator: column=not.operator.value.
func (q *Query) Not(column, operator string, value any) *Query {
	return q.add(column, "not."+operator+"."+text(value))
}

// Or adds a disjunction in PostgREST syntax: Or("id.eq.1,and(a.gt.2,b.is.null)").
func (q *Query) Or(filters string, opts ...Opt) *Query {
	o := collect(opts)
	key := "or"
	if o.referenced != "" {
		key = o.referenced + ".or"
	}
	return q.add(key, "("+filters+")")
}

// And adds a conjunction in PostgREST syntax (useful inside embeds with Referenced).
func (q *Query) And(filters string, opts ...Opt) *Query {
	o := collect(opts)
	key := "and"
	if o.referenced != "" {
		key = o.referenced + ".and"
	}
	return q.add(key, "("+filters+")")
}

// Filter adds any operator: column=operator.value (value sent as written).
func (q *Query) Filter(column, operator string, value any) *Query {
	return q.add(column, operator+"."+text(value))
}

// Where adds typed filters (from generated column constants, Or, And, Not).
func (q *Query) Where(filters ...Filter) *Query {
	for _, f := range filters {
		k, v := f.param()
		q.add(k, v)
	}
	return q
}

// Order sorts by column; call again for further keys. NullsFirst/NullsLast
// and Referenced apply.
func (q *Query) Order(column string, dir Direction, opts ...Opt) *Query {
	o := collect(opts)
	key := "order"
	if o.referenced != "" {
		key = o.referenced + ".order"
	}
	term := column + ".asc"
	if dir == Desc {
		term = column + ".desc"
	}
	if o.nullsFirst != nil {
		if *o.nullsFirst {
			term += ".nullsfirst"
		} else {
			term += ".nullslast"
		}
	}
	if prev, ok := q.p.get(key); ok && prev != "" {
		term = prev + "," + term
	}
	q.p.set(key, term)
	return q
}

// Limit caps the number of rows (of an embed with Referenced).
func (q *Query) Limit(n int, opts ...Opt) *Query {
	o := collect(opts)
	key := "limit"
	if o.referenced != "" {
		key = o.referenced + ".limit"
	}
	q.p.set(key, strconv.Itoa(n))
	return q
}

// Range returns rows from..to (0-based, inclusive) as offset and limit.
func (q *Query) Range(from, to int, opts ...Opt) *Query {
	o := collect(opts)
	ko, kl := "offset", "limit"
	if o.referenced != "" {
		ko, kl = o.referenced+".offset", o.referenced+".limit"
	}
	q.p.set(ko, strconv.Itoa(from))
	q.p.set(kl, strconv.Itoa(to-from+1))
	return q
}

// Single asks for exactly one row as an object; zero or several rows are a
// 406 error (PGRST116).
func (q *Query) Single() *Query {
	q.accept = "application/vnd.pgrst.object+json"
	return q
}

// MaybeSingle asks for at most one row: none leaves the destination
// untouched (Response.Body is null), several are a 406 error.
func (q *Query) MaybeSingle() *Query {
	q.maybeSingle = true
	return q
}

// CSV asks for text/csv; Execute into a *string or *[]byte.
func (q *Query) CSV() *Query {
	q.accept = "text/csv"
	return q
}

// Rollback runs the request and rolls its transaction back (Prefer: tx=rollback).
func (q *Query) Rollback() *Query {
	q.prefer = append(q.prefer, "tx=rollback")
	return q
}

// Header sets a request header.
func (q *Query) Header(key, value string) *Query {
	q.header.Set(key, value)
	return q
}

// URL is the request URL as it will be sent.
func (q *Query) URL() string {
	if len(q.p.kv) == 0 {
		return q.url
	}
	return q.url + "?" + q.p.encode()
}

// Method is the HTTP method as it will be sent.
func (q *Query) Method() string {
	if q.method == "" {
		return http.MethodGet
	}
	return q.method
}

// Headers returns the request headers as they will be sent (key and token
// included).
func (q *Query) Headers() http.Header {
	h := q.c.baseHeader()
	for k, vs := range q.header {
		h[k] = append([]string(nil), vs...)
	}
	if len(q.prefer) > 0 {
		h.Set("Prefer", strings.Join(q.prefer, ", "))
	}
	if q.accept != "" {
		h.Set("Accept", q.accept)
	}
	m := q.Method()
	if q.c.schema != "" {
		if m == http.MethodGet || m == http.MethodHead {
			h.Set("Accept-Profile", q.c.schema)
		} else {
			h.Set("Content-Profile", q.c.schema)
		}
	}
	if m != http.MethodGet && m != http.MethodHead {
		h.Set("Content-Type", "application/json")
	}
	return h
}

// Body is the request body as it will be sent (nil for none).
func (q *Query) Body() []byte { return q.body }

// Execute sends the request and decodes a JSON answer into dest (a pointer;
// nil to ignore the body). A non-2xx answer is an *Error.
func (q *Query) Execute(ctx context.Context, dest any) (*Response, error) {
	if q.err != nil {
		return nil, q.err
	}
	raw, err := q.c.t.do(ctx, q.Method(), q.URL(), q.Headers(), q.body)
	if err != nil {
		return nil, err
	}
	res := &Response{Status: raw.Status, Header: raw.Header, Body: raw.Body, Count: -1}
	if strings.Contains(strings.Join(q.prefer, ","), "count=") {
		if _, total, ok := strings.Cut(raw.Header.Get("Content-Range"), "/"); ok {
			if n, err := strconv.ParseInt(total, 10, 64); err == nil {
				res.Count = n
			}
		}
	}
	if q.maybeSingle {
		trimmed := bytes.TrimSpace(res.Body)
		if len(trimmed) > 0 && trimmed[0] == '[' {
			var rows []json.RawMessage
			if err := json.Unmarshal(trimmed, &rows); err != nil {
				return res, fmt.Errorf("plinth: decode response: %w", err)
			}
			switch len(rows) {
			case 0:
				res.Body = []byte("null")
			case 1:
				res.Body = rows[0]
			default:
				return res, &Error{Status: http.StatusNotAcceptable, Code: "PGRST116",
					Message: "JSON object requested, multiple (or no) rows returned",
					Details: fmt.Sprintf("Results contain %d rows, application/vnd.pgrst.object+json requires 1 row", len(rows)),
					Body:    raw.Body}
			}
		}
	}
	if dest == nil || q.Method() == http.MethodHead || len(bytes.TrimSpace(res.Body)) == 0 {
		return res, nil
	}
	if q.accept == "text/csv" {
		switch d := dest.(type) {
		case *string:
			*d = string(res.Body)
			return res, nil
		case *[]byte:
			*d = res.Body
			return res, nil
		}
	}
	if err := json.Unmarshal(res.Body, dest); err != nil {
		return res, fmt.Errorf("plinth: decode response: %w", err)
	}
	return res, nil
}

// RPC calls a function of the project schema: POST /rpc/fn with args (a
// map or struct) as JSON, or GET/HEAD with the arguments in the query string
// (UseGet, Head). Filters and modifiers apply to set-returning functions.
func (c *Client) RPC(fn string, args any, opts ...Opt) *Query {
	o := collect(opts)
	q := &Query{c: c, url: c.restURL + "/rpc/" + pathEscape(fn), header: http.Header{}}
	if args == nil {
		args = map[string]any{}
	}
	b, err := marshalJSON(args)
	if err != nil {
		q.err = fmt.Errorf("plinth: encode args: %w", err)
		return q
	}
	entries, err := objectEntries(b)
	if err != nil {
		q.err = fmt.Errorf("plinth: RPC args must be a JSON object: %w", err)
		return q
	}
	hasObject := false
	if o.head {
		for _, e := range entries {
			if jsonHasObject(e.v) {
				hasObject = true
			}
		}
	}
	switch {
	case hasObject:
		q.method, q.body = http.MethodPost, b
	case o.head || o.get:
		q.method = http.MethodGet
		if o.head {
			q.method = http.MethodHead
		}
		for _, e := range entries {
			q.p.append(e.k, jsonArgText(e.v))
		}
	default:
		q.method, q.body = http.MethodPost, b
	}
	switch {
	case hasObject && o.count != "":
		q.prefer = []string{"count=" + string(o.count) + ",return=minimal"}
	case hasObject:
		q.prefer = []string{"return=minimal"}
	case o.count != "":
		q.prefer = []string{"count=" + string(o.count)}
	}
	return q
}

type entry struct {
	k string
	v json.RawMessage
}

// objectEntries lists a JSON object's members in order.
func objectEntries(b []byte) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not an object")
	}
	var out []entry
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, entry{kt.(string), v})
	}
	return out, nil
}

func jsonHasObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return false
	}
	switch v[0] {
	case '{':
		return true
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(v, &items) != nil {
			return false
		}
		for _, it := range items {
			if jsonHasObject(it) {
				return true
			}
		}
	}
	return false
}

// jsonArgText renders a JSON value as postgrest-js renders an RPC argument
// in a query string: arrays as {a,b}, everything else as `${value}`.
func jsonArgText(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '[' {
		var items []json.RawMessage
		if json.Unmarshal(v, &items) == nil {
			parts := make([]string, len(items))
			for i, it := range items {
				if string(bytes.TrimSpace(it)) != "null" {
					parts[i] = jsonScalarText(it)
				}
			}
			return "{" + strings.Join(parts, ",") + "}"
		}
	}
	return jsonScalarText(v)
}

func jsonScalarText(v json.RawMessage) string {
	if string(bytes.TrimSpace(v)) == "null" {
		return "null"
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '{' {
		return "[object Object]" // what `${value}` makes of an object in postgrest-js
	}
	if len(v) > 0 && v[0] == '[' {
		return jsonArgText(v)[1 : len(jsonArgText(v))-1]
	}
	return string(v)
}

// marshalJSON encodes like JSON.stringify: no HTML escaping of <, > and &.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
