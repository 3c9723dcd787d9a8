// Package query turns a PostgREST-12-style request (query string plus a few
// headers) into an AST. It is pure: no I/O, no database, no HTTP framework;
// the planner (schema checks) and tenants/sqlgen (SQL) consume its output.
//
// # Entry points
//
//   - ParseQuery(rawQuery) parses the raw, still percent-encoded query string.
//     The raw form is used (not url.Values) because PostgREST semantics depend
//     on the order of parameters and on repeated keys.
//   - ParseHeaders / Parse add Prefer, Range, Accept and the profile headers.
//   - ParseRPC splits GET /rpc/fn query strings into function arguments and
//     the query on the function's result.
//   - ParseCondition parses an access-rule condition (DESIGN §7.1), written
//     in the same filter grammar, with {auth.*} placeholders.
//
// Every error is a *Error carrying a PostgREST code (PGRST100 for grammar,
// PGRST103 for ranges, PGRST107 for Accept, PGRST122 for strict Prefer) and,
// for grammar errors, the byte position where parsing failed. No input makes
// the parser panic; nesting and list sizes are capped.
//
// # The AST
//
// A Query holds:
//
//   - Select: a tree of SelectItem. A SelectStar is "*"; a SelectColumn is
//     [alias:]column[->json->>path][::cast]; a SelectEmbed is an embedded
//     resource [alias:]rel[!hint][!inner|!left](...) or a spread ...rel(...).
//     Names are not resolved here: rel may be a table, a view, a foreign-key
//     column or a constraint name, which only the schema can tell.
//   - Where: boolean expressions, each scoped to an embed Path. A horizontal
//     filter col=op.value becomes a leaf Expr; or=(...)/and=(...)/not.or=(...)
//     become groups. All expressions with the same path are ANDed. A path is
//     the list of embed aliases-or-names (author.name=eq.x has path
//     ["author"]), to be matched against the select tree by the planner.
//     A filter on an embed name itself (select=*,author()&author=not.is.null)
//     is parsed as a filter on a column called author; the planner tells.
//   - Order: order terms per path; Pages: limit/offset per path.
//   - Columns and OnConflict for writes.
//
// Values are kept as the strings the client sent (unquoted where the grammar
// quotes them): Postgres coerces them when they are bound as parameters cast
// to the column's type. Translating like's * wildcard to % and turning
// (any)/(all) values into arrays is left to the SQL builder.
//
// # Grammar notes (PostgREST compatible)
//
//   - A top-level filter value is everything after "op."; inside a logic tree
//     a value ends at ',' or ')' unless it is "double quoted" (backslash
//     escapes) or a {...} array literal. in.(...) elements follow the same
//     quoting rules; in.() is the empty list.
//   - is accepts null, not_null, true, false, unknown (any case).
//   - Names are letters, digits, _, $ and spaces (trimmed), joined by dashes,
//     or "double quoted".
//   - The first select/columns/on_conflict wins; for limit, offset and order
//     the last one given for a path wins.
//   - Keys whose last dot-separated word is order, limit, offset, and, or are
//     reserved (see IsReservedKey); to filter a column with such a name,
//     quote it: "order"=eq.1.
package query
