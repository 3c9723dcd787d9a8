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
	"github.com/plinth-dev/plinth/platform/authz"
	"github.com/plinth-dev/plinth/platform/ratelimit"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/platform/usage"
	"github.com/plinth-dev/plinth/tenants/auth"
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
	PublicURL        string // PLINTH_PUBLIC_URL, for the OpenAPI document's server
	Log              *slog.Logger
	// DataAPI mounts the project's data API handlers on r, running as the
	// project's service_role (the dashboard's data browser); nil leaves
	// /projects/{ref}/rest/v1 unmounted.
	DataAPI func(r fiber.Router)
	// RateLimits validates, shows and invalidates rate-limit rules; Usage
	// serves the per-minute request counts.
	RateLimits *ratelimit.Limiter
	Usage      *usage.Counter
	// Rules stores, validates and explains the projects' access rules.
	Rules *authz.Engine
	// Auth manages the projects' end users (users.go).
	Auth *auth.Service
	// SignIn counts failed admin sign-ins (lockout.go); nil counts in
	// memory on this instance only.
	SignIn *Lockout
}

// API serves /admin/v1.
type API struct {
	d      Deps
	policy *policy
}

// New makes an API. The platform policy is static text, so failing to
// compile it is a programming error caught by every test.
func New(d Deps) *API {
	p, err := newPolicy()
	if err != nil {
		panic(err)
	}
	if d.SignIn == nil {
		d.SignIn = NewLockout(nil, "", nil)
	}
	return &API{d: d, policy: p}
}

const localCaller = "plinth.admin"

// Caller is the authenticated admin.
type Caller struct {
	Admin    *store.Admin // nil for the static token
	Platform bool
	session  string // the cookie session's token, for CSRF and sign-out
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
	r.Post("/auth/session", a.createSession)
	// Every route below is authenticated and then checked against the
	// platform policy (policy.go), which decides who may call what.
	r.Use(a.authenticate, a.authorize)
	r.Post("/auth/logout", a.logout)
	r.Get("/auth/session", a.currentSession)
	r.Delete("/auth/session", a.deleteSession)
	r.Get("/admins", a.listAdmins)
	r.Post("/admins", a.createAdmin)
	r.Get("/projects", a.listProjects)
	r.Post("/projects", a.createProject)

	p := r.Group("/projects/:ref", a.loadProject)
	p.Get("", a.showProject)
	p.Delete("", a.deleteProject)
	p.Get("/settings", a.getSettings)
	p.Patch("/settings", a.patchSettings)
	p.Post("/sql", a.runSQL)
	p.Get("/keys", a.listKeys)
	p.Post("/keys", a.mintKey)
	p.Delete("/keys/:id", a.revokeKey)
	p.Get("/auth/signing-keys", a.listSigningKeys)
	p.Post("/auth/signing-keys/rotate", a.rotateSigningKey)
	p.Get("/audit", a.audit)
	p.Get("/openapi.json", a.openAPI)
	p.Get("/types/typescript", a.typesTypeScript)
	p.Get("/types/go", a.typesGo)
	p.Get("/tables", a.listTables)
	p.Post("/tables", a.createTable)
	p.Get("/tables/:name", a.showTable)
	p.Patch("/tables/:name", a.alterTable)
	p.Delete("/tables/:name", a.dropTable)
	p.Get("/members", a.listMembers)
	p.Put("/members", a.putMembers)
	p.Get("/rate-limits", a.getRateLimits)
	p.Put("/rate-limits", a.putRateLimits)
	p.Get("/usage", a.getUsage)
	p.Get("/rules", a.getRules)
	p.Put("/rules", a.putRules)
	p.Post("/rules/check", a.checkRule)
	p.Get("/users", a.listUsers)
	p.Post("/users", a.createUser)
	p.Delete("/users/:id", a.deleteUser)
	p.Put("/users/:id/roles", a.putUserRoles)
	if a.d.DataAPI != nil {
		a.d.DataAPI(p.Group("/rest/v1", a.auditDataWrite))
	}
}

func (a *API) authenticate(c *fiber.Ctx) error {
	tok := bearer(c)
	if tok == "" {
		// No bearer token: the dashboard's session cookie, if any.
		if ck := c.Cookies(sessionCookie); ck != "" {
			return a.cookieSession(c, ck)
		}
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
