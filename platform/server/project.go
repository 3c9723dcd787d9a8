package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/internal/lazyctx"
	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/registry"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/auth"
	"github.com/plinth-dev/plinth/tenants/principal"
	"github.com/plinth-dev/plinth/tenants/provision"
)

func projectOf(c *fiber.Ctx) *store.Project { return stateOf(c).project }

func principalOf(c *fiber.Ctx) *principal.Principal { return stateOf(c).principal }

// hostRouting maps {ref}.{PLINTH_BASE_DOMAIN}/rest/v1/... onto /p/{ref}/... .
func (s *Server) hostRouting(c *fiber.Ctx) error {
	host := strings.ToLower(c.Hostname())
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	suffix := "." + s.cfg.BaseDomain
	if ref, ok := strings.CutSuffix(host, suffix); ok && provision.ValidRef(ref) && !strings.HasPrefix(c.Path(), "/p/") {
		c.Path("/p/" + ref + c.Path())
	}
	return c.Next()
}

// loadProject resolves /p/:ref to a project (cached).
func (s *Server) loadProject(c *fiber.Ctx) error {
	// A copy: Fiber's params point into a buffer the next request reuses,
	// and the registry keeps ref as a cache key.
	ref := strings.Clone(c.Params("ref"))
	if !provision.ValidRef(ref) {
		return apierror.ErrProjectUnknown
	}
	// Every project request gets a deadline: waiting for a busy project's
	// pool or a slow statement ends in a clear 503, never a hang. It arms a
	// timer only if something has to wait (lazyctx).
	ctx, cancel := lazyctx.WithTimeout(c.UserContext(), s.cfg.StatementTimeout+2*time.Second)
	defer cancel()
	c.SetUserContext(ctx)
	p, err := s.registry.Project(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return apierror.ErrProjectUnknown
	}
	if err != nil {
		return err
	}
	stateOf(c).project = p
	return c.Next()
}

var exposedHeaders = strings.Join([]string{
	"Content-Range", "Content-Location", "Location", "Preference-Applied", "X-Request-Id",
	"RateLimit", "RateLimit-Policy", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
	"Retry-After", "X-Supabase-Api-Version",
}, ", ")

// cors applies the project's allowed origins. Preflights are answered here,
// before any key check: browsers send them without credentials.
func (s *Server) cors(c *fiber.Ctx) error {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return c.Next()
	}
	p := projectOf(c)
	allowed, wildcard := false, false
	for _, o := range p.Settings.CORSOrigins {
		if o == "*" {
			allowed, wildcard = true, true
			break
		}
		if strings.EqualFold(o, origin) {
			allowed = true
		}
	}
	c.Append(fiber.HeaderVary, "Origin")
	if allowed {
		if wildcard {
			c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
		} else {
			c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
		}
		c.Set(fiber.HeaderAccessControlExposeHeaders, exposedHeaders)
	}
	if c.Method() == fiber.MethodOptions && c.Get(fiber.HeaderAccessControlRequestMethod) != "" {
		if allowed {
			c.Set(fiber.HeaderAccessControlAllowMethods, "GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS")
			if h := c.Get(fiber.HeaderAccessControlRequestHeaders); h != "" {
				c.Set(fiber.HeaderAccessControlAllowHeaders, h)
			}
			c.Set(fiber.HeaderAccessControlMaxAge, "86400")
		}
		return c.SendStatus(http.StatusNoContent)
	}
	return c.Next()
}

// authenticate turns the apikey header (or bearer key) into a principal; a
// user's access token in Authorization: Bearer then makes it that user, as
// role authenticated with the token's claims in request.jwt.claims (so
// auth.uid() works in the project's RLS policies).
func (s *Server) authenticate(c *fiber.Ctx) error {
	if err := s.keyCheck(c); err != nil {
		return err
	}
	tok := bearerJWT(c)
	if tok == "" {
		return c.Next()
	}
	p := projectOf(c)
	v, err := s.auth.VerifyAccessToken(c.UserContext(), p, tok)
	if errors.Is(err, auth.ErrTokenExpired) || errors.Is(err, auth.ErrTokenInvalid) {
		// PostgREST's codes and its WWW-Authenticate challenge (RFC 6750).
		code, msg := "PGRST301", "Invalid JWT"
		if errors.Is(err, auth.ErrTokenExpired) {
			code, msg = "PGRST303", "JWT expired"
		}
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer error="invalid_token", error_description="`+msg+`"`)
		return apierror.New(http.StatusUnauthorized, code, msg)
	}
	if err != nil {
		return err
	}
	key := principalOf(c)
	stateOf(c).principal = &principal.Principal{
		Ref: p.Ref, Role: principal.Authenticated, DBRole: p.Schema + "_authenticated",
		UserID: v.UserID, KeyID: key.KeyID, Claims: v.Claims, ClaimsText: v.ClaimsJSON,
	}
	return c.Next()
}

// authenticateKey is the auth API's key check: the key's principal only. A
// user JWT in Authorization is the auth handlers' to judge (with GoTrue's
// answers), so an expired one can still sign out.
func (s *Server) authenticateKey(c *fiber.Ctx) error {
	if err := s.keyCheck(c); err != nil {
		return err
	}
	return c.Next()
}

// bearerJWT returns the bearer token if it is a JWT (keys have no dots).
func bearerJWT(c *fiber.Ctx) string {
	tok, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if tok = strings.TrimSpace(tok); ok && strings.Count(tok, ".") == 2 {
		return tok
	}
	return ""
}

// keyCheck sets the principal the request's API key gives. The key is
// the apikey header or, without one, a bearer token that is not a JWT.
func (s *Server) keyCheck(c *fiber.Ctx) error {
	p := projectOf(c)
	key := c.Get("apikey")
	bearer, hasBearer := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	bearer = strings.TrimSpace(bearer)
	if bearerJWT(c) != "" {
		// A user token is not a key: it only counts with the apikey header.
		hasBearer, bearer = false, ""
	}
	if key == "" && hasBearer {
		key = bearer
	}
	if key == "" {
		return apierror.ErrNoAPIKey
	}
	k, err := s.registry.Authenticate(c.UserContext(), p.Ref, key)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, registry.ErrWrongProject) {
		return apierror.ErrBadAPIKey
	}
	if err != nil {
		return err
	}
	// A second, different bearer key takes precedence, as in Supabase
	// (apikey=anon, Authorization=service key).
	if hasBearer && bearer != "" && bearer != key {
		bk, err := s.registry.Authenticate(c.UserContext(), p.Ref, bearer)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, registry.ErrWrongProject) {
			return apierror.New(http.StatusUnauthorized, "PGRST301", "Invalid bearer token")
		}
		if err != nil {
			return err
		}
		k = bk
	}
	stateOf(c).principal = s.keyPrincipal(p, k)
	return nil
}

// keyRole identifies a cached key principal.
type keyRole struct {
	key     *store.APIKey
	project *store.Project
}

// keyPrincipal returns the principal an API key gives in its project, made
// once per loaded key and project. Shared principals are read-only.
func (s *Server) keyPrincipal(p *store.Project, k *store.APIKey) *principal.Principal {
	id := keyRole{k, p}
	if pr, ok := s.keyPrincipals.Get(id); ok {
		return pr
	}
	dbRole := p.Schema + "_anon"
	if k.Role == store.RoleServiceRole {
		dbRole = p.Schema + "_owner"
	}
	pr := &principal.Principal{
		Ref: p.Ref, Role: k.Role, DBRole: dbRole, KeyID: k.ID.String(),
		Claims: map[string]any{"role": k.Role},
	}
	pr.ClaimsText = pr.ClaimsJSON()
	s.keyPrincipals.Add(id, pr)
	return pr
}
