package sqlgen

import (
	"strconv"
	"strings"

	"github.com/plinth-dev/plinth/tenants/query"
)

// rendered is a node's query in pieces, so the top level can reuse its
// FROM and WHERE for counts.
type rendered struct {
	list  string
	from  string // source with alias (and junction join)
	joins string // every lateral join
	// filterJoins are the laterals the WHERE refers to (what a count needs).
	filterJoins string
	where       string // " where ..." or ""
	order       string // " order by ..." or ""
	limit       string // " limit n offset m" or ""
}

func (r *rendered) query() string {
	return "select " + r.list + " from " + r.from + r.joins + r.where + r.order + r.limit
}

// countSource is the FROM and WHERE of the rows a count counts.
func (r *rendered) countSource() string { return r.from + r.filterJoins + r.where }

// render renders node n read from source (a FROM item with n's alias),
// with extra WHERE conditions (join conditions of an embed), the window rng
// and the cap maxRows (0: none).
func (b *builder) render(n *node, source string, conds []string, rng query.Range, maxRows int64) (*rendered, error) {
	r := &rendered{from: source}
	q := b.req.Query

	where := append([]string(nil), conds...)
	if !n.written {
		filters, err := b.conjunction(n, q.WhereFor(n.path))
		if err != nil {
			return nil, err
		}
		if filters != "" {
			where = append(where, filters)
		}
	}
	if !n.cond.IsEmpty() {
		c, err := b.conjunction(n, []query.Expr{n.cond})
		if err != nil {
			return nil, err
		}
		where = append(where, c)
	}
	for _, e := range n.embeds {
		if e.inner() {
			e.filtering = true
			where = append(where, e.lat+".j is not null")
		}
	}
	if len(where) > 0 {
		r.where = " where " + strings.Join(where, " and ")
	}

	r.list = b.selectList(n)

	var joins, filterJoins sqlBuf
	for _, e := range n.embeds {
		if e.hidden && !e.filtering {
			continue // rel() that neither shows nor filters anything
		}
		j, err := b.lateral(e)
		if err != nil {
			return nil, err
		}
		joins.w(j)
		if e.filtering {
			filterJoins.w(j)
		}
	}
	r.joins, r.filterJoins = joins.String(), filterJoins.String()

	if !n.written {
		var err error
		if r.order, err = b.orderBy(n, q.OrderFor(n.path)); err != nil {
			return nil, err
		}
	}
	r.limit = limitClause(rng, maxRows)
	return r, nil
}

func limitClause(rng query.Range, maxRows int64) string {
	limit := rng.Limit
	if maxRows > 0 && (limit == query.NoLimit || limit > maxRows) {
		limit = maxRows
	}
	var s string
	if limit != query.NoLimit {
		s = " limit " + strconv.FormatInt(limit, 10)
	}
	if rng.Offset > 0 {
		s += " offset " + strconv.FormatInt(rng.Offset, 10)
	}
	return s
}

func (b *builder) selectList(n *node) string {
	var w sqlBuf
	for i, o := range n.outs {
		if i > 0 {
			w.w(", ")
		}
		switch o.kind {
		case outStar:
			if n.scalar {
				w.w(n.alias, ".pgrst_scalar")
			} else {
				w.w(n.alias, ".*")
			}
		case outColumn:
			w.w(o.expr, " as ", quote(o.key))
		case outEmbed:
			e := o.embed
			switch {
			case e.spread:
				for j, k := range e.outputKeys() {
					if j > 0 {
						w.w(", ")
					}
					w.w(e.lat, ".j->", lit(k), " as ", quote(k))
				}
			case e.rel.toOne():
				w.w(e.lat, ".j as ", quote(o.key))
			default:
				w.w("coalesce(", e.lat, ".j, '[]') as ", quote(o.key))
			}
		}
	}
	return w.String()
}

// joinConds renders left[i] = right[i] for column lists of two aliases.
func joinConds(la string, lcols []string, ra string, rcols []string) []string {
	out := make([]string, 0, len(lcols))
	for i := range lcols {
		out = append(out, la+"."+quote(lcols[i])+" = "+ra+"."+quote(rcols[i]))
	}
	return out
}

// relSource is the FROM item and join conditions that reach e's rows from
// its parent's row.
func (b *builder) relSource(e *embed, alias string) (string, []string, error) {
	rel := e.rel
	if rel.card != manyToMany {
		return b.qualified(rel.to.Name) + " " + alias, joinConds(alias, rel.toCols, e.parent.alias, rel.fromCols), nil
	}
	j := b.alias("j")
	src := b.qualified(rel.to.Name) + " " + alias + " join " + b.qualified(rel.junction.Name) + " " + j +
		" on " + strings.Join(joinConds(j, rel.fk2.Columns, alias, rel.fk2.RefColumns), " and ")
	conds := joinConds(j, rel.fk.Columns, e.parent.alias, rel.fk.RefColumns)
	if !e.junctionCond.IsEmpty() {
		c, err := b.conjunction(&node{table: rel.junction, alias: j}, []query.Expr{e.junctionCond})
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, c)
	}
	return src, conds, nil
}

// lateral renders the LEFT JOIN LATERAL computing e's JSON in column j: an
// object (or NULL) for to-one, an array (NULL when empty) for to-many.
func (b *builder) lateral(e *embed) (string, error) {
	src, conds, err := b.relSource(e, e.alias)
	if err != nil {
		return "", err
	}
	r, err := b.render(e.node, src, conds, b.req.Query.RangeFor(e.path), 0)
	if err != nil {
		return "", err
	}
	row := e.lat + "_r"
	agg := "json_agg(" + row + ")"
	if e.rel.toOne() {
		agg = "row_to_json(" + row + ")"
	}
	return " left join lateral (select " + agg + " as j from (" + r.query() + ") " + row + ") " + e.lat + " on true", nil
}

func (b *builder) orderBy(n *node, terms []query.OrderTerm) (string, error) {
	if len(terms) == 0 {
		return "", nil
	}
	var w sqlBuf
	w.w(" order by ")
	for i, t := range terms {
		if i > 0 {
			w.w(", ")
		}
		if t.Relation == "" {
			expr, _, err := b.field(n, t.Field)
			if err != nil {
				return "", err
			}
			w.w(expr)
		} else {
			expr, err := b.relatedOrder(n, t)
			if err != nil {
				return "", err
			}
			w.w(expr)
		}
		switch t.Dir {
		case query.Asc:
			w.w(" asc")
		case query.Desc:
			w.w(" desc")
		}
		switch t.Nulls {
		case query.NullsFirst:
			w.w(" nulls first")
		case query.NullsLast:
			w.w(" nulls last")
		}
	}
	return w.String(), nil
}

// relatedOrder renders order=rel(col): the column of the to-one embedded
// row, read by a correlated subquery (limited by the caller's access
// condition on that table, like the embed itself).
func (b *builder) relatedOrder(n *node, t query.OrderTerm) (string, error) {
	e := n.embedByKey(t.Relation)
	if e == nil {
		return "", errNotEmbedded(t.Relation)
	}
	if !e.rel.toOne() {
		return "", errNotToOne(n.table.Name, t.Relation)
	}
	o := &node{table: e.table, alias: b.alias("o")}
	expr, _, err := b.field(o, t.Field)
	if err != nil {
		return "", err
	}
	src, conds, err := b.relSource(e, o.alias)
	if err != nil {
		return "", err
	}
	if !e.cond.IsEmpty() {
		c, err := b.conjunction(o, []query.Expr{e.cond})
		if err != nil {
			return "", err
		}
		conds = append(conds, c)
	}
	return "(select " + expr + " from " + src + " where " + strings.Join(conds, " and ") + ")", nil
}
