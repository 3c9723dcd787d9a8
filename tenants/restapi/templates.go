package restapi

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"weak"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/plinth-dev/plinth/tenants/schema"
	"github.com/plinth-dev/plinth/tenants/sqlgen"
)

// maxTemplates bounds the templates kept, over all projects (a few KiB
// each at most).
const maxTemplates = 16384

// templates keeps read and insert templates (sqlgen.Template): a request
// of a shape seen before skips planning and rendering SQL. A template is
// keyed by the project, the caller's role and everything the statement
// depends on but the values: the table, the query string's shape, the headers
// that shape SQL (Prefer, Accept, Range, Content-Type), the method, the
// project's max_rows and, for inserts, the payload's shape. It is used only
// with the schema it was built on, and the caller's access rules are asked
// again on every use: their row conditions' values are bound anew, and a
// condition of another structure means a fresh build.
type templates struct {
	byKey *lru.Cache[string, schemaTemplate]
	// verify rebuilds every statement taken from a template and fails on a
	// difference (tests; see config.VerifyTemplates).
	verify bool
}

// schemaTemplate is a template with the schema it was built on, held
// weakly: a template must not keep a replaced schema alive.
type schemaTemplate struct {
	schema weak.Pointer[schema.Schema]
	tpl    *sqlgen.Template
}

func newTemplates(verify bool) *templates {
	c, _ := lru.New[string, schemaTemplate](maxTemplates)
	return &templates{byKey: c, verify: verify}
}

// statementKey renders what, besides the values, a statement depends on:
// the table, the method, max_rows, the headers that shape SQL, the query
// string's shape and, for an insert, the payload's shape. The caller's role
// is part of it too: roles' row conditions differ in structure, and one
// role's requests should not keep replacing another's template.
func statementKey(r *request, table, payloadShape string) string {
	h := &r.c.Request().Header
	b := make([]byte, 0, 64+len(r.proj.Ref)+len(table)+len(r.sql.Query.Shape)+len(payloadShape))
	b = appendField(b, r.proj.Ref)
	b = appendField(b, r.who.Role)
	b = appendField(b, table)
	b = appendField(b, r.c.Method())
	b = strconv.AppendInt(b, r.sql.MaxRows, 10)
	for _, name := range [...]string{"Prefer", "Accept", "Range", "Range-Unit", "Content-Type"} {
		for _, v := range h.PeekAll(name) {
			b = appendField(append(b, name[0]), string(v))
		}
	}
	b = appendField(append(b, '?'), r.sql.Query.Shape)
	return string(appendField(append(b, '!'), payloadShape))
}

// appendField appends s length-prefixed, so fields cannot run together.
func appendField(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	return append(append(b, ':'), s...)
}

// readStatement builds the statement of a read, from a template when one
// of the request's shape is cached.
func (h *Handler) readStatement(r *request, table string) (*sqlgen.Statement, error) {
	return h.templated(r, table, nil,
		func() (*sqlgen.Statement, *sqlgen.Template, error) {
			return sqlgen.ReadTemplate(r.schema, table, r.sql)
		},
		func() (*sqlgen.Statement, error) { return sqlgen.Read(r.schema, table, r.sql) })
}

// insertStatement is readStatement for POST.
func (h *Handler) insertStatement(r *request, table string, body *sqlgen.Payload) (*sqlgen.Statement, error) {
	return h.templated(r, table, body,
		func() (*sqlgen.Statement, *sqlgen.Template, error) {
			return sqlgen.InsertTemplate(r.schema, table, r.sql, body)
		},
		func() (*sqlgen.Statement, error) { return sqlgen.InsertPayload(r.schema, table, r.sql, body) })
}

// templated returns the statement for r from the cached template of its
// shape, or builds it (and the template, when there can be one).
func (h *Handler) templated(r *request, table string, body *sqlgen.Payload,
	build func() (*sqlgen.Statement, *sqlgen.Template, error), fresh func() (*sqlgen.Statement, error)) (*sqlgen.Statement, error) {
	shape := ""
	if body != nil {
		shape = body.Shape()
	}
	key := statementKey(r, table, shape)
	if cached, ok := h.templates.byKey.Get(key); ok && cached.schema.Value() == r.schema {
		st, ok, err := cached.tpl.Statement(r.sql, body)
		if err != nil {
			return nil, err
		}
		if ok {
			if h.templates.verify {
				if err := sameStatement(st, fresh); err != nil {
					return nil, err
				}
			}
			return st, nil
		}
	}
	st, tpl, err := build()
	if err != nil {
		return nil, err
	}
	if tpl != nil {
		h.templates.byKey.Add(key, schemaTemplate{weak.Make(r.schema), tpl})
	}
	return st, nil
}

// sameStatement checks a statement from a template against a fresh build.
func sameStatement(st *sqlgen.Statement, fresh func() (*sqlgen.Statement, error)) error {
	want, err := fresh()
	if err != nil {
		return fmt.Errorf("template check: fresh build failed: %w", err)
	}
	if st.SQL != want.SQL || !reflect.DeepEqual(st.Args, want.Args) || st.ReadOnly != want.ReadOnly ||
		!slices.Equal(st.PrimaryKey, want.PrimaryKey) || st.Void != want.Void || st.Scalar != want.Scalar {
		return fmt.Errorf("template check: statement differs from a fresh build:\n%s %q\n%s %q", st.SQL, st.Args, want.SQL, want.Args)
	}
	return nil
}
