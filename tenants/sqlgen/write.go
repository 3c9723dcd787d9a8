package sqlgen

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/schema"
)

// Payload is a parsed JSON request body: one or more objects.
type Payload struct {
	raw   []byte   // always a JSON array of objects
	rows  []keySet // each object's keys
	array bool
	keys  []string // keys of the first object, in the order written
	// obj is the body when it is one object (not an array), for inserts
	// that bind its values one by one (see insertValues), and vals its
	// members in order, once read.
	obj  gjson.Result
	vals []gjson.Result
}

// keySet is one object's keys.
type keySet map[string]struct{}

// jsonSpace is the whitespace JSON allows around a value (not every Unicode
// space: "\f{}" is not JSON).
const jsonSpace = " \t\r\n"

// maxJSONDepth is encoding/json's nesting limit, kept for request bodies.
const maxJSONDepth = 10000

// parsePayload checks that body is an object or an array of objects. Keys
// must be the same in every object unless columns= says which to use, as
// in PostgREST. Postgres reads the values; Go only needs the keys, so the
// body is validated and walked without decoding it into Go values.
func parsePayload(body []byte, columns []string) (*Payload, error) {
	trimmed := bytes.Trim(body, jsonSpace)
	if len(trimmed) == 0 {
		return nil, errInvalidBody("")
	}
	if !utf8.Valid(trimmed) {
		// Postgres would refuse it too; encoding/json would have let it
		// through as U+FFFD.
		return nil, errInvalidBody("the body is not valid UTF-8")
	}
	if jsonDepth(trimmed) > maxJSONDepth || !gjson.ValidBytes(trimmed) {
		return nil, errInvalidBody(invalidJSONDetail(trimmed))
	}
	p := &Payload{}
	switch v := gjson.ParseBytes(trimmed); {
	case v.IsObject():
		keys, set := keysOf(v)
		p.rows, p.keys, p.obj = []keySet{set}, keys, v
		p.raw = make([]byte, 0, len(trimmed)+2)
		p.raw = append(append(append(p.raw, '['), trimmed...), ']')
	case v.IsArray():
		objects := true
		v.ForEach(func(_, el gjson.Result) bool {
			objects = el.IsObject()
			if objects {
				keys, set := keysOf(el)
				if p.rows == nil {
					p.keys = keys
				}
				p.rows = append(p.rows, set)
			}
			return objects
		})
		if !objects {
			return nil, errInvalidBody("every element of the array must be an object")
		}
		p.raw, p.array = trimmed, true
	default:
		return nil, errInvalidBody("the body must be a JSON object or an array of objects")
	}
	if columns == nil && len(p.rows) > 1 {
		for _, r := range p.rows[1:] {
			if !sameKeys(r, p.rows[0]) {
				return nil, apierror.New(http.StatusBadRequest, "PGRST102", "All object keys must match")
			}
		}
	}
	return p, nil
}

// keysOf returns an object's keys in the order written, once each, and as
// a set (a set, not a scan of the list: a body may hold many keys).
func keysOf(obj gjson.Result) ([]string, keySet) {
	var keys []string
	set := keySet{}
	obj.ForEach(func(k, _ gjson.Result) bool {
		if _, dup := set[k.Str]; !dup {
			set[k.Str] = struct{}{}
			keys = append(keys, k.Str)
		}
		return true
	})
	return keys, set
}

// jsonDepth is the deepest nesting of arrays and objects in a JSON text
// (strings skipped), so absurdly deep bodies stop here as they did with
// encoding/json.
func jsonDepth(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// invalidJSONDetail says what is wrong with an invalid body, in
// encoding/json's words (only on this error path).
func invalidJSONDetail(b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return jsonError(err)
	}
	return ""
}

// jsonError shortens encoding/json's messages to what a client can use.
func jsonError(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}

// sameKeys reports whether two objects have the same keys.
func sameKeys(a, b keySet) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// objectKeys returns a JSON object's keys in the order written (a map
// forgets it, and SQL should follow the client's order).
func objectKeys(body []byte) []string {
	keys, _ := keysOf(gjson.ParseBytes(body))
	return keys
}

// writeColumns resolves the columns a write sets: columns= when given,
// else the payload's keys; each must be a column of t (PGRST204).
func writeColumns(t *schema.Table, p *Payload, columns []string) ([]*schema.Column, error) {
	names := columns
	if names == nil {
		names = p.keys
	}
	out := make([]*schema.Column, 0, len(names))
	for _, n := range names {
		c, ok := t.Column(n)
		if !ok {
			return nil, errPayloadColumn(t.Name, n)
		}
		out = append(out, c)
	}
	return out, nil
}

// mutation holds what every write shares.
type mutation struct {
	b     *builder
	t     *schema.Table
	plain *node // t as t0, for conditions and filters on written rows
	// checks on written rows: each condition must hold for every one.
	rowChecks []query.Expr
}

func newMutation(s *schema.Schema, table string, req *Request) (*mutation, error) {
	t, ok := s.Table(table)
	if !ok {
		return nil, errTableNotFound(table)
	}
	b := newBuilder(s, req)
	return &mutation{b: b, t: t, plain: &node{table: t, alias: "t0"}}, nil
}

// filters renders the request's top-level filters (and cond) over t0.
func (m *mutation) filters(cond query.Expr) (string, error) {
	exprs := append(slices.Clone(m.b.req.Query.WhereFor(nil)), cond)
	return m.b.conjunction(m.plain, exprs)
}

// finish wraps the data-modifying CTE into the statement (see output).
func (m *mutation) finish(cte string, location bool) (*Statement, error) {
	f, pk, err := m.output(location)
	if err != nil {
		return nil, err
	}
	f.with = "with pgrst_source as (" + cte + ") "
	return &Statement{SQL: m.b.finish(f), Args: m.b.args, PrimaryKey: pk}, nil
}

// output is what a write answers over its written rows (pgrst_source): the
// representation (or just the count), the checks that roll the request
// back, and the Location of an inserted row, with the primary key columns
// that Location holds.
func (m *mutation) output(location bool) (*final, []string, error) {
	b, req := m.b, m.b.req
	f := &final{}
	if cs, err := b.conjunction(m.plain, m.rowChecks); err != nil {
		return nil, nil, err
	} else if cs != "" {
		f.checks = append(f.checks, check{
			when: "(select bool_and(coalesce(" + cs + ", false)) from pgrst_source t0) is false",
			raise: b.errorRaise("42501", `new row violates the access rules for table "`+m.t.Name+`"`,
				"The written row must satisfy the caller's access rules for this table."),
		})
	}
	if req.singular() {
		f.checks = append(f.checks, b.singularCheck())
	}
	if c, ok := b.maxAffectedCheck(); ok {
		f.checks = append(f.checks, c)
	}
	var pk []string
	if location && len(m.t.PrimaryKey) > 0 {
		pk = m.t.PrimaryKey
		vals := make([]string, len(pk))
		for i, c := range pk {
			vals[i] = "t0." + quote(c) + "::text"
		}
		f.location = "(select json_build_array(" + strings.Join(vals, ", ") + ")::text from pgrst_source t0 limit 1)"
	}
	if req.NoBody {
		f.shape = shapeNone
		f.rows = "select from pgrst_source t0"
	} else {
		cond, err := b.access(m.t.Name, "select")
		if err != nil {
			return nil, nil, err
		}
		root, err := b.planRoot(m.t, "t0", req.Query.Select, cond)
		if err != nil {
			return nil, nil, err
		}
		root.written = true
		r, err := b.render(root, "pgrst_source t0", nil, query.Range{Limit: query.NoLimit}, 0)
		if err != nil {
			return nil, nil, err
		}
		f.rows, f.shape = r.query(), b.shapeFor(root)
		if f.shape == shapeCSV {
			f.keys = root.outputKeys()
		}
	}
	if req.Prefer.Count != "" {
		f.total = "count(*)"
	}
	return f, pk, nil
}

// insertSelect renders "(cols) select ... from <payload rows>": one row per
// payload object, read by json_populate_recordset into t's row type (so
// Postgres converts and checks every value), or, with missing=default and
// objects lacking some columns, per object with the column defaults.
func (m *mutation) insertSelect(p *Payload, cols []*schema.Column, where string) string {
	b := m.b
	var w sqlBuf
	if len(cols) > 0 {
		w.w("(")
		for i, c := range cols {
			if i > 0 {
				w.w(", ")
			}
			w.w(quote(c.Name))
		}
		w.w(") ")
	}
	if vals, ok := m.insertValues(p, cols, where); ok {
		w.w(vals)
		return w.String()
	}
	rowType := "null::" + b.qualified(m.t.Name)
	body := b.payloadArg(p) + "::json"
	if b.req.Prefer.Missing == query.MissingDefault {
		b.rec.cannot() // which objects lack a column decides the SQL
	}
	if b.req.Prefer.Missing != query.MissingDefault || !m.missingSome(p, cols) {
		w.w("select ")
		for i, c := range cols {
			if i > 0 {
				w.w(", ")
			}
			w.w("_b.", quote(c.Name))
		}
		w.w(" from json_populate_recordset(", rowType, ", ", body, ") _b", where)
		return w.String()
	}
	w.w("select ")
	for i, c := range cols {
		if i > 0 {
			w.w(", ")
		}
		w.w("case when _j.v -> ", lit(c.Name), " is not null then _b.", quote(c.Name), " else ", m.defaultExpr(c), " end")
	}
	w.w(" from json_array_elements(", body, ") with ordinality _j(v, n), lateral json_populate_record(", rowType, ", _j.v) _b", where, " order by _j.n")
	return w.String()
}

// insertValues renders "values ($1, $2, ...)" for a body that is one
// object whose keys are the columns, binding each value as text: what
// json_populate_recordset would hand each column's input function (a
// string's contents, json and jsonb columns the value's JSON text, other
// values their JSON text, null as NULL), for less work in Postgres. Columns
// of array and composite types, and objects repeating a key, keep the JSON
// path, which converts and resolves them its own way (see valuesAsText).
func (m *mutation) insertValues(p *Payload, cols []*schema.Column, where string) (string, bool) {
	if !p.obj.IsObject() || len(cols) == 0 || len(cols) != len(p.keys) || where != "" {
		return "", false
	}
	for i, c := range cols {
		if c.Name != p.keys[i] || !textInput(c) {
			return "", false
		}
	}
	if !p.valuesAsText() {
		return "", false
	}
	var w sqlBuf
	w.w("values (")
	for i := range cols {
		if i > 0 {
			w.w(", ")
		}
		w.w(m.b.payloadValueArg(p, i, cols[i].TypeName == "json" || cols[i].TypeName == "jsonb"))
	}
	w.w(")")
	return w.String(), true
}

// textInput says a column's values reach its type's input function as
// text from json_populate_recordset (no array or record conversion).
func textInput(c *schema.Column) bool {
	if c.Category == "E" { // enum
		return true
	}
	switch c.TypeName {
	case "text", "varchar", "bpchar", "name", "citext", "char",
		"int2", "int4", "int8", "numeric", "float4", "float8", "money", "bool",
		"uuid", "date", "time", "timetz", "timestamp", "timestamptz", "interval",
		"json", "jsonb", "bytea", "inet", "cidr", "macaddr", "macaddr8", "xml", "bit", "varbit":
		return c.Category != "A" && c.Category != "C"
	}
	return false
}

// valuesAsText says every member of a one-object payload can be bound as
// text, in the order of its keys: not when a key repeats (the recordset
// takes the last value), nor a string holding \u0000 (the recordset
// refuses it with an error of its own).
func (p *Payload) valuesAsText() bool {
	p.readValues()
	if len(p.vals) != len(p.keys) {
		return false
	}
	for _, v := range p.vals {
		if v.Type == gjson.String && strings.IndexByte(v.Str, 0) >= 0 {
			return false
		}
	}
	return true
}

func (p *Payload) readValues() {
	if p.vals == nil {
		p.obj.ForEach(func(_, v gjson.Result) bool {
			p.vals = append(p.vals, v)
			return true
		})
	}
}

// valueText is the text the i-th member of a one-object payload gives a
// column, as json_populate_recordset gives it: nil (NULL) for null, the
// JSON text for json and jsonb columns (raw) and for numbers, booleans,
// objects and arrays, a string's contents otherwise.
func (p *Payload) valueText(i int, raw bool) any {
	p.readValues()
	v := p.vals[i]
	switch {
	case v.Type == gjson.Null:
		return nil
	case !raw && v.Type == gjson.String:
		return v.Str
	}
	return v.Raw
}

func (m *mutation) missingSome(p *Payload, cols []*schema.Column) bool {
	for _, r := range p.rows {
		for _, c := range cols {
			if _, ok := r[c.Name]; !ok {
				return true
			}
		}
	}
	return false
}

// defaultExpr is the column's default as the catalog states it (the
// project's own expression, run as the project's role, as PostgREST does).
func (m *mutation) defaultExpr(c *schema.Column) string {
	switch {
	case c.Default != "":
		return "(" + c.Default + ")"
	case c.Identity:
		return "nextval(pg_get_serial_sequence(" + lit(m.b.qualified(m.t.Name)) + ", " + lit(c.Name) + "))"
	}
	return "null"
}

// conflictTarget is on_conflict= (checked) or the primary key.
func (m *mutation) conflictTarget() ([]string, error) {
	cols := m.b.req.Query.OnConflict
	if cols == nil {
		return m.t.PrimaryKey, nil
	}
	for _, c := range cols {
		if _, ok := m.t.Column(c); !ok {
			return nil, errColumnNotFound(m.t.Name, c)
		}
	}
	return cols, nil
}

func quoteAll(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quote(c)
	}
	return strings.Join(q, ", ")
}

// onConflictUpdate renders "on conflict (target) do update set c = excluded.c"
// limited to existing rows the caller may update.
func (m *mutation) onConflictUpdate(target []string, cols []*schema.Column, updCond query.Expr) (string, error) {
	var w sqlBuf
	w.w(" on conflict (", quoteAll(target), ") do ")
	if len(cols) == 0 {
		w.w("nothing")
		return w.String(), nil
	}
	w.w("update set ")
	for i, c := range cols {
		if i > 0 {
			w.w(", ")
		}
		w.w(quote(c.Name), " = excluded.", quote(c.Name))
	}
	if !updCond.IsEmpty() {
		c, err := m.b.conjunction(m.plain, []query.Expr{updCond})
		if err != nil {
			return "", err
		}
		w.w(" where ", c)
	}
	return w.String(), nil
}

// Insert builds POST /{table}: insert the payload (object or array), or
// upsert it with Prefer: resolution=merge-duplicates|ignore-duplicates.
func Insert(s *schema.Schema, table string, req *Request, body []byte) (*Statement, error) {
	p, err := ParsePayload(body, req)
	if err != nil {
		return nil, err
	}
	return insert(s, table, req, p, nil)
}

// InsertPayload is Insert of a parsed payload.
func InsertPayload(s *schema.Schema, table string, req *Request, p *Payload) (*Statement, error) {
	return insert(s, table, req, p, nil)
}

// ParsePayload checks a write body for req (see parsePayload).
func ParsePayload(body []byte, req *Request) (*Payload, error) {
	var columns []string
	if req.Query != nil {
		columns = req.Query.Columns
	}
	return parsePayload(body, columns)
}

// Shape is what of the payload an insert's SQL depends on: its keys in
// order, and whether it is an array.
func (p *Payload) Shape() string {
	var b []byte
	if p.array {
		b = append(b, '[')
	}
	for _, k := range p.keys {
		b = strconv.AppendInt(b, int64(len(k)), 10)
		b = append(append(b, ':'), k...)
	}
	return string(b)
}

// InsertTemplate is Insert of a parsed payload that also returns the
// statement's Template (see ReadTemplate), or nil when it cannot be one.
func InsertTemplate(s *schema.Schema, table string, req *Request, p *Payload) (*Statement, *Template, error) {
	rec := &recorder{}
	st, err := insert(s, table, req, p, rec)
	if err != nil {
		return st, nil, err
	}
	return st, rec.template(st), nil
}

func insert(s *schema.Schema, table string, req *Request, p *Payload, rec *recorder) (*Statement, error) {
	m, err := newMutation(s, table, req)
	if err != nil {
		return nil, err
	}
	m.b.rec = rec
	cols, err := writeColumns(m.t, p, req.Query.Columns)
	if err != nil {
		return nil, err
	}
	insCond, err := m.b.access(m.t.Name, "insert")
	if err != nil {
		return nil, err
	}
	m.rowChecks = append(m.rowChecks, insCond)

	var w sqlBuf
	w.w("insert into ", m.b.qualified(m.t.Name), " as t0 ", m.insertSelect(p, cols, ""))
	switch req.Prefer.Resolution {
	case query.MergeDuplicates:
		updCond, err := m.b.access(m.t.Name, "update")
		if err != nil {
			return nil, err
		}
		m.rowChecks = append(m.rowChecks, updCond)
		target, err := m.conflictTarget()
		if err != nil {
			return nil, err
		}
		if len(target) == 0 {
			return nil, errBadRequest("PGRST100", "merge-duplicates needs a primary key or on_conflict columns on table '%s'", m.t.Name)
		}
		oc, err := m.onConflictUpdate(target, cols, updCond)
		if err != nil {
			return nil, err
		}
		w.w(oc)
	case query.IgnoreDuplicates:
		target, err := m.conflictTarget()
		if err != nil {
			return nil, err
		}
		w.w(" on conflict ")
		if len(target) > 0 {
			w.w("(", quoteAll(target), ") ")
		}
		w.w("do nothing")
	}
	location := req.Prefer.Return == query.ReturnHeadersOnly && !p.array
	f, pk, err := m.output(location)
	if err != nil {
		return nil, err
	}
	// One object without ON CONFLICT writes one row (none when a trigger
	// drops it); when nothing reads, checks or counts it, the insert's own
	// RETURNING is the result row and Postgres does no CTE scan or
	// aggregate. Constants, like RETURNING 1, need no right to read.
	if !p.array && req.Prefer.Resolution == "" && f.countOnly() {
		w.w(" returning '', 1, null::bigint, null::text")
		return &Statement{SQL: w.String(), Args: m.b.args}, nil
	}
	f.with = "with pgrst_source as (" + w.String() + m.returning(location) + ") "
	return &Statement{SQL: m.b.finish(f), Args: m.b.args, PrimaryKey: pk}, nil
}

// returning is a write's RETURNING: the written rows' columns when
// something reads them (the representation, the Location, the access
// checks on written rows), else only a 1 per row to count them. As in
// PostgREST, a write that returns nothing then needs no right to read the
// table: RETURNING of a column would make Postgres apply the table's
// SELECT privileges and row-level security policies to the new rows.
func (m *mutation) returning(location bool) string {
	if !m.b.req.NoBody || location {
		return " returning t0.*"
	}
	for _, c := range m.rowChecks {
		if !c.IsEmpty() {
			return " returning t0.*"
		}
	}
	return " returning 1"
}

// Update builds PATCH /{table}?filters: set the payload's columns on the
// matching rows the caller may update (optionally limit/order'ed).
func Update(s *schema.Schema, table string, req *Request, body []byte) (*Statement, error) {
	m, err := newMutation(s, table, req)
	if err != nil {
		return nil, err
	}
	p, err := parsePayload(body, req.Query.Columns)
	if err != nil {
		return nil, err
	}
	if p.array {
		return nil, errInvalidBody("a PATCH body must be a single JSON object")
	}
	cols, err := writeColumns(m.t, p, req.Query.Columns)
	if err != nil {
		return nil, err
	}
	cond, err := m.b.access(m.t.Name, "update")
	if err != nil {
		return nil, err
	}
	m.rowChecks = append(m.rowChecks, cond)
	where, err := m.limitedWhere(cond)
	if err != nil {
		return nil, err
	}
	var w sqlBuf
	if len(cols) == 0 {
		// Nothing to set: the matching rows, unchanged (as PostgREST).
		w.w("select t0.* from ", m.b.qualified(m.t.Name), " t0", where)
		return m.finish(w.String(), false)
	}
	w.w("update ", m.b.qualified(m.t.Name), " as t0 set ")
	for i, c := range cols {
		if i > 0 {
			w.w(", ")
		}
		w.w(quote(c.Name), " = _b.", quote(c.Name))
	}
	w.w(" from json_populate_record(null::", m.b.qualified(m.t.Name), ", ", m.b.arg(string(p.raw[1:len(p.raw)-1])), "::json) _b")
	w.w(where, m.returning(false))
	return m.finish(w.String(), false)
}

// Delete builds DELETE /{table}?filters.
func Delete(s *schema.Schema, table string, req *Request) (*Statement, error) {
	m, err := newMutation(s, table, req)
	if err != nil {
		return nil, err
	}
	cond, err := m.b.access(m.t.Name, "delete")
	if err != nil {
		return nil, err
	}
	where, err := m.limitedWhere(cond)
	if err != nil {
		return nil, err
	}
	return m.finish("delete from "+m.b.qualified(m.t.Name)+" as t0"+where+m.returning(false), false)
}

// limitedWhere renders the WHERE of an update or delete: the filters and
// the access condition, and with limit= (and order=) the chosen rows only.
func (m *mutation) limitedWhere(cond query.Expr) (string, error) {
	q := m.b.req.Query
	where, err := m.filters(cond)
	if err != nil {
		return "", err
	}
	rng := q.RangeFor(nil)
	if rng.IsAll() {
		if where == "" {
			return "", nil
		}
		return " where " + where, nil
	}
	order, err := m.b.orderBy(m.plain, q.OrderFor(nil))
	if err != nil {
		return "", err
	}
	inner := "select t0.ctid from " + m.b.qualified(m.t.Name) + " t0"
	if where != "" {
		inner += " where " + where
	}
	inner += order + limitClause(rng, 0)
	return " where t0.ctid = any(array(" + inner + "))", nil
}

// Put builds PUT /{table}?pk=eq.x: insert or replace the one row the
// filters name, which must be exactly the primary key with eq.
func Put(s *schema.Schema, table string, req *Request, body []byte) (*Statement, error) {
	m, err := newMutation(s, table, req)
	if err != nil {
		return nil, err
	}
	q := req.Query
	if !q.RangeFor(nil).IsAll() {
		return nil, errBadRequest("PGRST114", "limit/offset querystring parameters are not allowed for PUT")
	}
	pkVals, err := putKey(m.t, q)
	if err != nil {
		return nil, err
	}
	p, err := parsePayload(body, q.Columns)
	if err != nil {
		return nil, err
	}
	if len(p.rows) != 1 {
		return nil, errInvalidBody("a PUT body must be a single JSON object")
	}
	cols, err := writeColumns(m.t, p, q.Columns)
	if err != nil {
		return nil, err
	}
	insCond, err := m.b.access(m.t.Name, "insert")
	if err != nil {
		return nil, err
	}
	updCond, err := m.b.access(m.t.Name, "update")
	if err != nil {
		return nil, err
	}
	m.rowChecks = append(m.rowChecks, insCond, updCond)

	// The body's key must be the URL's (PGRST115), compared as the column's
	// type; raising rolls the request back.
	var mismatch []string
	for i, c := range m.t.PrimaryKey {
		mismatch = append(mismatch, "_b."+quote(c)+" is distinct from "+m.b.arg(pkVals[i]))
	}
	check := " where case when " + strings.Join(mismatch, " or ") + " then " +
		m.b.pgrstRaise(http.StatusBadRequest, "PGRST115", "Payload values do not match URL in primary key column(s)", "", "") +
		" else true end"
	var w sqlBuf
	w.w("insert into ", m.b.qualified(m.t.Name), " as t0 ", m.insertSelect(p, cols, check))
	oc, err := m.onConflictUpdate(m.t.PrimaryKey, cols, updCond)
	if err != nil {
		return nil, err
	}
	w.w(oc, m.returning(false))
	return m.finish(w.String(), false)
}

// putKey checks PUT's filters: exactly one eq filter per primary key
// column and nothing else (PGRST105). It returns the values in key order.
func putKey(t *schema.Table, q *query.Query) ([]string, error) {
	bad := errBadRequest("PGRST105", "Filters must include all and only primary key columns with 'eq' operators")
	if len(t.PrimaryKey) == 0 {
		return nil, bad.WithDetails("table '" + t.Name + "' has no primary key")
	}
	vals := make([]string, len(t.PrimaryKey))
	got := make([]bool, len(t.PrimaryKey))
	seen := 0
	for _, w := range q.Where {
		f := w.Expr.Filter
		if len(w.Path) > 0 {
			continue // filters on embeds only shape the representation
		}
		if f == nil || f.Not || f.Op != query.OpEq || f.Quant != query.QuantNone || len(f.Field.JSON) > 0 {
			return nil, bad
		}
		i := slices.Index(t.PrimaryKey, f.Field.Name)
		if i < 0 || got[i] {
			return nil, bad
		}
		vals[i], got[i] = f.Value, true
		seen++
	}
	if seen != len(t.PrimaryKey) {
		return nil, bad
	}
	return vals, nil
}
