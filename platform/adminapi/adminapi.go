// Package adminapi serves /admin/v1: the platform's admin API used by the
// dashboard, the CLI and automation. Handlers are short: they decode, check
// the caller's rights, call the store or provisioner, and return typed errors
// that the server maps to HTTP in one place.
package adminapi

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/pool"
	"github.com/plinth-dev/plinth/tenants/provision"
	"github.com/plinth-dev/plinth/tenants/schema"
)

// Deps are the admin API's collaborators.
type Deps struct {
	Store       *store.Store
	Provisioner *provision.Provisioner
	Pools       *pool.Manager
	Schemas     *schema.Cache
	AdminToken  string
	// Invalidate drops this instance's cached copy of a project at once;
	// other instances follow the NOTIFY sent with the change.
	Invalidate       func(ref string)
	StatementTimeout time.Duration
	Log              *slog.Logger
}

// API serves /admin/v1.
type API struct{ d Deps }

// New makes an API.
func New(d Deps) *API { return &API{d: d} }

const localCaller = "plinth.admin"

// Caller is the authenticated admin.
type Caller struct {
	Admin    *store.Admin // nil for the static token
	Platform bool
}

func (c *Caller) actor() string {
	if c.Admin == nil {
		return "token"
	}
	return "admin:" + c.Admin.Email
}

func caller(c *fiber.Ctx) *Caller { return c.Locals(localCaller).(*Caller) }

// Register mounts the routes.
func (a *API) Register(r fiber.Router) {
	r.Post("/auth/token", a.token)
	r.Use(a.authenticate)
	r.Post("/auth/logout", a.logout)
	r.Get("/projects", a.listProjects)
	r.Post("/projects", a.createProject)

	p := r.Group("/projects/:ref", a.loadProject)
	p.Get("", a.requireRole(roleViewer), a.showProject)
	p.Delete("", a.requireRole(roleOwner), a.deleteProject)
	p.Get("/settings", a.requireRole(roleViewer), a.getSettings)
	p.Patch("/settings", a.requireRole(roleDeveloper), a.patchSettings)
	p.Post("/sql", a.requireRole(roleDeveloper), a.runSQL)
	p.Get("/keys", a.requireRole(roleViewer), a.listKeys)
	p.Post("/keys", a.requireRole(roleOwner), a.mintKey)
	p.Delete("/keys/:id", a.requireRole(roleOwner), a.revokeKey)
	p.Get("/audit", a.requireRole(roleViewer), a.audit)
}

func (a *API) authenticate(c *fiber.Ctx) error {
	tok, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" {
		return apierror.ErrAdminAuth
	}
	if a.d.AdminToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(a.d.AdminToken)) == 1 {
		c.Locals(localCaller, &Caller{Platform: true})
		return c.Next()
	}
	adm, err := a.d.Store.AdminBySession(c.UserContext(), tok)
	if errors.Is(err, store.ErrNotFound) {
		return apierror.ErrAdminAuth
	}
	if err != nil {
		return err
	}
	c.Locals(localCaller, &Caller{Admin: adm, Platform: adm.PlatformAdmin})
	return c.Next()
}

// decode reads a JSON body into v with a clear 400 on malformed input.
func decode(c *fiber.Ctx, v any) error {
	body := c.Body()
	if len(body) == 0 {
		return apierror.New(http.StatusBadRequest, "PGRST102", "Empty or invalid json").WithHint("Send a JSON object body.")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apierror.Newf(http.StatusBadRequest, "PGRST102", "Invalid JSON body: %s", err.Error())
	}
	return nil
}

// page reads ?limit=&offset= (default 100, max 1000).
func page(c *fiber.Ctx) (limit, offset int, err error) {
	limit, offset = 100, 0
	if v := c.Query("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 0 || limit > 1000 {
			return 0, 0, apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "limit must be an integer between 0 and 1000")
		}
	}
	if v := c.Query("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "offset must be a non-negative integer")
		}
	}
	return limit, offset, nil
}

// list answers a paged list with its total in Content-Range.
func list(c *fiber.Ctx, items any, n, offset, total int) error {
	if n == 0 {
		c.Set("Content-Range", "*/"+strconv.Itoa(total))
	} else {
		c.Set("Content-Range", strconv.Itoa(offset)+"-"+strconv.Itoa(offset+n-1)+"/"+strconv.Itoa(total))
	}
	return c.JSON(items)
}

func notFound(what string) error {
	return apierror.Newf(http.StatusNotFound, apierror.CodeNotFound, "%s not found", what)
}
