// Package schema reads a project's catalog (tables, views, columns, keys,
// foreign keys, functions) into an immutable Schema value, and caches one per
// project until a NOTIFY says it changed.
package schema

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Schema is one project's API surface, read from pg_catalog.
type Schema struct {
	Name      string
	Tables    map[string]*Table
	Functions map[string][]*Function
}

// Table is a table, view, materialized view or foreign table.
type Table struct {
	Name        string
	Kind        string // "table", "view", "materialized_view", "foreign_table", "partitioned_table"
	Insertable  bool
	Columns     []*Column
	ColumnIndex map[string]*Column
	PrimaryKey  []string
	ForeignKeys []*ForeignKey
	Indexes     []*Index
	Comment     string
}

// Index is an index of a table (including those behind primary key and
// unique constraints). Columns omits expression parts; Definition is the
// full CREATE INDEX text.
type Index struct {
	Name       string
	Columns    []string
	Unique     bool
	Primary    bool
	Method     string // btree, gin, gist, hash, brin, ...
	Constraint string // the constraint the index enforces, "" for a plain index
	Definition string
}

// Column describes one column.
type Column struct {
	Name      string
	Position  int
	Type      string // format_type, e.g. "integer", "character varying(20)", "text[]"
	TypeName  string // base type name, e.g. "int4", "_text", an enum's name
	Category  string // pg_type.typcategory of the column type
	EnumVals  []string
	Nullable  bool
	Default   string
	Identity  bool
	Generated bool
	IsPK      bool
	Comment   string
}

// ForeignKey links columns of a table to another table in the same schema.
type ForeignKey struct {
	Name       string
	Table      string
	Columns    []string
	RefTable   string
	RefColumns []string
	OnDelete   string // "no action", "restrict", "cascade", "set null", "set default"
	OnUpdate   string
}

// Function is a callable function in the project schema.
type Function struct {
	Name       string
	Args       []Arg
	ReturnType string
	ReturnsSet bool
	Volatile   string // "i", "s" or "v"
	// ReturnTable is the table or view of this schema whose row type the
	// function returns ("" otherwise); Columns are the OUT/INOUT/TABLE
	// columns of a function returning record. The data API uses them to
	// select, filter and embed on RPC results.
	ReturnTable string
	Columns     []Arg
	Variadic    bool
}

// Arg is one function argument.
type Arg struct {
	Name       string
	Type       string
	HasDefault bool
}

// Table returns a table by name.
func (s *Schema) Table(name string) (*Table, bool) {
	t, ok := s.Tables[name]
	return t, ok
}

// Computed returns the function that serves as column name of table, as
// PostgREST's computed fields: a function of the schema whose one argument
// is the table's row type and which returns one value. A real column of
// that name wins.
func (s *Schema) Computed(table, name string) (*Function, bool) {
	for _, f := range s.Functions[name] {
		if len(f.Args) == 1 && !f.ReturnsSet && f.ReturnType != "void" && s.localType(f.Args[0].Type) == table {
			return f, true
		}
	}
	return nil, false
}

// localType is the name of a type of this schema from its format_type()
// spelling ("p_x.people", "\"p_x\".\"My Table\""), or "" for another schema's.
func (s *Schema) localType(t string) string {
	for _, prefix := range []string{s.Name + ".", `"` + s.Name + `".`} {
		if rest, ok := strings.CutPrefix(t, prefix); ok {
			if len(rest) >= 2 && rest[0] == '"' && rest[len(rest)-1] == '"' {
				rest = strings.ReplaceAll(rest[1:len(rest)-1], `""`, `"`)
			}
			return rest
		}
	}
	return ""
}

// TableNames returns the table names in order.
func (s *Schema) TableNames() []string {
	out := make([]string, 0, len(s.Tables))
	for n := range s.Tables {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Column returns a column by name.
func (t *Table) Column(name string) (*Column, bool) {
	c, ok := t.ColumnIndex[name]
	return c, ok
}

// Querier is what Load reads the catalog through (the control-plane pool:
// reading pg_catalog runs no tenant code).
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// schemaRelations and schemaFunctions are the oids of $1's relations and
// functions, found through pg_depend's index on the referenced object:
// pg_class and pg_proc have no index on their namespace, and with thousands
// of projects scanning them cost more than everything else a project's
// first request does.
const (
	schemaOid       = `(select oid from pg_namespace where nspname = $1)`
	schemaRelations = `(select d.objid from pg_depend d where d.refclassid = 'pg_namespace'::regclass and d.refobjid = ` + schemaOid +
		` and d.refobjsubid = 0 and d.classid = 'pg_class'::regclass)`
	schemaFunctions = `(select d.objid from pg_depend d where d.refclassid = 'pg_namespace'::regclass and d.refobjid = ` + schemaOid +
		` and d.refobjsubid = 0 and d.classid = 'pg_proc'::regclass)`
)

const tablesSQL = `
select c.relname,
       case c.relkind when 'r' then 'table' when 'p' then 'partitioned_table' when 'v' then 'view'
                      when 'm' then 'materialized_view' else 'foreign_table' end,
       c.relkind in ('r', 'p') or (c.relkind in ('v', 'f') and pg_relation_is_updatable(c.oid, false) & 8 = 8),
       coalesce(obj_description(c.oid, 'pg_class'), '')
from pg_class c
where c.oid in ` + schemaRelations + ` and c.relkind in ('r', 'p', 'v', 'm', 'f')`

const columnsSQL = `
select c.relname, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod),
       coalesce(bt.typname, t.typname), t.typcategory,
       coalesce((select array_agg(e.enumlabel order by e.enumsortorder) from pg_enum e where e.enumtypid = coalesce(et.oid, t.oid)), '{}'),
       not a.attnotnull, coalesce(pg_get_expr(d.adbin, d.adrelid), ''),
       a.attidentity <> '', a.attgenerated <> '',
       coalesce(col_description(c.oid, a.attnum), '')
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_type t on t.oid = a.atttypid
left join pg_type bt on t.typtype = 'd' and bt.oid = t.typbasetype
left join pg_type et on et.oid = t.typelem and t.typcategory = 'A' and et.typtype = 'e'
left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
where c.oid in ` + schemaRelations + ` and c.relkind in ('r', 'p', 'v', 'm', 'f') and a.attnum > 0 and not a.attisdropped
order by c.relname, a.attnum`

const constraintsSQL = `
select con.conname, con.contype, c.relname,
       array(select a.attname from unnest(con.conkey) with ordinality k(n, i) join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.i),
       coalesce(fc.relname, ''),
       array(select a.attname from unnest(coalesce(con.confkey, '{}')) with ordinality k(n, i) join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n order by k.i),
       con.confdeltype::text, con.confupdtype::text
from pg_constraint con
join pg_class c on c.oid = con.conrelid
left join pg_class fc on fc.oid = con.confrelid and fc.relnamespace = c.relnamespace
where con.conrelid in ` + schemaRelations + ` and con.contype in ('p', 'f')
order by con.conname`

const indexesSQL = `
select c.relname, i.relname, ix.indisunique, ix.indisprimary, am.amname,
       array(select a.attname from unnest(ix.indkey) with ordinality k(n, o) join pg_attribute a on a.attrelid = ix.indrelid and a.attnum = k.n order by k.o),
       coalesce(con.conname, ''), pg_get_indexdef(ix.indexrelid)
from pg_index ix
join pg_class i on i.oid = ix.indexrelid
join pg_class c on c.oid = ix.indrelid
join pg_am am on am.oid = i.relam
left join pg_constraint con on con.conindid = ix.indexrelid and con.conrelid = ix.indrelid and con.contype in ('p', 'u', 'x')
where ix.indrelid in ` + schemaRelations + `
order by c.relname, i.relname`

// fkActions spells pg_constraint's confdeltype/confupdtype letters.
var fkActions = map[string]string{"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}

const functionsSQL = `
select p.proname, coalesce(p.proargnames, '{}'), array(select format_type(t, null) from unnest(p.proargtypes) t),
       p.pronargdefaults, format_type(p.prorettype, null), p.proretset, p.provolatile,
       coalesce(p.proargmodes::text[], '{}'),
       array(select format_type(t, null) from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) t),
       coalesce(rc.relname, ''), p.prorettype = 'record'::regtype
from pg_proc p
left join pg_type rt on rt.oid = p.prorettype
left join pg_class rc on rc.oid = rt.typrelid and rc.relnamespace = p.pronamespace
where p.oid in ` + schemaFunctions + ` and p.prokind = 'f'
order by p.proname, p.oid`

// Load reads a schema's catalog.
func Load(ctx context.Context, q Querier, schemaName string) (*Schema, error) {
	s := &Schema{Name: schemaName, Tables: map[string]*Table{}, Functions: map[string][]*Function{}}
	if err := each(ctx, q, tablesSQL, schemaName, func(r pgx.Rows) error {
		t := &Table{ColumnIndex: map[string]*Column{}}
		if err := r.Scan(&t.Name, &t.Kind, &t.Insertable, &t.Comment); err != nil {
			return err
		}
		s.Tables[t.Name] = t
		return nil
	}); err != nil {
		return nil, fmt.Errorf("load tables of %s: %w", schemaName, err)
	}
	if err := each(ctx, q, columnsSQL, schemaName, func(r pgx.Rows) error {
		var table string
		c := &Column{}
		if err := r.Scan(&table, &c.Name, &c.Position, &c.Type, &c.TypeName, &c.Category, &c.EnumVals,
			&c.Nullable, &c.Default, &c.Identity, &c.Generated, &c.Comment); err != nil {
			return err
		}
		if t := s.Tables[table]; t != nil {
			t.Columns = append(t.Columns, c)
			t.ColumnIndex[c.Name] = c
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("load columns of %s: %w", schemaName, err)
	}
	if err := each(ctx, q, constraintsSQL, schemaName, func(r pgx.Rows) error {
		var name, typ, table, refTable, onDelete, onUpdate string
		var cols, refCols []string
		if err := r.Scan(&name, &typ, &table, &cols, &refTable, &refCols, &onDelete, &onUpdate); err != nil {
			return err
		}
		t := s.Tables[table]
		if t == nil {
			return nil
		}
		switch typ {
		case "p":
			t.PrimaryKey = cols
			for _, c := range cols {
				if col := t.ColumnIndex[c]; col != nil {
					col.IsPK = true
				}
			}
		case "f":
			if refTable != "" { // references outside the schema are not embeddable
				t.ForeignKeys = append(t.ForeignKeys, &ForeignKey{Name: name, Table: table, Columns: cols, RefTable: refTable, RefColumns: refCols,
					OnDelete: fkActions[onDelete], OnUpdate: fkActions[onUpdate]})
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("load constraints of %s: %w", schemaName, err)
	}
	if err := each(ctx, q, indexesSQL, schemaName, func(r pgx.Rows) error {
		var table string
		ix := &Index{}
		if err := r.Scan(&table, &ix.Name, &ix.Unique, &ix.Primary, &ix.Method, &ix.Columns, &ix.Constraint, &ix.Definition); err != nil {
			return err
		}
		if t := s.Tables[table]; t != nil {
			t.Indexes = append(t.Indexes, ix)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("load indexes of %s: %w", schemaName, err)
	}
	if err := each(ctx, q, functionsSQL, schemaName, func(r pgx.Rows) error {
		f := &Function{}
		var names, types, modes, allTypes []string
		var nDefaults int
		var returnsRecord bool
		if err := r.Scan(&f.Name, &names, &types, &nDefaults, &f.ReturnType, &f.ReturnsSet, &f.Volatile, &modes,
			&allTypes, &f.ReturnTable, &returnsRecord); err != nil {
			return err
		}
		for i, m := range modes {
			f.Variadic = f.Variadic || m == "v"
			if returnsRecord && (m == "o" || m == "b" || m == "t") && i < len(names) && i < len(allTypes) {
				f.Columns = append(f.Columns, Arg{Name: names[i], Type: allTypes[i]})
			}
		}
		// proargnames also lists OUT arguments; keep the IN ones that
		// proargtypes describes.
		inNames := names
		if len(modes) > 0 {
			inNames = nil
			for i, m := range modes {
				if (m == "i" || m == "b" || m == "v") && i < len(names) {
					inNames = append(inNames, names[i])
				}
			}
		}
		for i, typ := range types {
			a := Arg{Type: typ, HasDefault: i >= len(types)-nDefaults}
			if i < len(inNames) {
				a.Name = inNames[i]
			}
			f.Args = append(f.Args, a)
		}
		s.Functions[f.Name] = append(s.Functions[f.Name], f)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("load functions of %s: %w", schemaName, err)
	}
	return s, nil
}

func each(ctx context.Context, q Querier, sql, schemaName string, fn func(pgx.Rows) error) error {
	rows, err := q.Query(ctx, sql, schemaName)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
