package sqlgen

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/schema"
)

// node is one relation of a planned select tree: the top-level resource or
// an embedded one, with its SQL alias and what it outputs.
type node struct {
	table  *schema.Table
	alias  string
	path   query.Path
	outs   []output
	embeds []*embed
	// cond is the caller's access condition on this relation (empty: all).
	cond query.Expr
	// scalar marks an RPC result that is one value per row (column
	// pgrst_scalar) rather than a record.
	scalar bool
	// written marks the top level of a write's representation: its rows
	// were chosen by the write, so the request's top-level filters and
	// order do not apply again.
	written bool
}

type outputKind uint8

const (
	outStar outputKind = iota + 1
	outColumn
	outEmbed
)

// output is one entry of a node's select list.
type output struct {
	kind  outputKind
	expr  string // outColumn: SQL over the node's alias
	key   string // outColumn, outEmbed: the JSON key
	embed *embed // outEmbed
}

// embed is an embedded resource: a child node reached through rel, computed
// in a LEFT JOIN LATERAL named lat whose column j holds its JSON.
type embed struct {
	*node
	parent *node
	rel    *relation
	key    string // output key (alias, else the name as written)
	join   query.JoinType
	spread bool
	hidden bool // rel() with an empty select: only used to filter
	lat    string
	// filtering is set when the parent's WHERE refers to the lateral (an
	// inner join or a null filter), so counts must join it too.
	filtering bool
	// junctionCond is the access condition on a many-to-many junction.
	junctionCond query.Expr
}

func (e *embed) inner() bool { return e.join == query.JoinInner }

// planRoot plans the request's select list over t (already resolved), with
// the access condition for action on it.
func (b *builder) planRoot(t *schema.Table, alias string, items []query.SelectItem, cond query.Expr) (*node, error) {
	n := &node{table: t, alias: alias, cond: cond}
	if err := b.planItems(n, items); err != nil {
		return nil, err
	}
	if err := b.checkPaths(n); err != nil {
		return nil, err
	}
	return n, nil
}

// access asks the Access hook (nil allows everything).
func (b *builder) access(object, action string) (query.Expr, error) {
	if b.req.Access == nil {
		b.rec.accessed(object, action, query.Expr{})
		return query.Expr{}, nil
	}
	e, err := b.req.Access(object, action)
	if err == nil {
		b.rec.accessed(object, action, e)
	}
	return e, err
}

// castPattern admits type names as written in casts (int4, text[],
// double precision, character varying): nothing that could end the cast.
var castPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_ ]{0,62}(\[\])?$`)

func (b *builder) planItems(n *node, items []query.SelectItem) error {
	for _, it := range items {
		switch it.Kind {
		case query.SelectStar:
			n.outs = append(n.outs, output{kind: outStar})
		case query.SelectColumn:
			expr, key, err := b.field(n, it.Field)
			if err != nil {
				return err
			}
			if it.Cast != "" {
				if !castPattern.MatchString(it.Cast) {
					return errBadRequest("PGRST100", "failed to parse select parameter: invalid cast type %q", it.Cast)
				}
				expr = "(" + expr + ")::" + it.Cast
			}
			if it.Alias != "" {
				key = it.Alias
			}
			n.outs = append(n.outs, output{kind: outColumn, expr: expr, key: key})
		case query.SelectEmbed:
			e, err := b.planEmbed(n, it)
			if err != nil {
				return err
			}
			n.embeds = append(n.embeds, e)
			if !e.hidden {
				n.outs = append(n.outs, output{kind: outEmbed, key: e.key, embed: e})
			}
		}
	}
	return nil
}

func (b *builder) planEmbed(parent *node, it query.SelectItem) (*embed, error) {
	em := it.Embed
	if parent.scalar {
		return nil, errNoRelationship(parent.table.Name, em.Name, em.Hint)
	}
	rel, err := findRelation(b.s, parent.table, em.Name, em.Hint)
	if err != nil {
		return nil, err
	}
	if em.Spread && !rel.toOne() {
		return nil, errBadRequest("PGRST119", "A spread operation on '%s' is not possible", em.Name).
			WithDetails("'" + parent.table.Name + "' and '" + em.Name + "' do not form a many-to-one or one-to-one relationship")
	}
	cond, err := b.access(rel.to.Name, "select")
	if err != nil {
		return nil, err
	}
	key := em.Name
	if it.Alias != "" {
		key = it.Alias
	}
	e := &embed{
		node:   &node{table: rel.to, alias: b.alias("t"), path: append(slices.Clone(parent.path), key), cond: cond},
		parent: parent, rel: rel, key: key, join: em.Join, spread: em.Spread,
		hidden: len(em.Select) == 0, lat: b.alias("e"),
	}
	if rel.card == manyToMany {
		// The junction's rows reveal who relates to whom: reading through
		// it needs select on it too, limited by its condition.
		if e.junctionCond, err = b.access(rel.junction.Name, "select"); err != nil {
			return nil, err
		}
	}
	if err := b.planItems(e.node, em.Select); err != nil {
		return nil, err
	}
	return e, nil
}

// field renders a column (with its JSON path) of n and the key PostgREST
// gives it in the output: the last JSON key, else the column name.
func (b *builder) field(n *node, f query.Field) (string, string, error) {
	if n.scalar {
		return "", "", errColumnNotFound(n.table.Name, f.Name)
	}
	expr := n.alias + "." + quote(f.Name)
	if _, ok := n.table.Column(f.Name); !ok {
		fn, ok := b.s.Computed(n.table.Name, f.Name)
		if !ok {
			return "", "", errColumnNotFound(n.table.Name, f.Name)
		}
		// A computed field calls its function, which the caller must be
		// allowed to execute like any other, on the row (cast, as written
		// rows come from a CTE of anonymous records).
		if _, err := b.access("rpc:"+fn.Name, "execute"); err != nil {
			return "", "", err
		}
		expr = b.qualified(fn.Name) + "(" + n.alias + "::" + b.qualified(n.table.Name) + ")"
	}
	key := f.Name
	for _, st := range f.JSON {
		op := "->"
		if st.AsText {
			op = "->>"
		}
		if st.Index {
			if _, err := strconv.Atoi(st.Key); err != nil {
				return "", "", errBadRequest("PGRST100", "invalid JSON array index %q", st.Key)
			}
			expr += op + st.Key
		} else {
			expr += op + lit(st.Key)
		}
		key = st.Key
	}
	return expr, key, nil
}

// findNode returns the node a query path addresses (matched against the
// embeds' keys).
func (n *node) findNode(path query.Path) *node {
	cur := n
	for _, name := range path {
		var next *node
		for _, e := range cur.embeds {
			if e.key == name {
				next = e.node
				break
			}
		}
		if next == nil {
			return nil
		}
		cur = next
	}
	return cur
}

// checkPaths rejects filters, orders and limits on paths that name no
// embedded resource of the request (PGRST108).
func (b *builder) checkPaths(root *node) error {
	q := b.req.Query
	check := func(p query.Path) error {
		if len(p) > 0 && root.findNode(p) == nil {
			return errNotEmbedded(p.String())
		}
		return nil
	}
	for _, w := range q.Where {
		if err := check(w.Path); err != nil {
			return err
		}
	}
	for _, o := range q.Order {
		if err := check(o.Path); err != nil {
			return err
		}
	}
	for _, p := range q.Pages {
		if err := check(p.Path); err != nil {
			return err
		}
	}
	return nil
}

// embedByKey finds a direct embed of n by its key.
func (n *node) embedByKey(key string) *embed {
	for _, e := range n.embeds {
		if e.key == key {
			return e
		}
	}
	return nil
}

// outputKeys lists the keys n's rows have, in order (spread embeds lift
// their keys into n).
func (n *node) outputKeys() []string {
	var keys []string
	for _, o := range n.outs {
		switch {
		case o.kind == outStar:
			for _, c := range n.table.Columns {
				keys = append(keys, c.Name)
			}
		case o.kind == outEmbed && o.embed.spread:
			keys = append(keys, o.embed.outputKeys()...)
		default:
			keys = append(keys, o.key)
		}
	}
	return keys
}

// errNotToOne is PGRST118: ordering by a relation that is not to-one.
func errNotToOne(parent, name string) error {
	return apierror.Newf(http.StatusBadRequest, "PGRST118", "A related order on '%s' is not possible", name).
		WithDetails("'" + parent + "' and '" + name + "' do not form a many-to-one or one-to-one relationship")
}
