package sqlgen

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/plinth-dev/plinth/tenants/query"
)

// shape is how the rows of the final select become the body.
type shape uint8

const (
	shapeArray   shape = iota // JSON array of objects
	shapeObject               // one JSON object (singular, or a function returning one row type)
	shapeScalar               // one JSON value (a function returning a scalar)
	shapeScalars              // JSON array of values (a function returning setof a scalar)
	shapeCSV
	shapeNone // no body
)

// check is a condition that, when true, fails the statement with raise.
type check struct{ when, raise string }

// final wraps a rendered row query (alias _r in the outer select) into the
// statement's one result row: body, count, total, location.
type final struct {
	with     string // "with ... " prefix, or ""
	rows     string // the row query
	shape    shape
	keys     []string // CSV header
	total    string   // SQL for ColTotal ("" = NULL)
	location string   // SQL for ColLocation ("" = NULL)
	checks   []check
}

// countOnly says the statement's row would hold nothing but the count of
// written rows: no body, total, Location or check.
func (f *final) countOnly() bool {
	return f.shape == shapeNone && f.total == "" && f.location == "" && len(f.checks) == 0
}

func (b *builder) finish(f *final) string {
	var w sqlBuf
	w.Grow(len(f.with) + len(f.rows) + len(f.total) + len(f.location) + 128)
	w.w(f.with, "select ")
	body := b.bodyExpr(f)
	if len(f.checks) > 0 {
		w.w("case")
		for _, c := range f.checks {
			w.w(" when ", c.when, " then ", c.raise, "::text")
		}
		w.w(" else ", body, " end")
	} else {
		w.w(body)
	}
	w.w(", count(*), ")
	if f.total == "" {
		w.w("null::bigint")
	} else {
		w.w(f.total)
	}
	w.w(", ")
	if f.location == "" {
		w.w("null::text")
	} else {
		w.w(f.location)
	}
	w.w(" from (", f.rows, ") _r")
	return w.String()
}

func (b *builder) bodyExpr(f *final) string {
	switch f.shape {
	case shapeNone:
		return "''"
	case shapeObject:
		return "coalesce((json_agg(_r)->0)::text, 'null')"
	case shapeScalar:
		return "coalesce((json_agg(_r.pgrst_scalar)->0)::text, 'null')"
	case shapeScalars:
		return "coalesce(json_agg(_r.pgrst_scalar), '[]')::text"
	case shapeCSV:
		// As PostgREST: a header line (none for no rows), then each row's
		// record text without its parentheses.
		return "case when count(*) = 0 then '' else " + b.arg(strings.Join(f.keys, ",")) + " end || chr(10) || " +
			"coalesce(string_agg(substring(_r::text, 2, length(_r::text) - 2), chr(10)), '')"
	}
	return "coalesce(json_agg(_r), '[]')::text"
}

// singularCheck fails with 406 PGRST116 unless exactly one row results.
func (b *builder) singularCheck() check {
	return check{
		when: "count(*) <> 1",
		raise: b.pgrstRaise(http.StatusNotAcceptable, "PGRST116", "JSON object requested, multiple (or no) rows returned",
			"'The result contains ' || count(*) || ' rows'", ""),
	}
}

// maxAffectedCheck enforces Prefer: max-affected with handling=strict.
func (b *builder) maxAffectedCheck() (check, bool) {
	p := b.req.Prefer
	if p.MaxAffected == nil || p.Handling != query.HandlingStrict {
		return check{}, false
	}
	n := strconv.FormatInt(*p.MaxAffected, 10)
	return check{
		when: "count(*) > " + n,
		raise: b.pgrstRaise(http.StatusBadRequest, "PGRST124", "Query result exceeds max-affected preference constraint",
			"'The query affects ' || count(*) || ' rows'", ""),
	}, true
}

// shapeFor is the body shape of a request returning rows of n.
func (b *builder) shapeFor(n *node) shape {
	switch {
	case b.req.NoBody:
		return shapeNone
	case b.req.csv():
		return shapeCSV
	case b.req.singular():
		if n.scalar {
			return shapeScalar
		}
		return shapeObject
	}
	return shapeArray
}

// countExpr renders ColTotal for Prefer: count on a read whose rows come
// from r (its FROM and WHERE).
func (b *builder) countExpr(root *node, r *rendered) (string, error) {
	switch b.req.Prefer.Count {
	case query.CountExact:
		return "(select count(*) from " + r.from + r.filterJoins + r.where + ")", nil
	case query.CountPlanned, query.CountEstimated:
	default:
		return "", nil
	}
	// The planner's estimate, from EXPLAIN of the same rows with values
	// inlined as literals (typed from context just as parameters are), which
	// a template cannot rebuild.
	b.rec.cannot()
	ib := &builder{s: b.s, req: b.req, inline: true, n: b.n}
	ir, err := ib.render(root, r.from, nil, query.Range{Limit: query.NoLimit}, 0)
	if err != nil {
		return "", err
	}
	planned := "plinth_api.plan_rows(" + b.arg("select 1 from "+ir.countSource()) + ")"
	if b.req.Prefer.Count == query.CountPlanned || b.req.MaxRows <= 0 {
		return planned, nil
	}
	// estimated: exact up to max_rows, the planner's guess beyond (as
	// PostgREST), counting at most max_rows+1 rows to decide.
	limit := strconv.FormatInt(b.req.MaxRows+1, 10)
	return "(select case when c.n <= " + strconv.FormatInt(b.req.MaxRows, 10) + " then c.n else " + planned +
		" end from (select count(*) as n from (select 1 from " + r.countSource() + " limit " + limit + ") _c) c)", nil
}
