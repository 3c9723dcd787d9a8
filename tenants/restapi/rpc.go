package restapi

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/sqlgen"
)

// rpc serves GET/HEAD/POST /rpc/{fn}.
func (h *Handler) rpc(c *fiber.Ctx) error {
	fn, err := name(c, "fn")
	if err != nil {
		return err
	}
	in := sqlgen.CallInput{Get: c.Method() != fiber.MethodPost}
	raw := string(c.Request().URI().QueryString())
	var q *query.Query
	if in.Get {
		// Which keys are arguments depends on the function's parameters.
		sch, err := h.d.Schemas.Get(c.UserContext(), h.d.Project(c).Ref)
		if err != nil {
			return err
		}
		if q, in.Args, err = query.ParseRPC(raw, sqlgen.IsArg(sch, fn)); err != nil {
			return err
		}
	} else if q, err = query.ParseQuery(raw); err != nil {
		return err
	}
	r, err := h.begin(c, q)
	if err != nil {
		return err
	}
	r.rpc = true
	if !in.Get {
		in.Body = c.Body()
		in.SingleObject = slices.Contains(r.hdr.Prefer.Invalid, "params=single-object")
	}
	stmt, err := sqlgen.Call(r.schema, fn, r.sql, in)
	if err != nil {
		return err
	}
	res, err := h.run(r, stmt)
	if err != nil {
		return err
	}
	if stmt.Void {
		r.setPreferenceApplied()
		return c.SendStatus(fiber.StatusNoContent)
	}
	return r.respondRows(res)
}
