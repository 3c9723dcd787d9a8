package sqlgen

import (
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
// Only statements that depend on the request through bound filter values
// alone become templates: every access decision must have been "all rows"
// (a row condition binds the caller's values), and nothing may have been
// inlined as a literal (planned counts).
type Template struct {
	st     Statement // Args unused
	args   []argSource
	access []accessCall
}

// argSource is where one argument comes from: part of slot's filter, or
// (slot 0) a constant of the statement.
type argSource struct {
	slot  int
	part  argPart
	konst string
}

type accessCall struct{ object, action string }

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
	off    bool // the statement depends on the request otherwise
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
		r.off = true // not the query string's: an access condition
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
	r.access = append(r.access, accessCall{object, action})
	if !cond.IsEmpty() {
		r.off = true
	}
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
	if err != nil || rec.off {
		return st, nil, err
	}
	return st, &Template{st: *st, args: rec.args, access: rec.access}, nil
}

// Statement is the template's statement for req, a request of the shape
// it was built for, with body (nil for reads) of the payload shape it was
// built for. ok is false when req's access decisions are no longer the
// template's (a row condition now applies): build the statement anew. A
// denial is returned as the error the build would have returned.
func (t *Template) Statement(req *Request, body *Payload) (st *Statement, ok bool, err error) {
	for _, a := range t.access {
		if req.Access == nil {
			continue
		}
		cond, err := req.Access(a.object, a.action)
		if err != nil {
			return nil, false, err
		}
		if !cond.IsEmpty() {
			return nil, false, nil
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
