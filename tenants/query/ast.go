package query

import "strings"

// Query is the parsed query string of one data-API request. Every list keeps
// the order in which the client wrote things, because PostgREST semantics
// (first select wins, last limit wins, order terms in sequence) depend on it.
type Query struct {
	// Select is the tree of the select parameter. When the parameter is absent
	// it holds a single star, as PostgREST defaults to select=*; select= (empty)
	// gives an empty, non-nil slice.
	Select []SelectItem
	// Where holds every horizontal filter and every and=/or= tree, each scoped
	// to an embed path. All entries with the same path are ANDed.
	Where []Where
	// Order holds at most one entry per path (a later order= for the same path
	// replaces an earlier one).
	Order []Order
	// Pages holds limit/offset per path, at most one entry per path.
	Pages []Page
	// Columns is the columns= parameter (nil when absent).
	Columns []string
	// OnConflict is the on_conflict= parameter (nil when absent).
	OnConflict []string
	// Shape is the query string without its filters' values (every value
	// a Filter.Slot numbers): two query strings of the same shape parse to
	// the same tree but for those values, so whatever is built from the
	// tree and bound values alone can be reused across them.
	Shape string
	// Slots are the filters numbered by Slot, in order (Slots[0] has Slot 1).
	Slots []*Filter
}

// Path names an embedded resource by the names or aliases used in select,
// outermost first (e.g. ["books", "reviews"] for books.reviews.limit=2).
// The empty path is the top-level resource.
type Path []string

// Equal reports whether two paths name the same embed.
func (p Path) Equal(o Path) bool {
	if len(p) != len(o) {
		return false
	}
	for i := range p {
		if p[i] != o[i] {
			return false
		}
	}
	return true
}

// String joins the path with dots, as it appears in a query-string key.
func (p Path) String() string { return strings.Join(p, ".") }

// SelectKind tells which of SelectItem's fields are meaningful.
type SelectKind uint8

const (
	SelectStar   SelectKind = iota + 1 // *
	SelectColumn                       // [alias:]field[::cast]
	SelectEmbed                        // [alias:]rel[!hint][!inner|!left](...) or ...rel(...)
)

// SelectItem is one entry of a select list.
type SelectItem struct {
	Kind  SelectKind
	Alias string // output name; "" means the column or relation name
	Field Field  // SelectColumn only
	Cast  string // SelectColumn only: the type after ::, "" for none
	Embed *Embed // SelectEmbed only
}

// JoinType is the join requested with !inner or !left.
type JoinType uint8

const (
	JoinDefault JoinType = iota // no modifier: left join semantics
	JoinInner                   // !inner: parent rows without a match are dropped
	JoinLeft                    // !left: explicit left join
)

// Embed is an embedded resource: a related table or view reached through a
// foreign key, named by table, column or constraint (Name), optionally
// disambiguated by Hint.
type Embed struct {
	Name   string
	Hint   string
	Join   JoinType
	Spread bool // ...rel(...): columns are lifted into the parent object
	Select []SelectItem
}

// Field is a column, optionally followed by a JSON path (data->a->>b).
type Field struct {
	Name string
	JSON []JSONStep
}

// JSONStep is one -> or ->> step of a JSON path.
type JSONStep struct {
	Key    string // object key, or the array index digits (with sign) when Index
	Index  bool   // the step is an array index (->0, ->-1), not a key
	AsText bool   // ->> (text result) rather than -> (json result)
}

// Where scopes a boolean expression to an embed path.
type Where struct {
	Path Path
	Expr Expr
}

// LogicOp combines the children of an Expr group.
type LogicOp uint8

const (
	And LogicOp = iota + 1
	Or
)

func (o LogicOp) String() string {
	switch o {
	case And:
		return "and"
	case Or:
		return "or"
	}
	return ""
}

// Expr is a boolean expression: a leaf filter when Filter is non-nil, else an
// and/or group of Children. An And group without children is TRUE (an empty
// access-rule condition); the request grammar never produces an empty group
// otherwise.
type Expr struct {
	Filter   *Filter
	Op       LogicOp
	Not      bool // not.and(...) / not.or(...); a leaf's negation is Filter.Not
	Children []Expr
}

// IsEmpty reports whether e is the always-true empty expression.
func (e Expr) IsEmpty() bool { return e.Filter == nil && len(e.Children) == 0 && !e.Not }

// Operator is a filter operator as written in the URL.
type Operator string

const (
	OpEq         Operator = "eq"
	OpNeq        Operator = "neq"
	OpGt         Operator = "gt"
	OpGte        Operator = "gte"
	OpLt         Operator = "lt"
	OpLte        Operator = "lte"
	OpLike       Operator = "like"
	OpILike      Operator = "ilike"
	OpMatch      Operator = "match"
	OpIMatch     Operator = "imatch"
	OpIn         Operator = "in"
	OpIs         Operator = "is"
	OpIsDistinct Operator = "isdistinct"
	OpFts        Operator = "fts"
	OpPlFts      Operator = "plfts"
	OpPhFts      Operator = "phfts"
	OpWFts       Operator = "wfts"
	OpCs         Operator = "cs"
	OpCd         Operator = "cd"
	OpOv         Operator = "ov"
	OpSl         Operator = "sl"
	OpSr         Operator = "sr"
	OpNxl        Operator = "nxl"
	OpNxr        Operator = "nxr"
	OpAdj        Operator = "adj"
)

// Quantifiable reports whether op accepts the (any)/(all) modifiers.
func (op Operator) Quantifiable() bool {
	switch op {
	case OpEq, OpGt, OpGte, OpLt, OpLte, OpLike, OpILike, OpMatch, OpIMatch:
		return true
	}
	return false
}

// FullText reports whether op is one of the full-text search operators, which
// take an optional language: fts(english).
func (op Operator) FullText() bool {
	switch op {
	case OpFts, OpPlFts, OpPhFts, OpWFts:
		return true
	}
	return false
}

// Quantifier is the (any)/(all) modifier of a quantifiable operator.
type Quantifier uint8

const (
	QuantNone Quantifier = iota
	QuantAny             // col op ANY(array)
	QuantAll             // col op ALL(array)
)

// Values of the is operator, canonical lower case.
const (
	IsNull    = "null"
	IsNotNull = "not_null"
	IsTrue    = "true"
	IsFalse   = "false"
	IsUnknown = "unknown"
)

// Filter is one comparison: col=not.op(mod).value.
//
// Values stay strings: Postgres casts the bound parameter to the column's type.
// For like/ilike the value is as written; translating * to % is sqlgen's job.
// With (any)/(all) Value is a Postgres array literal such as {a*,b*}.
type Filter struct {
	Field Field
	Not   bool
	Op    Operator
	Quant Quantifier
	Lang  string   // full-text operators only: the regconfig, "" for default
	Value string   // every operator but in; for is one of the Is* constants
	List  []string // in only: the elements, unquoted; in.() gives an empty list
	// Slot numbers the filter's value within its query string (1, 2, ...,
	// in order; see Query.Shape), 0 for a filter that binds no value (is)
	// or does not come from a query string (an access-rule condition).
	Slot int
}

// Direction is an order direction.
type Direction uint8

const (
	DirDefault Direction = iota
	Asc
	Desc
)

// Nulls is the placement of NULLs in an order term.
type Nulls uint8

const (
	NullsDefault Nulls = iota
	NullsFirst
	NullsLast
)

// Order is the order= parameter for one embed path.
type Order struct {
	Path  Path
	Terms []OrderTerm
}

// OrderTerm is one sort key. Relation is non-empty for rel(col).desc, which
// orders by a column of a to-one embedded resource.
type OrderTerm struct {
	Relation string
	Field    Field
	Dir      Direction
	Nulls    Nulls
}

// NoLimit is Range.Limit for an unbounded range.
const NoLimit int64 = -1

// Range is a window of rows: Limit rows starting at Offset (NoLimit for all).
type Range struct {
	Offset int64
	Limit  int64
}

// IsAll reports whether r is the whole result (no offset, no limit).
func (r Range) IsAll() bool { return r.Offset == 0 && r.Limit == NoLimit }

// Page is the limit/offset of one embed path.
type Page struct {
	Path Path
	Range
}

// WhereFor returns the expressions scoped to path, to be ANDed.
func (q *Query) WhereFor(path Path) []Expr {
	var out []Expr
	for _, w := range q.Where {
		if w.Path.Equal(path) {
			out = append(out, w.Expr)
		}
	}
	return out
}

// OrderFor returns the order terms for path (nil when none).
func (q *Query) OrderFor(path Path) []OrderTerm {
	for _, o := range q.Order {
		if o.Path.Equal(path) {
			return o.Terms
		}
	}
	return nil
}

// RangeFor returns the limit/offset for path (the whole result when none).
func (q *Query) RangeFor(path Path) Range {
	for _, p := range q.Pages {
		if p.Path.Equal(path) {
			return p.Range
		}
	}
	return Range{Limit: NoLimit}
}
