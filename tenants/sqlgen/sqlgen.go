// Package sqlgen turns a parsed request (tenants/query) and a project's
// schema (tenants/schema) into one parameterised SQL statement. It is pure:
// every identifier is checked against the schema and quoted, every value is
// bound as a parameter, tables are schema-qualified, and Postgres builds the
// JSON (or CSV) of the response.
//
// Every statement returns one row with the columns ColBody, ColCount,
// ColTotal and ColLocation, whatever the request was, so the caller streams
// the body bytes without decoding rows. The one exception: a one-object
// insert that returns nothing returns that row from its RETURNING, and no
// row when a trigger dropped the object (a count of 0). Failures that must
// roll the request back (a singular response with the wrong number of rows,
// a written row outside the caller's access rules, too many rows affected)
// are raised inside the statement through plinth_api.raise, so they cost no
// extra round trip.
package sqlgen

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/schema"
)

// Result columns of every statement, in order.
const (
	// ColBody is the response body as text: JSON (array, object or scalar),
	// CSV, or "" when the request wants no body.
	ColBody = iota
	// ColCount is the number of rows in the response (for writes: the rows
	// written).
	ColCount
	// ColTotal is the total that Prefer: count asked for, NULL otherwise.
	ColTotal
	// ColLocation is, for an insert of one row into a table with a primary
	// key, a JSON array of that row's key values as text; NULL otherwise.
	ColLocation
)

// Statement is SQL with its arguments and what the caller needs to know to
// run it and answer.
type Statement struct {
	SQL  string
	Args []any
	// ReadOnly says the statement may run in a read-only transaction (reads,
	// and calls of functions that are not volatile).
	ReadOnly bool
	// Void is set for a call of a function returning void (answered 204).
	Void bool
	// Scalar is set for a call whose result is a single value rather than rows.
	Scalar bool
	// PrimaryKey names the columns whose values ColLocation holds.
	PrimaryKey []string
}

// Request is what one data-API request asks of a statement: the parsed
// query string and the parts of the headers that shape SQL.
type Request struct {
	Query *query.Query
	// Range is the window of top-level rows: query.Request.TopRange for
	// GET/HEAD, Query.RangeFor(nil) for other methods.
	Range  query.Range
	Prefer query.Preferences
	// Media is the negotiated response type: MediaJSON (or "" for it),
	// MediaObject or MediaCSV.
	Media query.MediaType
	// NoBody skips building a body (HEAD, return=minimal, headers-only).
	NoBody bool
	// MaxRows caps the rows of a response (the project's max_rows); 0 = none.
	MaxRows int64
	// Access decides what the caller may do; nil allows everything.
	Access Access
}

func (r *Request) singular() bool { return r.Media == query.MediaObject }
func (r *Request) csv() bool      { return r.Media == query.MediaCSV }

// builder accumulates arguments while fragments of SQL are rendered.
type builder struct {
	s      *schema.Schema
	req    *Request
	args   []any
	inline bool // render values as literals (for the EXPLAIN of planned counts)
	n      int  // alias counter
	// rec, when set, notes what a Template needs to rebuild the arguments.
	rec *recorder
}

func newBuilder(s *schema.Schema, req *Request) *builder {
	if req.Query == nil {
		req.Query = &query.Query{Select: []query.SelectItem{{Kind: query.SelectStar}}}
	}
	return &builder{s: s, req: req}
}

// arg binds v and returns its placeholder (or, inline, a literal that
// Postgres types from context exactly as it types an unknown parameter).
func (b *builder) arg(v string) string {
	if b.inline {
		return lit(v)
	}
	b.rec.constant(v)
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// payloadArg binds a write's body.
func (b *builder) payloadArg(p *Payload) string {
	b.rec.payload()
	b.args = append(b.args, string(p.raw))
	return "$" + strconv.Itoa(len(b.args))
}

// payloadValueArg binds the i-th member of a one-object body (see
// Payload.valueText).
func (b *builder) payloadValueArg(p *Payload, i int, raw bool) string {
	b.rec.payloadValue(i, raw)
	b.args = append(b.args, p.valueText(i, raw))
	return "$" + strconv.Itoa(len(b.args))
}

// filterArg binds part of a filter's value (see argPart).
func (b *builder) filterArg(f *query.Filter, part argPart) string {
	v := part.of(f)
	if b.inline {
		return lit(v)
	}
	b.rec.value(f, part)
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// alias returns a fresh SQL alias with the given prefix.
func (b *builder) alias(prefix string) string {
	b.n++
	return prefix + strconv.Itoa(b.n)
}

// qualified is the schema-qualified, quoted name of a relation.
func (b *builder) qualified(name string) string { return quote(b.s.Name) + "." + quote(name) }

// quote quotes an identifier (a name from the schema cache or one the
// parser accepted), doubling embedded quotes.
func quote(id string) string {
	if strings.ContainsAny(id, "\"\x00") {
		return pgx.Identifier{id}.Sanitize()
	}
	return `"` + id + `"`
}

// lit renders s as a SQL string literal that means the same whatever
// standard_conforming_strings is (an escape string when needed).
func lit(s string) string {
	if !strings.ContainsAny(s, `'\`) {
		return "'" + s + "'"
	}
	r := strings.NewReplacer(`\`, `\\`, `'`, `''`)
	return "E'" + r.Replace(s) + "'"
}

// sqlBuf is a strings.Builder with a variadic write.
type sqlBuf struct{ strings.Builder }

func (w *sqlBuf) w(parts ...string) {
	for _, p := range parts {
		w.WriteString(p)
	}
}
