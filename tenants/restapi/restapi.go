// Package restapi serves a project's PostgREST-compatible data API at
// /p/{ref}/rest/v1. Each handler runs the request path of DESIGN.md §1:
// parse (tenants/query), plan and build SQL (tenants/sqlgen), execute on the
// project's own pool (tenants/pool), respond.
package restapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/pool"
	"github.com/plinth-dev/plinth/tenants/principal"
	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/schema"
	"github.com/plinth-dev/plinth/tenants/sqlgen"
)

// Deps are what the data API needs from the rest of the server.
type Deps struct {
	Project          func(c *fiber.Ctx) *store.Project
	Principal        func(c *fiber.Ctx) *principal.Principal
	Schemas          *schema.Cache
	Pools            *pool.Manager
	MaxRows          int
	StatementTimeout time.Duration
}

// Handler serves the data API.
type Handler struct{ d Deps }

// New makes a Handler.
func New(d Deps) *Handler { return &Handler{d: d} }

// Register mounts the routes on r (already scoped to /p/:ref/rest/v1 and
// behind the project, CORS and authentication middleware).
func (h *Handler) Register(r fiber.Router) {
	r.Get("/:table", h.read)
	r.Head("/:table", h.read)
}

func (h *Handler) maxRows(p *store.Project) int64 {
	if p.Settings.MaxRows != nil && *p.Settings.MaxRows > 0 {
		return int64(*p.Settings.MaxRows)
	}
	return int64(h.d.MaxRows)
}

// checkProfile enforces that a request can only name its own schema:
// "public" (what supabase-js sends) or the project's schema name.
func checkProfile(c *fiber.Ctx, header string, p *store.Project) error {
	v := c.Get(header)
	if v == "" || v == "public" || v == p.Schema {
		return nil
	}
	return apierror.Newf(http.StatusNotAcceptable, "PGRST106", "The schema must be one of the following: public").
		WithHint("A project's API exposes only its own schema.")
}

func (h *Handler) read(c *fiber.Ctx) error {
	proj := h.d.Project(c)
	who := h.d.Principal(c)
	if err := checkProfile(c, "Accept-Profile", proj); err != nil {
		return err
	}
	ctx := c.UserContext()
	q, err := query.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return err
	}
	sch, err := h.d.Schemas.Get(ctx, proj.Ref)
	if err != nil {
		return err
	}
	stmt, err := sqlgen.Read(sch, c.Params("table"), q, q.RangeFor(nil), sqlgen.ReadOptions{MaxRows: h.maxRows(proj)})
	if err != nil {
		return err
	}
	row, err := h.run(ctx, proj, who, stmt)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(string(row[1]))
	rng := q.RangeFor(nil)
	c.Set("Content-Range", contentRange(rng.Offset, n, -1))
	c.Set(fiber.HeaderContentType, "application/json; charset=utf-8")
	if c.Method() == fiber.MethodHead {
		return nil
	}
	return c.Send(row[0])
}

func (h *Handler) run(ctx context.Context, proj *store.Project, who *principal.Principal, stmt *sqlgen.Statement) ([][]byte, error) {
	p, err := h.d.Pools.Get(ctx, proj.Ref)
	if err != nil {
		return nil, err
	}
	return pool.QueryRow(ctx, p, pool.Session{Role: who.DBRole, Claims: who.ClaimsJSON(), StatementTimeout: h.d.StatementTimeout}, stmt.SQL, stmt.Args...)
}

// contentRange renders PostgREST's Content-Range: "0-9/*", "*/0", "0-9/100".
func contentRange(offset int64, n int, total int64) string {
	t := "*"
	if total >= 0 {
		t = strconv.FormatInt(total, 10)
	}
	if n == 0 {
		return "*/" + t
	}
	return strconv.FormatInt(offset, 10) + "-" + strconv.FormatInt(offset+int64(n)-1, 10) + "/" + t
}
