// Package restapi serves a project's PostgREST-compatible data API at
// /p/{ref}/rest/v1. Each handler runs the request path of DESIGN.md §1:
// parse (tenants/query), plan and build SQL (tenants/sqlgen), execute on the
// project's own pool (tenants/pool), respond (response.go).
package restapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
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
	Project   func(c *fiber.Ctx) *store.Project
	Principal func(c *fiber.Ctx) *principal.Principal
	// Access returns the caller's access-rule hook for this request (nil
	// hook: no rules apply, as for service_role). Deps.Access itself may be
	// nil when rules are not wired.
	Access           func(c *fiber.Ctx) (sqlgen.Access, error)
	Schemas          *schema.Cache
	Pools            *pool.Manager
	MaxRows          int
	StatementTimeout time.Duration
	// PublicURL is PLINTH_PUBLIC_URL (the OpenAPI document's servers).
	PublicURL string
	// Timezones checks Prefer: timezone; nil ignores every timezone.
	Timezones *Timezones
	// VerifyTemplates checks every statement taken from a template
	// against a fresh build (config.VerifyTemplates).
	VerifyTemplates bool
}

// Handler serves the data API.
type Handler struct {
	d         Deps
	templates *templates
}

// New makes a Handler.
func New(d Deps) *Handler { return &Handler{d: d, templates: newTemplates(d.VerifyTemplates)} }

// Register mounts the routes on r (already scoped to /p/:ref/rest/v1 and
// behind the project, CORS and authentication middleware).
func (h *Handler) Register(r fiber.Router) {
	r.Get("/", h.openAPI)
	r.Head("/", h.openAPI)
	r.Get("/rpc/:fn", h.rpc)
	r.Head("/rpc/:fn", h.rpc)
	r.Post("/rpc/:fn", h.rpc)
	r.Get("/:table", h.read)
	r.Head("/:table", h.read)
	r.Post("/:table", h.insert)
	r.Patch("/:table", h.update)
	r.Put("/:table", h.put)
	r.Delete("/:table", h.delete)
}

// request is one data-API request on its way through the steps.
type request struct {
	c      *fiber.Ctx
	ctx    context.Context
	proj   *store.Project
	who    *principal.Principal
	schema *schema.Schema
	hdr    *query.Headers
	sql    *sqlgen.Request
	rpc    bool
}

func (r *request) isRead() bool {
	m := r.c.Method()
	return m == fiber.MethodGet || m == fiber.MethodHead
}

// begin does what every request needs before SQL: the profile check, the
// headers, the schema, the caller's rules. q is the parsed query string.
func (h *Handler) begin(c *fiber.Ctx, q *query.Query) (*request, error) {
	r := &request{c: c, ctx: c.UserContext(), proj: h.d.Project(c), who: h.d.Principal(c)}
	profile := "Content-Profile"
	if r.isRead() {
		profile = "Accept-Profile"
	}
	if err := checkProfile(c, profile, r.proj); err != nil {
		return nil, err
	}
	hdr, err := query.ParseHeaders(headers(c))
	if err != nil {
		return nil, err
	}
	if err := h.checkTimezone(r.ctx, &hdr.Prefer); err != nil {
		return nil, err
	}
	r.hdr = hdr
	if r.schema, err = h.d.Schemas.Get(r.ctx, r.proj.Ref); err != nil {
		return nil, err
	}
	var access sqlgen.Access
	if h.d.Access != nil {
		if access, err = h.d.Access(c); err != nil {
			return nil, err
		}
	}
	rng := q.RangeFor(nil)
	if r.isRead() {
		rng = (&query.Request{Query: *q, Headers: *hdr}).TopRange()
	}
	r.sql = &sqlgen.Request{
		Query: q, Range: rng, Prefer: hdr.Prefer, Media: hdr.Accept,
		NoBody: c.Method() == fiber.MethodHead, MaxRows: h.maxRows(r.proj), Access: access,
	}
	return r, nil
}

// headers adapts the request headers for the query package.
func headers(c *fiber.Ctx) query.Header {
	return query.HeaderFunc(func(name string) []string {
		raw := c.Request().Header.PeekAll(name)
		out := make([]string, len(raw))
		for i, v := range raw {
			out[i] = string(v)
		}
		return out
	})
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
	if v := c.Get(header); v == "" || v == "public" || v == p.Schema {
		return nil
	}
	return apierror.Newf(http.StatusNotAcceptable, "PGRST106", "The schema must be one of the following: public").
		WithHint("A project's API exposes only its own schema.")
}

// name is a path parameter, percent-decoded.
func name(c *fiber.Ctx, param string) (string, error) {
	n, err := url.PathUnescape(c.Params(param))
	if err != nil {
		return "", apierror.Newf(http.StatusBadRequest, "PGRST100", "invalid path: %s", err)
	}
	return n, nil
}

// run executes stmt on the project's own pool as the caller's role.
func (h *Handler) run(r *request, stmt *sqlgen.Statement) (*result, error) {
	p, err := h.d.Pools.Get(r.ctx, r.proj.Ref)
	if err != nil {
		return nil, err
	}
	var res *result
	err = pool.QueryRowFunc(r.ctx, p, pool.Session{
		Role: r.who.DBRole, Claims: r.who.ClaimsJSON(), StatementTimeout: h.d.StatementTimeout,
		Timezone: r.sql.Prefer.Timezone,
		ReadOnly: r.isRead() || stmt.ReadOnly,
		Rollback: r.sql.Prefer.Tx == query.TxRollback,
	}, stmt.SQL, stmt.Args, func(row [][]byte) error {
		var err error
		if res, err = parseResult(row); err != nil {
			return err
		}
		// Postgres built the body: it goes from the connection's buffer
		// straight into the response's. The respond step only adds
		// headers; an error after this point replaces the body.
		if !r.sql.NoBody && !stmt.Void {
			r.c.Response().SetBody(row[sqlgen.ColBody])
		}
		return nil
	})
	if err != nil {
		r.c.Response().ResetBody()
		return nil, err
	}
	return res, nil
}

func (h *Handler) read(c *fiber.Ctx) error {
	q, err := query.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return err
	}
	r, err := h.begin(c, q)
	if err != nil {
		return err
	}
	table, err := name(c, "table")
	if err != nil {
		return err
	}
	stmt, err := h.readStatement(r, table)
	if err != nil {
		return err
	}
	res, err := h.run(r, stmt)
	if err != nil {
		return err
	}
	return r.respondRows(res)
}

// write runs a POST, PATCH, PUT or DELETE built by build.
func (h *Handler) write(c *fiber.Ctx, build func(r *request, table string) (*sqlgen.Statement, error)) error {
	q, err := query.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return err
	}
	r, err := h.begin(c, q)
	if err != nil {
		return err
	}
	table, err := name(c, "table")
	if err != nil {
		return err
	}
	// The body is wanted only with return=representation.
	r.sql.NoBody = r.sql.Prefer.Return != query.ReturnRepresentation
	stmt, err := build(r, table)
	if err != nil {
		return err
	}
	res, err := h.run(r, stmt)
	if err != nil {
		return err
	}
	return r.respondWrite(res, stmt, table)
}

func (h *Handler) insert(c *fiber.Ctx) error {
	return h.write(c, func(r *request, table string) (*sqlgen.Statement, error) {
		body := c.Body()
		if isCSV(c.Get(fiber.HeaderContentType)) {
			var err error
			if body, err = query.CSVBody(body); err != nil {
				return nil, err
			}
		}
		p, err := sqlgen.ParsePayload(body, r.sql)
		if err != nil {
			return nil, err
		}
		return h.insertStatement(r, table, p)
	})
}

// isCSV reports whether a Content-Type is text/csv (parameters aside).
func isCSV(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/csv")
}

func (h *Handler) update(c *fiber.Ctx) error {
	return h.write(c, func(r *request, table string) (*sqlgen.Statement, error) {
		return sqlgen.Update(r.schema, table, r.sql, c.Body())
	})
}

func (h *Handler) put(c *fiber.Ctx) error {
	return h.write(c, func(r *request, table string) (*sqlgen.Statement, error) {
		return sqlgen.Put(r.schema, table, r.sql, c.Body())
	})
}

func (h *Handler) delete(c *fiber.Ctx) error {
	return h.write(c, func(r *request, table string) (*sqlgen.Statement, error) {
		return sqlgen.Delete(r.schema, table, r.sql)
	})
}
