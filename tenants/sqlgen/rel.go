package sqlgen

import (
	"slices"
	"strings"

	"github.com/plinth-dev/plinth/tenants/schema"
)

// cardinality is the shape of a relationship seen from its origin.
type cardinality uint8

const (
	manyToOne cardinality = iota + 1
	oneToMany
	oneToOne
	manyToMany
)

func (c cardinality) String() string {
	switch c {
	case manyToOne:
		return "many-to-one"
	case oneToMany:
		return "one-to-many"
	case oneToOne:
		return "one-to-one"
	case manyToMany:
		return "many-to-many"
	}
	return ""
}

// relation is a foreign-key path from one table to another, as PostgREST
// derives them: a foreign key gives a many-to-one relationship from its
// table and a one-to-many one back (one-to-one when the key's columns are
// unique); a junction table whose primary key covers foreign keys to two
// tables gives a many-to-many relationship between them.
type relation struct {
	card     cardinality
	from, to *schema.Table
	fk       *schema.ForeignKey // direct: the key; many-to-many: junction -> from
	// direct relations join to.toCols[i] = from.fromCols[i].
	fromCols, toCols []string
	// many-to-many only.
	junction *schema.Table
	fk2      *schema.ForeignKey // junction -> to
}

// toOne reports whether the embedded side is at most one row.
func (r *relation) toOne() bool { return r.card == manyToOne || r.card == oneToOne }

// describe renders the relationship as PostgREST's PGRST201 details do.
func (r *relation) describe() string {
	els := func(cols []string) string { return "(" + strings.Join(cols, ", ") + ")" }
	if r.card == manyToMany {
		return r.junction.Name + " using " + r.fk.Name + els(r.fk.Columns) + " and " + r.fk2.Name + els(r.fk2.Columns)
	}
	return r.fk.Name + " using " + r.from.Name + els(r.fromCols) + " and " + r.to.Name + els(r.toCols)
}

// hintName is what the client writes after '!' to pick this relationship.
func (r *relation) hintName() string {
	if r.card == manyToMany {
		return r.junction.Name
	}
	return r.fk.Name
}

// unique reports whether cols (in any order) are the primary key or the
// columns of a unique, non-partial index of t.
func unique(t *schema.Table, cols []string) bool {
	same := func(a []string) bool {
		if len(a) != len(cols) {
			return false
		}
		for _, c := range cols {
			if !slices.Contains(a, c) {
				return false
			}
		}
		return true
	}
	if len(t.PrimaryKey) > 0 && same(t.PrimaryKey) {
		return true
	}
	for _, ix := range t.Indexes {
		if ix.Unique && !strings.Contains(ix.Definition, " WHERE ") && same(ix.Columns) {
			return true
		}
	}
	return false
}

// relationsFrom lists every relationship whose origin is t (in no
// particular order: findRelation sorts what it reports).
func relationsFrom(s *schema.Schema, t *schema.Table) []*relation {
	var out []*relation
	for _, fk := range t.ForeignKeys {
		to, ok := s.Table(fk.RefTable)
		if !ok {
			continue
		}
		card := manyToOne
		if unique(t, fk.Columns) {
			card = oneToOne
		}
		out = append(out, &relation{card: card, from: t, to: to, fk: fk, fromCols: fk.Columns, toCols: fk.RefColumns})
	}
	for _, other := range s.Tables {
		for _, fk := range other.ForeignKeys {
			if fk.RefTable != t.Name {
				continue
			}
			card := oneToMany
			if unique(other, fk.Columns) {
				card = oneToOne
			}
			out = append(out, &relation{card: card, from: t, to: other, fk: fk, fromCols: fk.RefColumns, toCols: fk.Columns})
		}
	}
	for _, j := range s.Tables {
		for _, fk1 := range j.ForeignKeys {
			if fk1.RefTable != t.Name {
				continue
			}
			for _, fk2 := range j.ForeignKeys {
				if fk2 == fk1 {
					continue
				}
				to, ok := s.Table(fk2.RefTable)
				if !ok || !subset(append(slices.Clone(fk1.Columns), fk2.Columns...), j.PrimaryKey) {
					continue
				}
				out = append(out, &relation{card: manyToMany, from: t, to: to, fk: fk1, junction: j, fk2: fk2})
			}
		}
	}
	return out
}

func subset(a, of []string) bool {
	for _, x := range a {
		if !slices.Contains(of, x) {
			return false
		}
	}
	return len(a) > 0
}

// findRelation resolves an embed written target[!hint] on origin like
// PostgREST 12: target names a related table (then hint may name the
// foreign key, one of its columns, or the junction table), or the foreign
// key constraint, or a single foreign-key column of origin.
func findRelation(s *schema.Schema, origin *schema.Table, target, hint string) (*relation, error) {
	var found []*relation
	for _, r := range relationsFrom(s, origin) {
		if r.matches(target, hint) {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return nil, errNoRelationship(origin.Name, target, hint)
	case 1:
		return found[0], nil
	}
	slices.SortFunc(found, func(a, b *relation) int { return strings.Compare(a.sortKey(), b.sortKey()) })
	return nil, errAmbiguous(origin.Name, target, found)
}

func (r *relation) matches(target, hint string) bool {
	if target == r.to.Name {
		if hint == "" {
			return true
		}
		if r.card == manyToMany {
			return hint == r.junction.Name
		}
		return hint == r.fk.Name || r.singleCol(hint)
	}
	if r.card == manyToMany || hint != "" && hint != r.to.Name {
		return false
	}
	// /books?select=books_author_id_fkey(*) or /books?select=author_id(*):
	// only from the side that holds the key.
	holds := r.card == manyToOne || r.card == oneToOne && r.fk.Table == r.from.Name
	return holds && (target == r.fk.Name || len(r.fromCols) == 1 && r.fromCols[0] == target)
}

func (r *relation) sortKey() string {
	return r.to.Name + "\x00" + r.hintName() + "\x00" + r.fk.Name
}

// singleCol reports whether hint is the one column on either side of a
// single-column key.
func (r *relation) singleCol(hint string) bool {
	return len(r.fromCols) == 1 && (r.fromCols[0] == hint || r.toCols[0] == hint)
}
