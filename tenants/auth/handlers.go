package auth

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/principal"
)

// Deps are what the HTTP layer needs from the server.
type Deps struct {
	Service *Service
	Project func(c *fiber.Ctx) *store.Project
	// Principal is the caller as its API key made it (set by Guard).
	Principal func(c *fiber.Ctx) *principal.Principal
	// Guard runs before every route but the JWKS: the project's API key
	// check (apikey header, or a bearer key; a user JWT in Authorization
	// is left to these handlers), then the rate limiter, which gives
	// sign-up, sign-in and refresh their own per-IP limits.
	Guard []fiber.Handler
}

// Handler serves /p/{ref}/auth/v1.
type Handler struct{ d Deps }

// NewHandler makes a Handler.
func NewHandler(d Deps) *Handler { return &Handler{d: d} }

// Register mounts the routes on r (scoped to /p/:ref/auth/v1, behind the
// project and CORS middleware). The JWKS is public, as GoTrue's: verifiers
// elsewhere fetch it without a key.
func (h *Handler) Register(r fiber.Router) {
	r.Use(apiVersion)
	r.Get("/.well-known/jwks.json", h.jwks)
	r.Get("/jwks", h.jwks)
	guarded := func(hs ...fiber.Handler) []fiber.Handler {
		return append(append([]fiber.Handler{}, h.d.Guard...), hs...)
	}
	r.Get("/settings", guarded(h.settings)...)
	r.Post("/signup", guarded(h.signup)...)
	r.Post("/token", guarded(h.token)...)
	r.Get("/user", guarded(h.getUser)...)
	r.Put("/user", guarded(h.putUser)...)
	r.Post("/logout", guarded(h.logout)...)
	r.Get("/admin/users", guarded(h.requireServiceRole, h.adminList)...)
	r.Post("/admin/users", guarded(h.requireServiceRole, h.adminCreate)...)
	r.Get("/admin/users/:id", guarded(h.requireServiceRole, h.adminGet)...)
	r.Put("/admin/users/:id", guarded(h.requireServiceRole, h.adminUpdate)...)
	r.Delete("/admin/users/:id", guarded(h.requireServiceRole, h.adminDelete)...)
}

const apiVersionHeader = "X-Supabase-Api-Version"

// apiVersion echoes X-Supabase-Api-Version as GoTrue does: a request naming
// 2024-01-01 or later is answered as version 2024-01-01, the only one there
// is; auth-js then reads error codes from "code".
func apiVersion(c *fiber.Ctx) error {
	if v := c.Get(apiVersionHeader); v != "" {
		if t, err := time.Parse("2006-01-02", v); err == nil && !t.Before(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) {
			c.Set(apiVersionHeader, "2024-01-01")
		}
	}
	return c.Next()
}

// decodeBody reads a JSON object body. Unknown fields are ignored: auth-js
// sends some (gotrue_meta_security, code_challenge) that do not apply.
func decodeBody(c *fiber.Ctx, v any) error {
	if err := json.Unmarshal(c.Body(), v); err != nil {
		return apierror.Newf(http.StatusBadRequest, CodeBadJSON, "Could not parse request body as JSON: %s", err.Error())
	}
	return nil
}

func bearerToken(c *fiber.Ctx) string {
	tok, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(tok)
}

func userAgent(c *fiber.Ctx) string {
	ua := c.Get(fiber.HeaderUserAgent)
	if len(ua) > 512 {
		ua = ua[:512]
	}
	return ua
}

func (h *Handler) jwks(c *fiber.Ctx) error {
	keys, err := h.d.Service.JWKS(c.UserContext(), h.d.Project(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=600")
	return c.JSON(fiber.Map{"keys": keys})
}

// settings is GoTrue's /settings: which providers exist and how sign-up
// behaves (auth-js and the Supabase UI libraries read it).
func (h *Handler) settings(c *fiber.Ctx) error {
	st := SettingsOf(h.d.Project(c))
	external := fiber.Map{"email": true, "phone": false, "anonymous_users": st.AnonymousSignIns}
	for _, p := range []string{"apple", "azure", "bitbucket", "discord", "facebook", "figma", "github", "gitlab", "google",
		"keycloak", "kakao", "linkedin", "linkedin_oidc", "notion", "spotify", "slack", "slack_oidc", "workos", "twitch", "twitter", "zoom"} {
		external[p] = false
	}
	return c.JSON(fiber.Map{
		"external": external, "disable_signup": !st.AllowSignup, "mailer_autoconfirm": st.AutoConfirm,
		"phone_autoconfirm": false, "sms_provider": "", "saml_enabled": false,
	})
}

func (h *Handler) signup(c *fiber.Ctx) error {
	var in struct {
		Email    string         `json:"email"`
		Phone    string         `json:"phone"`
		Password string         `json:"password"`
		Data     map[string]any `json:"data"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	sess, user, err := h.d.Service.SignUp(c.UserContext(), h.d.Project(c), SignUpInput{
		Email: in.Email, Phone: in.Phone, Password: in.Password, Data: in.Data, UserAgent: userAgent(c),
	})
	if err != nil {
		return err
	}
	if sess != nil {
		return c.JSON(sess)
	}
	// Confirmation required: GoTrue answers with the user and no session.
	return c.JSON(user)
}

func (h *Handler) token(c *fiber.Ctx) error {
	p := h.d.Project(c)
	switch gt := c.Query("grant_type"); gt {
	case "password":
		var in struct {
			Email    string `json:"email"`
			Phone    string `json:"phone"`
			Password string `json:"password"`
		}
		if err := decodeBody(c, &in); err != nil {
			return err
		}
		sess, err := h.d.Service.SignIn(c.UserContext(), p, in.Email, in.Phone, in.Password, userAgent(c))
		if err != nil {
			return err
		}
		return c.JSON(sess)
	case "refresh_token":
		var in struct {
			RefreshToken string `json:"refresh_token"`
		}
		if err := decodeBody(c, &in); err != nil {
			return err
		}
		sess, err := h.d.Service.Refresh(c.UserContext(), p, in.RefreshToken, userAgent(c))
		if err != nil {
			return err
		}
		return c.JSON(sess)
	default:
		return apierror.Newf(http.StatusBadRequest, CodeUnsupportedGrantType, "Unsupported grant_type %q (this server supports password and refresh_token)", gt)
	}
}

func (h *Handler) getUser(c *fiber.Ctx) error {
	u, err := h.d.Service.GetUser(c.UserContext(), h.d.Project(c), bearerToken(c))
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (h *Handler) putUser(c *fiber.Ctx) error {
	var in struct {
		Email    *string        `json:"email"`
		Phone    *string        `json:"phone"`
		Password *string        `json:"password"`
		Data     map[string]any `json:"data"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	u, err := h.d.Service.UpdateUser(c.UserContext(), h.d.Project(c), bearerToken(c), UpdateInput{
		Email: in.Email, Phone: in.Phone, Password: in.Password, Data: in.Data,
	})
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (h *Handler) logout(c *fiber.Ctx) error {
	if err := h.d.Service.Logout(c.UserContext(), h.d.Project(c), bearerToken(c), c.Query("scope")); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// requireServiceRole guards /admin: only the project's secret key, as
// GoTrue allows only a service_role JWT there.
func (h *Handler) requireServiceRole(c *fiber.Ctx) error {
	if who := h.d.Principal(c); who == nil || who.Role != principal.ServiceRole {
		return apierror.New(http.StatusForbidden, CodeNotAdmin, "User not allowed").
			WithHint("The auth admin API needs the project's service_role key.")
	}
	return c.Next()
}

// adminList is GET /admin/users?page=&per_page=, GoTrue's shape: an object
// with the users, X-Total-Count and a Link header with the next and last
// pages (auth-js's listUsers reads both).
func (h *Handler) adminList(c *fiber.Ctx) error {
	page, perPage := 1, 50
	for _, q := range []struct {
		name string
		v    *int
		max  int
	}{{"page", &page, 1 << 30}, {"per_page", &perPage, 1000}} {
		if s := c.Query(q.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > q.max {
				return apierror.Newf(http.StatusBadRequest, CodeValidationFailed, "Bad Pagination Parameters: %s must be an integer from 1 to %d", q.name, q.max)
			}
			*q.v = n
		}
	}
	users, total, err := h.d.Service.ListUsers(c.UserContext(), h.d.Project(c), c.Query("filter"), perPage, (page-1)*perPage)
	if err != nil {
		return err
	}
	c.Set("X-Total-Count", strconv.Itoa(total))
	last := (total + perPage - 1) / perPage
	var links []string
	if page < last {
		links = append(links, `</admin/users?page=`+strconv.Itoa(page+1)+`&per_page=`+strconv.Itoa(perPage)+`>; rel="next"`)
	}
	if last > 0 {
		links = append(links, `</admin/users?page=`+strconv.Itoa(last)+`&per_page=`+strconv.Itoa(perPage)+`>; rel="last"`)
	}
	if len(links) > 0 {
		c.Set("Link", strings.Join(links, ", "))
	}
	return c.JSON(fiber.Map{"users": users, "aud": Audience})
}

// AdminUserInput is the body that creates a user (GoTrue's AdminUserParams,
// the fields that apply).
type AdminUserInput struct {
	Email        string         `json:"email"`
	Phone        string         `json:"phone"`
	Password     string         `json:"password"`
	EmailConfirm *bool          `json:"email_confirm"`
	UserMetadata map[string]any `json:"user_metadata"`
	AppMetadata  map[string]any `json:"app_metadata"`
}

// Create converts the body to the service's input.
func (in AdminUserInput) Create() AdminCreateInput {
	return AdminCreateInput(in)
}

func (h *Handler) adminCreate(c *fiber.Ctx) error {
	var in AdminUserInput
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	u, err := h.d.Service.CreateUser(c.UserContext(), h.d.Project(c), in.Create())
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (h *Handler) adminGet(c *fiber.Ctx) error {
	u, err := h.d.Service.GetUserByID(c.UserContext(), h.d.Project(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(u)
}

// adminUpdate is PUT /admin/users/{id} (auth.admin.updateUserById).
func (h *Handler) adminUpdate(c *fiber.Ctx) error {
	var in struct {
		Email        *string        `json:"email"`
		Phone        *string        `json:"phone"`
		Password     *string        `json:"password"`
		EmailConfirm *bool          `json:"email_confirm"`
		UserMetadata map[string]any `json:"user_metadata"`
		AppMetadata  map[string]any `json:"app_metadata"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	u, err := h.d.Service.UpdateUserByID(c.UserContext(), h.d.Project(c), c.Params("id"), AdminUpdateInput(in))
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (h *Handler) adminDelete(c *fiber.Ctx) error {
	if err := h.d.Service.DeleteUser(c.UserContext(), h.d.Project(c), c.Params("id")); err != nil {
		return err
	}
	return c.JSON(fiber.Map{})
}
