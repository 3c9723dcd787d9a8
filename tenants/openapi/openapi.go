// Package openapi builds a project's OpenAPI 3.1 document from its schema
// (tenants/schema): one path per table and view with PostgREST's parameters
// (select, order, limit, offset, Range, Prefer, one filter per column), one
// per function under /rpc/, and a JSON Schema per table whose properties carry
// the column types, formats, enums, nullability, defaults and PostgREST's
// primary/foreign key notes. It is pure: the same schema gives the same bytes.
package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/plinth-dev/plinth/tenants/schema"
)

// Options name the document.
type Options struct {
	Ref       string // project ref, for the title
	ServerURL string // the data API's base URL: PLINTH_PUBLIC_URL + /p/{ref}/rest/v1
	Version   string // info.version; "" = "1.0.0"
	// Allow, when set, says whether the caller may perform an action on a
	// table ("select", "insert", "update", "delete") or function ("rpc:fn",
	// "execute"). The document then describes only what the caller may do,
	// as PostgREST's default openapi-mode follow-privileges does: tables
	// and functions it cannot use are left out, with their definitions.
	Allow func(object, action string) bool
}

// Document is an OpenAPI 3.1 document (the subset Plinth emits).
type Document struct {
	OpenAPI    string                `json:"openapi"`
	Info       Info                  `json:"info"`
	Servers    []Server              `json:"servers"`
	Security   []map[string][]string `json:"security"`
	Tags       []Tag                 `json:"tags,omitempty"`
	Paths      map[string]*PathItem  `json:"paths"`
	Components Components            `json:"components"`
}

// Info is the document's info object.
type Info struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Version     string `json:"version"`
}

// Server is one base URL.
type Server struct {
	URL string `json:"url"`
}

// Tag groups the operations of one table or of the functions.
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// PathItem holds the operations of one path.
type PathItem struct {
	Get    *Operation `json:"get,omitempty"`
	Post   *Operation `json:"post,omitempty"`
	Patch  *Operation `json:"patch,omitempty"`
	Delete *Operation `json:"delete,omitempty"`
}

// Operation is one method on one path.
type Operation struct {
	OperationID string               `json:"operationId"`
	Tags        []string             `json:"tags,omitempty"`
	Summary     string               `json:"summary,omitempty"`
	Description string               `json:"description,omitempty"`
	Parameters  []*Parameter         `json:"parameters,omitempty"`
	RequestBody *RequestBody         `json:"requestBody,omitempty"`
	Responses   map[string]*Response `json:"responses"`
}

// Parameter is a parameter or a reference to one in components.
type Parameter struct {
	Ref         string  `json:"$ref,omitempty"`
	Name        string  `json:"name,omitempty"`
	In          string  `json:"in,omitempty"`
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Schema      *Schema `json:"schema,omitempty"`
}

// RequestBody is an operation's body.
type RequestBody struct {
	Ref         string                `json:"$ref,omitempty"`
	Description string                `json:"description,omitempty"`
	Required    bool                  `json:"required,omitempty"`
	Content     map[string]*MediaType `json:"content,omitempty"`
}

// Response is one status's answer, or a reference to one in components.
type Response struct {
	Ref         string                `json:"$ref,omitempty"`
	Description string                `json:"description,omitempty"` // always set unless Ref is`
	Headers     map[string]*Header    `json:"headers,omitempty"`
	Content     map[string]*MediaType `json:"content,omitempty"`
}

// Header is a response header.
type Header struct {
	Description string  `json:"description,omitempty"`
	Schema      *Schema `json:"schema"`
}

// MediaType is a body of one content type.
type MediaType struct {
	Schema *Schema `json:"schema"`
}

// Components hold what operations reference.
type Components struct {
	Schemas         map[string]*Schema         `json:"schemas"`
	Parameters      map[string]*Parameter      `json:"parameters"`
	Responses       map[string]*Response       `json:"responses"`
	RequestBodies   map[string]*RequestBody    `json:"requestBodies,omitempty"`
	SecuritySchemes map[string]*SecurityScheme `json:"securitySchemes"`
}

// SecurityScheme is how a request authenticates.
type SecurityScheme struct {
	Type        string `json:"type"`
	In          string `json:"in,omitempty"`
	Name        string `json:"name,omitempty"`
	Scheme      string `json:"scheme,omitempty"`
	Description string `json:"description,omitempty"`
}

// Schema is a JSON Schema (2020-12, as OpenAPI 3.1 uses it), the subset
// needed to describe rows and arguments. The zero Schema accepts anything.
type Schema struct {
	Ref         string     `json:"$ref,omitempty"`
	Type        any        `json:"type,omitempty"` // a name or a list of names
	Format      string     `json:"format,omitempty"`
	Description string     `json:"description,omitempty"`
	Enum        []any      `json:"enum,omitempty"`
	Default     any        `json:"default,omitempty"`
	ReadOnly    bool       `json:"readOnly,omitempty"`
	MaxLength   int        `json:"maxLength,omitempty"`
	Items       *Schema    `json:"items,omitempty"`
	Properties  Properties `json:"properties,omitempty"`
	Required    []string   `json:"required,omitempty"`
	OneOf       []*Schema  `json:"oneOf,omitempty"`
	Examples    []any      `json:"examples,omitempty"`
}

// Property is a named property of an object schema.
type Property struct {
	Name   string
	Schema *Schema
}

// Properties keep the order of a table's columns (a map would sort them).
type Properties []Property

// MarshalJSON renders the properties as an object in column order.
func (p Properties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, pr := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(pr.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(pr.Schema)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Media types of the data API.
const (
	mediaJSON      = "application/json"
	mediaObject    = "application/vnd.pgrst.object+json"
	mediaCSV       = "text/csv"
	MediaOpenAPI   = "application/openapi+json"
	errorSchemaKey = "plinth.error" // tables are sanitised to [A-Za-z0-9_-]: no clash
)

// builder carries the state of one Build.
type builder struct {
	s      *schema.Schema
	doc    *Document
	allow  func(object, action string) bool
	names  map[string]string // table name -> component key
	used   map[string]bool
	wanted map[string]bool // tables whose row schema something refers to
}

func (b *builder) may(object, action string) bool { return b.allow == nil || b.allow(object, action) }

// rowRef refers to a table's row schema, which is then part of the
// document even if the table's own paths are not.
func (b *builder) rowRef(table string) *Schema {
	b.wanted[table] = true
	return &Schema{Ref: ref("schemas", b.names[table])}
}

// Build returns the document for a project's schema.
func Build(s *schema.Schema, o Options) *Document {
	version := o.Version
	if version == "" {
		version = "1.0.0"
	}
	doc := &Document{
		OpenAPI: "3.1.0",
		Info: Info{
			Title:       "Plinth project " + o.Ref,
			Description: "PostgREST-compatible data API of project " + o.Ref + ", generated from its schema.",
			Version:     version,
		},
		Servers:  []Server{{URL: o.ServerURL}},
		Security: []map[string][]string{{"apikey": {}}},
		Paths:    map[string]*PathItem{},
		Components: Components{
			Schemas:    map[string]*Schema{},
			Parameters: commonParameters(),
			Responses:  errorResponseComponents(),
			SecuritySchemes: map[string]*SecurityScheme{
				"apikey": {Type: "apiKey", In: "header", Name: "apikey", Description: "The project's anon (publishable) or service_role (secret) key."},
				"bearer": {Type: "http", Scheme: "bearer", Description: "An end user's access token (JWT) or a project key."},
			},
			RequestBodies: map[string]*RequestBody{},
		},
	}
	b := &builder{s: s, doc: doc, allow: o.Allow, names: map[string]string{}, used: map[string]bool{errorSchemaKey: true}, wanted: map[string]bool{}}
	doc.Components.Schemas[errorSchemaKey] = errorSchema()
	doc.Paths["/"] = &PathItem{Get: &Operation{
		OperationID: "openapi",
		Tags:        []string{"introspection"},
		Summary:     "This OpenAPI description",
		Responses: map[string]*Response{"200": {Description: "OK", Content: map[string]*MediaType{
			MediaOpenAPI: {Schema: &Schema{Type: "object"}}, mediaJSON: {Schema: &Schema{Type: "object"}},
		}}},
	}}
	doc.Tags = append(doc.Tags, Tag{Name: "introspection"})

	tables := s.TableNames()
	for _, name := range tables { // keys first: a row type may be referenced before it is built
		b.names[name] = b.uniqueKey(name)
	}
	for _, name := range tables {
		b.table(s.Tables[name])
	}
	fnNames := make([]string, 0, len(s.Functions))
	for n := range s.Functions {
		fnNames = append(fnNames, n)
	}
	sort.Strings(fnNames)
	hasRPC := false
	for _, n := range fnNames {
		if b.function(n, s.Functions[n]) {
			hasRPC = true
		}
	}
	if hasRPC {
		doc.Tags = append(doc.Tags, Tag{Name: "rpc", Description: "Functions of the project schema"})
	}
	// Row types that what is described refers to (a function's result, a
	// composite column), including those of tables left out; a row schema
	// may refer to further ones.
	for added := true; added; {
		added = false
		for _, name := range tables {
			if key := b.names[name]; b.wanted[name] && doc.Components.Schemas[key] == nil {
				doc.Components.Schemas[key] = b.rowSchema(s.Tables[name])
				added = true
			}
		}
	}
	return doc
}

// JSON renders a document.
func (d *Document) JSON() ([]byte, error) { return json.Marshal(d) }

var unsafeKeyChars = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// uniqueKey makes a component key (OpenAPI allows [A-Za-z0-9._-]) for a name.
func (b *builder) uniqueKey(name string) string {
	base := unsafeKeyChars.ReplaceAllString(name, "_")
	if base == "" {
		base = "_"
	}
	key := base
	for i := 2; b.used[key]; i++ {
		key = base + "_" + strconv.Itoa(i)
	}
	b.used[key] = true
	return key
}

func errorSchema() *Schema {
	return &Schema{
		Type:        "object",
		Description: "PostgREST's error shape. code is a Postgres SQLSTATE, a PGRSTxxx or a PLxxx code.",
		Properties: Properties{
			{"code", &Schema{Type: "string"}},
			{"message", &Schema{Type: "string"}},
			{"details", &Schema{Type: []string{"string", "null"}}},
			{"hint", &Schema{Type: []string{"string", "null"}}},
		},
		Required: []string{"code", "message", "details", "hint"},
	}
}

func ref(kind, key string) string { return "#/components/" + kind + "/" + escapePointer(key) }

// escapePointer escapes a JSON pointer segment.
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func paramRef(key string) *Parameter { return &Parameter{Ref: ref("parameters", key)} }

// errorStatuses are the error answers every operation may give; each is
// one shared component, referenced from every operation.
var errorStatuses = map[string]string{
	"400": "Bad request (malformed filter, unknown column, invalid value)",
	"401": "Missing or invalid key, or denied for an anonymous caller",
	"403": "Denied by access rules",
	"404": "Unknown table or function",
	"406": "Not acceptable (singular response violated, unknown profile)",
	"409": "Conflict (unique or foreign key violation)",
	"416": "Range not satisfiable",
	"429": "Rate limited",
}

func errorResponseComponents() map[string]*Response {
	errBody := map[string]*MediaType{mediaJSON: {Schema: &Schema{Ref: ref("schemas", errorSchemaKey)}}}
	out := map[string]*Response{}
	for code, desc := range errorStatuses {
		out["error"+code] = &Response{Description: desc, Content: errBody}
	}
	return out
}

// errorResponses adds references to the shared error answers to r.
func errorResponses(r map[string]*Response) map[string]*Response {
	for code := range errorStatuses {
		r[code] = &Response{Ref: ref("responses", "error"+code)}
	}
	return r
}

func commonParameters() map[string]*Parameter {
	str := func() *Schema { return &Schema{Type: "string"} }
	prefer := func(desc string, examples ...any) *Parameter {
		return &Parameter{Name: "Prefer", In: "header", Description: desc, Schema: &Schema{Type: "string", Examples: examples}}
	}
	return map[string]*Parameter{
		"select": {Name: "select", In: "query", Description: "Columns and embedded resources to return, e.g. `id,title,author:authors(name)`.", Schema: str()},
		"order":  {Name: "order", In: "query", Description: "Ordering, e.g. `created_at.desc.nullslast,id`.", Schema: str()},
		"limit":  {Name: "limit", In: "query", Description: "At most this many rows (the project's max_rows also caps it).", Schema: &Schema{Type: "integer", Format: "int64"}},
		"offset": {Name: "offset", In: "query", Description: "Skip this many rows.", Schema: &Schema{Type: "integer", Format: "int64"}},
		"range":  {Name: "Range", In: "header", Description: "Rows to return, zero-based and inclusive, e.g. `0-9`.", Schema: str()},
		"rangeUnit": {Name: "Range-Unit", In: "header", Description: "Unit of Range.",
			Schema: &Schema{Type: "string", Default: "items"}},
		"columns":     {Name: "columns", In: "query", Description: "Columns of the body to insert, e.g. `title,author_id`.", Schema: str()},
		"on_conflict": {Name: "on_conflict", In: "query", Description: "Unique columns an upsert resolves conflicts on.", Schema: str()},
		"preferParams": prefer("Preferences of a read: count=exact|planned|estimated.",
			"count=exact", "count=planned", "count=estimated"),
		"preferReturn": prefer("Preferences of a change: return=minimal|headers-only|representation, count=exact, tx=rollback.",
			"return=representation", "return=minimal", "return=headers-only", "tx=rollback"),
		"preferPost": prefer("Preferences of an insert: return=…, resolution=merge-duplicates|ignore-duplicates, missing=default, count=exact, tx=rollback.",
			"return=representation", "return=minimal", "resolution=merge-duplicates", "resolution=ignore-duplicates", "missing=default"),
	}
}

// table adds a table's or view's schema, filter parameters and path.
func (b *builder) table(t *schema.Table) {
	read := b.may(t.Name, "select")
	insert, update, del := b.may(t.Name, "insert"), b.may(t.Name, "update"), b.may(t.Name, "delete")
	if !read && !insert && !update && !del {
		return
	}
	key := b.names[t.Name]
	b.doc.Components.Schemas[key] = b.rowSchema(t)
	b.doc.Tags = append(b.doc.Tags, Tag{Name: t.Name, Description: t.Comment})
	var filters []*Parameter
	for _, c := range t.Columns {
		pk := "rowFilter." + key + "." + b.columnKey(key, c.Name)
		b.doc.Components.Parameters[pk] = &Parameter{Name: c.Name, In: "query", Required: false,
			Description: "Filter on " + c.Name + ", e.g. `eq.value`, `in.(a,b)`, `is.null`, `not.like.*x*`.",
			Schema:      &Schema{Type: "string", Format: b.displayType(c.Type)}}
		filters = append(filters, paramRef(pk))
	}
	rowRef := b.rowRef(t.Name)
	rows := &Schema{Type: "array", Items: rowRef}
	readBody := map[string]*MediaType{mediaJSON: {Schema: rows}, mediaObject: {Schema: rowRef}, mediaCSV: {Schema: &Schema{Type: "string"}}}
	changeHeaders := map[string]*Header{"Preference-Applied": {Schema: &Schema{Type: "string"}}}
	kind := strings.ReplaceAll(t.Kind, "_", " ")
	item := &PathItem{Get: &Operation{
		OperationID: "get_" + key,
		Tags:        []string{t.Name},
		Summary:     "Read rows of " + kind + " " + t.Name,
		Description: t.Comment,
		Parameters: append(append([]*Parameter{}, filters...),
			paramRef("select"), paramRef("order"), paramRef("range"), paramRef("rangeUnit"),
			paramRef("offset"), paramRef("limit"), paramRef("preferParams")),
		Responses: errorResponses(map[string]*Response{
			"200": {Description: "OK", Content: readBody, Headers: map[string]*Header{"Content-Range": {Description: "Rows returned and, with count, the total: `0-9/100`.", Schema: &Schema{Type: "string"}}}},
			"206": {Description: "Partial content: a page of a counted result", Content: readBody},
		}),
	}}
	if t.Insertable {
		bodyKey := b.uniqueRequestBody(key)
		b.doc.Components.RequestBodies[bodyKey] = &RequestBody{
			Description: t.Name, Required: true,
			Content: map[string]*MediaType{mediaJSON: {Schema: &Schema{OneOf: []*Schema{rowRef, rows}}}, mediaCSV: {Schema: &Schema{Type: "string"}}},
		}
		body := &RequestBody{Ref: ref("requestBodies", bodyKey)}
		changed := func(ok string) map[string]*Response {
			return errorResponses(map[string]*Response{
				ok:    {Description: "Changed; the rows with return=representation", Content: map[string]*MediaType{mediaJSON: {Schema: rows}, mediaObject: {Schema: rowRef}}, Headers: changeHeaders},
				"204": {Description: "Changed, with return=minimal", Headers: changeHeaders},
			})
		}
		item.Post = &Operation{
			OperationID: "post_" + key, Tags: []string{t.Name}, Summary: "Insert (or upsert) rows into " + t.Name,
			Parameters:  []*Parameter{paramRef("select"), paramRef("columns"), paramRef("on_conflict"), paramRef("preferPost")},
			RequestBody: body, Responses: changed("201"),
		}
		item.Patch = &Operation{
			OperationID: "patch_" + key, Tags: []string{t.Name}, Summary: "Update the rows of " + t.Name + " that the filters match",
			Parameters:  append(append([]*Parameter{}, filters...), paramRef("select"), paramRef("preferReturn")),
			RequestBody: &RequestBody{Required: true, Content: map[string]*MediaType{mediaJSON: {Schema: rowRef}}},
			Responses:   changed("200"),
		}
		item.Delete = &Operation{
			OperationID: "delete_" + key, Tags: []string{t.Name}, Summary: "Delete the rows of " + t.Name + " that the filters match",
			Parameters: append(append([]*Parameter{}, filters...), paramRef("select"), paramRef("preferReturn")),
			Responses:  changed("200"),
		}
		if !insert {
			item.Post = nil
			delete(b.doc.Components.RequestBodies, bodyKey)
		}
		if !update {
			item.Patch = nil
		}
		if !del {
			item.Delete = nil
		}
	}
	if !read {
		item.Get = nil
	}
	b.doc.Paths["/"+url.PathEscape(t.Name)] = item
}

func (b *builder) columnKey(tableKey, col string) string {
	k := unsafeKeyChars.ReplaceAllString(col, "_")
	base := "rowFilter." + tableKey + "."
	out := k
	for i := 2; b.doc.Components.Parameters[base+out] != nil; i++ {
		out = k + "_" + strconv.Itoa(i)
	}
	return out
}

func (b *builder) uniqueRequestBody(key string) string {
	k := key
	for i := 2; b.doc.Components.RequestBodies[k] != nil; i++ {
		k = key + "_" + strconv.Itoa(i)
	}
	return k
}

// rowSchema is the JSON Schema of one row.
func (b *builder) rowSchema(t *schema.Table) *Schema {
	out := &Schema{Type: "object", Description: t.Comment}
	fkNotes := map[string][]string{}
	for _, fk := range t.ForeignKeys {
		if len(fk.Columns) == 1 && len(fk.RefColumns) == 1 {
			// PostgREST's note, which generators (and supabase's) parse.
			fkNotes[fk.Columns[0]] = append(fkNotes[fk.Columns[0]],
				fmt.Sprintf("This is a Foreign Key to `%s.%s`.<fk table='%s' column='%s'/>", fk.RefTable, fk.RefColumns[0], fk.RefTable, fk.RefColumns[0]))
		}
	}
	for _, c := range t.Columns {
		ps := b.columnSchema(c)
		var notes []string
		if c.IsPK {
			notes = append(notes, "This is a Primary Key.<pk/>")
		}
		notes = append(notes, fkNotes[c.Name]...)
		desc := c.Comment
		if len(notes) > 0 {
			if desc != "" {
				desc += "\n\n"
			}
			desc += "Note:\n" + strings.Join(notes, "\n")
		}
		if c.Default != "" {
			if v, ok := literalDefault(c.Default, ps); ok {
				ps.Default = v
			} else {
				if desc != "" {
					desc += "\n\n"
				}
				desc += "Default: `" + c.Default + "`"
			}
		}
		ps.Description = desc
		if c.Generated {
			ps.ReadOnly = true
		}
		out.Properties = append(out.Properties, Property{c.Name, ps})
		// PostgREST's rule: a value must be sent when it cannot be null and
		// Postgres has nothing to fill in.
		if !c.Nullable && c.Default == "" && !c.Identity && !c.Generated {
			out.Required = append(out.Required, c.Name)
		}
	}
	return out
}

// columnSchema maps a column's type to JSON Schema.
func (b *builder) columnSchema(c *schema.Column) *Schema {
	display := b.displayType(c.Type)
	var s *Schema
	if c.Category == "A" {
		elem := b.baseSchema(strings.TrimPrefix(c.TypeName, "_"), strings.TrimSuffix(display, "[]"), c.EnumVals, false)
		s = &Schema{Type: "array", Items: elem}
	} else {
		s = b.baseSchema(c.TypeName, display, c.EnumVals, c.Category == "C")
	}
	s.Format = display
	if c.Nullable {
		nullable(s)
	}
	if m := varcharLength.FindStringSubmatch(display); m != nil {
		s.MaxLength, _ = strconv.Atoi(m[1])
	}
	return s
}

var varcharLength = regexp.MustCompile(`^character(?: varying)?\((\d+)\)$`)

// nullable lets a schema also accept null (JSON Schema 2020-12 style).
func nullable(s *Schema) {
	switch t := s.Type.(type) {
	case string:
		s.Type = []string{t, "null"}
	case nil:
		// no type: anything goes already (json columns)
	}
	if len(s.Enum) > 0 {
		s.Enum = append(s.Enum, nil)
	}
}

// baseSchema maps a pg_type name (typname) to JSON Schema.
func (b *builder) baseSchema(typname, display string, enum []string, composite bool) *Schema {
	if len(enum) > 0 {
		vals := make([]any, len(enum))
		for i, v := range enum {
			vals[i] = v
		}
		return &Schema{Type: "string", Enum: vals}
	}
	switch typname {
	case "int2", "int4", "int8", "oid":
		return &Schema{Type: "integer"}
	case "float4", "float8", "numeric", "money":
		return &Schema{Type: "number"}
	case "bool":
		return &Schema{Type: "boolean"}
	case "json", "jsonb":
		return &Schema{}
	}
	if composite {
		if name := strings.Trim(display, `"`); b.names[name] != "" {
			return &Schema{OneOf: []*Schema{b.rowRef(name)}}
		}
		return &Schema{Type: "object"}
	}
	return &Schema{Type: "string"}
}

// displayType removes the project schema's qualification from a
// format_type() name (the catalog is read with another search_path).
func (b *builder) displayType(t string) string {
	for _, prefix := range []string{b.s.Name + ".", `"` + b.s.Name + `".`} {
		if rest, ok := strings.CutPrefix(t, prefix); ok {
			return rest
		}
	}
	return t
}

// typeSchema maps a format_type() name (function arguments and results) to
// JSON Schema.
func (b *builder) typeSchema(t string) *Schema {
	t = b.displayType(t)
	if elem, ok := strings.CutSuffix(t, "[]"); ok {
		return &Schema{Type: "array", Items: b.typeSchema(elem), Format: t}
	}
	if name := strings.Trim(t, `"`); b.names[name] != "" {
		return b.rowRef(name)
	}
	base := t
	if i := strings.IndexByte(base, '('); i > 0 {
		base = base[:i]
	}
	var s *Schema
	switch base {
	case "smallint", "integer", "bigint", "oid":
		s = &Schema{Type: "integer"}
	case "real", "double precision", "numeric", "money":
		s = &Schema{Type: "number"}
	case "boolean":
		s = &Schema{Type: "boolean"}
	case "json", "jsonb":
		return &Schema{Format: t}
	case "record":
		s = &Schema{Type: "object"}
	default:
		s = &Schema{Type: "string"}
		if vals := b.enumValues(t); vals != nil {
			s.Enum = vals
		}
	}
	s.Format = t
	return s
}

// enumValues finds an enum type's labels through a column that uses it
// (the schema cache keeps enums only on columns).
func (b *builder) enumValues(display string) []any {
	name := strings.Trim(display, `"`)
	for _, tn := range b.s.TableNames() {
		for _, c := range b.s.Tables[tn].Columns {
			if c.TypeName == name && len(c.EnumVals) > 0 {
				vals := make([]any, len(c.EnumVals))
				for i, v := range c.EnumVals {
					vals[i] = v
				}
				return vals
			}
		}
	}
	return nil
}

var castSuffix = regexp.MustCompile(`::[A-Za-z_][A-Za-z0-9_ ."]*(\[\])?$`)

// literalDefault turns a constant default (as pg_get_expr prints it: 0,
// 'x'::text, '-1'::integer, true, '{}'::jsonb) into a JSON value of the
// column's type. Expressions (now(), nextval(...)) are not values.
func literalDefault(expr string, s *Schema) (any, bool) {
	e := expr
	for {
		next := castSuffix.ReplaceAllString(e, "")
		if next == e {
			break
		}
		e = next
	}
	if strings.HasPrefix(e, "'") && strings.HasSuffix(e, "'") && len(e) >= 2 {
		inner := e[1 : len(e)-1]
		if strings.Count(strings.ReplaceAll(inner, "''", ""), "'") > 0 {
			return nil, false
		}
		e = strings.ReplaceAll(inner, "''", "'")
	} else if strings.ContainsAny(e, "()' ") {
		return nil, false
	}
	typ := s.Type
	if l, ok := typ.([]string); ok {
		typ = l[0]
	}
	switch typ {
	case "integer":
		if n, err := strconv.ParseInt(e, 10, 64); err == nil {
			return n, true
		}
	case "number":
		if _, err := strconv.ParseFloat(e, 64); err == nil {
			return json.Number(e), true
		}
	case "boolean":
		if e == "true" || e == "false" {
			return e == "true", true
		}
	case "string":
		if expr != e || strings.HasPrefix(expr, "'") {
			return e, true
		}
	case nil:
		var v any
		if json.Unmarshal([]byte(e), &v) == nil {
			return v, true
		}
	}
	return nil, false
}

// function adds /rpc/{name}. Overloads share the path: the body is one of
// their argument objects. Functions PostgREST cannot call by named
// arguments (and triggers) are left out. It reports whether a path was added.
func (b *builder) function(name string, overloads []*schema.Function) bool {
	if !b.may("rpc:"+name, "execute") {
		return false
	}
	var callable []*schema.Function
	for _, f := range overloads {
		if f.ReturnType == "trigger" || f.ReturnType == "event_trigger" {
			continue
		}
		named := true
		for _, a := range f.Args {
			if a.Name == "" {
				named = false
			}
		}
		if named {
			callable = append(callable, f)
		}
	}
	if len(callable) == 0 {
		return false
	}
	var bodies []*Schema
	getParams := map[string]*Parameter{}
	var getOrder []string
	for _, f := range callable {
		body := &Schema{Type: "object"}
		for _, a := range f.Args {
			body.Properties = append(body.Properties, Property{a.Name, b.typeSchema(a.Type)})
			if !a.HasDefault {
				body.Required = append(body.Required, a.Name)
			}
			if _, seen := getParams[a.Name]; !seen {
				getOrder = append(getOrder, a.Name)
				getParams[a.Name] = &Parameter{Name: a.Name, In: "query", Schema: &Schema{Type: "string", Format: b.displayType(a.Type)}}
			}
		}
		bodies = append(bodies, body)
	}
	body := bodies[0]
	if len(bodies) > 1 {
		body = &Schema{OneOf: bodies}
	}
	f := callable[0]
	var result *Schema
	ok := map[string]*Response{}
	switch {
	case f.ReturnType == "void":
		ok["200"] = &Response{Description: "Called; the function returns nothing"}
		ok["204"] = &Response{Description: "Called; the function returns nothing"}
	default:
		result = b.typeSchema(f.ReturnType)
		if f.ReturnsSet {
			result = &Schema{Type: "array", Items: result}
		}
		ok["200"] = &Response{Description: "The function's result", Content: map[string]*MediaType{mediaJSON: {Schema: result}}}
	}
	key := unsafeKeyChars.ReplaceAllString(name, "_")
	var params []*Parameter
	for _, n := range getOrder {
		params = append(params, getParams[n])
	}
	if f.ReturnsSet {
		params = append(params, paramRef("select"), paramRef("order"), paramRef("limit"), paramRef("offset"))
	}
	post := &Operation{
		OperationID: "rpc_" + key, Tags: []string{"rpc"}, Summary: "Call " + name,
		RequestBody: &RequestBody{Required: len(body.Required) > 0 || body.OneOf != nil, Content: map[string]*MediaType{mediaJSON: {Schema: body}}},
		Parameters:  []*Parameter{paramRef("preferParams")},
		Responses:   errorResponses(ok),
	}
	get := &Operation{
		OperationID: "rpc_get_" + key, Tags: []string{"rpc"}, Summary: "Call " + name + " with arguments in the query string",
		Parameters: params, Responses: errorResponses(copyResponses(ok)),
	}
	if f.ReturnsSet {
		post.Parameters = append(post.Parameters, paramRef("select"), paramRef("order"), paramRef("limit"), paramRef("offset"))
	}
	b.doc.Paths["/rpc/"+url.PathEscape(name)] = &PathItem{Get: get, Post: post}
	return true
}

func copyResponses(r map[string]*Response) map[string]*Response {
	out := make(map[string]*Response, len(r))
	for k, v := range r {
		out[k] = v
	}
	return out
}
