package sqlgen

import (
	"github.com/plinth-dev/plinth/tenants/schema"
)

// Read builds GET/HEAD /{table}: the selected rows (with embeds) within the
// request's window, capped at MaxRows, as the negotiated body.
func Read(s *schema.Schema, table string, req *Request) (*Statement, error) {
	return read(s, table, req, nil)
}

func read(s *schema.Schema, table string, req *Request, rec *recorder) (*Statement, error) {
	t, ok := s.Table(table)
	if !ok {
		return nil, errTableNotFound(table)
	}
	b := newBuilder(s, req)
	b.rec = rec
	cond, err := b.access(t.Name, "select")
	if err != nil {
		return nil, err
	}
	root, err := b.planRoot(t, "t0", req.Query.Select, cond)
	if err != nil {
		return nil, err
	}
	r, err := b.render(root, b.qualified(t.Name)+" t0", nil, req.Range, req.MaxRows)
	if err != nil {
		return nil, err
	}
	total, err := b.countExpr(root, r)
	if err != nil {
		return nil, err
	}
	f := &final{rows: r.query(), shape: b.shapeFor(root), total: total}
	if f.shape == shapeCSV {
		f.keys = root.outputKeys()
	}
	if req.singular() {
		f.checks = append(f.checks, b.singularCheck())
	}
	return &Statement{SQL: b.finish(f), Args: b.args, ReadOnly: true}, nil
}
