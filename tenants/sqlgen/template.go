package sqlgen

import (
	"strconv"

	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/schema"
)

// Template is a read statement with the request's values taken out: built
// once for a request, it gives the statement of every request of the same
// shape (query.Query.Shape; the caller keys templates by that and by
// everything else a statement depends on, see restapi) without planning and
// rendering SQL again. Its SQL is fixed; its arguments are rebuilt from the
// new request's filter values, and the access decisions it was built under
// are asked again.
//
// Only statements that depend on the request through bound values alone
// become templates: the query string's filter values and the values of the
// access rules' row conditions (the caller's, such as auth.uid), whose
// structure must stay the one the template was built with; nothing may
// have been inlined as a literal (planned counts).
type Template struct {
	st     Statement // Args unused
	args   []argSource
	access []accessCall
}

// argSource is where one argument comes from: part of slot's filter, part
// of filter slot-1 of access call cond-1's row condition, or (both 0) a
// constant of the statement.
type argSource struct {
	slot  int
	cond  int
	part  argPart
	konst string
}

// accessCall is one access decision a template was built under; shape is
// its row condition's (condShape), "" for every row.
type accessCall struct{ object, action, shape string }

// argPart is what of a filter an argument binds.
type argPart uint8

const (
	partValue     argPart = iota // the value (like patterns with * as %)
	partList                     // an in list, as an array literal
	partLang                     // a full-text search's regconfig
	partPayload                  // a write's body, as a JSON array (no filter)
	partMember                   // member slot-1 of a one-object body, as text
	partMemberRaw                // the same as JSON text (json and jsonb columns)
)

func (p argPart) of(f *query.Filter) string {
	switch p {
	case partList:
		return arrayLiteral(f.List)
	case partLang:
		return f.Lang
	}
	return likeValue(f.Op, f.Value)
}

// recorder notes, while a statement is built, what a Template needs. Its
// methods do nothing on a nil recorder (a build without a template).
type recorder struct {
	args   []argSource
	access []accessCall
	// conds places each filter of a recorded row condition: its access
	// call and position, and whether its values were bound.
	conds map[*query.Filter]*condFilter
	off   bool // the statement depends on the request otherwise
}

type condFilter struct {
	call, pos int
	bound     bool
}

func (r *recorder) constant(v string) {
	if r != nil {
		r.args = append(r.args, argSource{konst: v})
	}
}

func (r *recorder) value(f *query.Filter, part argPart) {
	if r == nil {
		return
	}
	if f.Slot == 0 {
		cf, ok := r.conds[f]
		if !ok {
			r.off = true // a value of neither the query string nor a recorded condition
			return
		}
		cf.bound = true
		r.args = append(r.args, argSource{slot: cf.pos + 1, cond: cf.call, part: part})
		return
	}
	r.args = append(r.args, argSource{slot: f.Slot, part: part})
}

func (r *recorder) payload() {
	if r != nil {
		r.args = append(r.args, argSource{part: partPayload})
	}
}

func (r *recorder) payloadValue(i int, raw bool) {
	if r != nil {
		part := partMember
		if raw {
			part = partMemberRaw
		}
		r.args = append(r.args, argSource{slot: i + 1, part: part})
	}
}

func (r *recorder) accessed(object, action string, cond query.Expr) {
	if r == nil {
		return
	}
	call := accessCall{object: object, action: action}
	if !cond.IsEmpty() {
		call.shape = condShape(cond)
		if r.conds == nil {
			r.conds = map[*query.Filter]*condFilter{}
		}
		for i, f := range condFilters(cond, nil) {
			if r.conds[f] != nil {
				// One filter in two places: its values could not follow
				// each place's own on reuse.
				r.off = true
			}
			r.conds[f] = &condFilter{call: len(r.access) + 1, pos: i}
		}
	}
	r.access = append(r.access, call)
}

// template is the Template of st as recorded, or nil when st cannot be one.
// A condition's filter whose value is not bound (is.null is rendered as
// SQL) is in its shape; any other must have been bound, or the SQL would
// carry it.
func (r *recorder) template(st *Statement) *Template {
	if r.off {
		return nil
	}
	for f, cf := range r.conds {
		if !cf.bound && f.Op != query.OpIs {
			return nil
		}
	}
	return &Template{st: *st, args: r.args, access: r.access}
}

// condFilters lists e's filters, depth first: the positions argSource
// refers to.
func condFilters(e query.Expr, out []*query.Filter) []*query.Filter {
	if e.Filter != nil {
		out = append(out, e.Filter)
	}
	for _, c := range e.Children {
		out = condFilters(c, out)
	}
	return out
}

// condShape renders everything of a row condition that shapes SQL: its
// structure and every filter's field, operator and modifiers, and the
// value of is (rendered as SQL); not the values, which are bound.
func condShape(e query.Expr) string {
	return string(appendCondShape(nil, e))
}

func appendCondShape(b []byte, e query.Expr) []byte {
	b = append(b, '(', byte(e.Op), boolByte(e.Not))
	if f := e.Filter; f != nil {
		b = appendString(append(b, 'f'), f.Field.Name)
		for _, st := range f.Field.JSON {
			b = appendString(append(b, 'j', boolByte(st.Index), boolByte(st.AsText)), st.Key)
		}
		b = appendString(append(b, 'o', boolByte(f.Not), byte(f.Quant)), string(f.Op))
		b = appendString(b, f.Lang)
		if f.Op == query.OpIs {
			b = appendString(b, f.Value)
		}
	}
	for _, c := range e.Children {
		b = appendCondShape(b, c)
	}
	return append(b, ')')
}

// appendString appends s length-prefixed, so parts cannot run together.
func appendString(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	return append(append(b, ':'), s...)
}

func boolByte(v bool) byte {
	if v {
		return '1'
	}
	return '0'
}

func (r *recorder) cannot() {
	if r != nil {
		r.off = true
	}
}

// ReadTemplate is Read that also returns the statement's Template, or nil
// when the statement cannot be one.
func ReadTemplate(s *schema.Schema, table string, req *Request) (*Statement, *Template, error) {
	rec := &recorder{}
	st, err := read(s, table, req, rec)
	if err != nil {
		return st, nil, err
	}
	return st, rec.template(st), nil
}

// Statement is the template's statement for req, a request of the shape
// it was built for, with body (nil for reads) of the payload shape it was
// built for. ok is false when req's access decisions are no longer the
// template's (a row condition of another shape now applies, or none where
// one did): build the statement anew. A denial is returned as the error the
// build would have returned.
func (t *Template) Statement(req *Request, body *Payload) (st *Statement, ok bool, err error) {
	var conds [][]*query.Filter // by access call, the new conditions' filters
	for i, a := range t.access {
		if req.Access == nil {
			if a.shape != "" {
				return nil, false, nil
			}
			continue
		}
		cond, err := req.Access(a.object, a.action)
		if err != nil {
			return nil, false, err
		}
		if cond.IsEmpty() != (a.shape == "") {
			return nil, false, nil
		}
		if a.shape != "" {
			var buf [256]byte // the comparison then allocates nothing
			if string(appendCondShape(buf[:0], cond)) != a.shape {
				return nil, false, nil
			}
			if conds == nil {
				conds = make([][]*query.Filter, len(t.access))
			}
			conds[i] = condFilters(cond, nil)
		}
	}
	slots := req.Query.Slots
	var args []any
	if len(t.args) > 0 {
		args = make([]any, len(t.args))
	}
	for i, src := range t.args {
		switch src.part {
		case partPayload, partMember, partMemberRaw:
			if body == nil {
				return nil, false, nil
			}
			if src.part == partPayload {
				args[i] = string(body.raw)
				continue
			}
			if !body.obj.IsObject() || !body.valuesAsText() {
				return nil, false, nil // this body needs the JSON path
			}
			args[i] = body.valueText(src.slot-1, src.part == partMemberRaw)
			continue
		}
		if src.cond > 0 {
			args[i] = src.part.of(conds[src.cond-1][src.slot-1])
			continue
		}
		if src.slot == 0 {
			args[i] = src.konst
			continue
		}
		if src.slot > len(slots) {
			return nil, false, nil // not the shape it was built for
		}
		args[i] = src.part.of(slots[src.slot-1])
	}
	out := t.st
	out.Args = args
	return &out, true, nil
}
