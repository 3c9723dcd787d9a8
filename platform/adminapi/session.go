package adminapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/password"
	"github.com/plinth-dev/plinth/platform/store"
)

// The dashboard signs in with a session cookie instead of a bearer token.
// The cookie holds an ordinary admin session token (stored hashed, like the
// bearer tokens); being HttpOnly, page scripts never see it. Because a
// browser attaches cookies by itself, every unsafe cookie-authenticated
// request must also carry X-CSRF-Token: an HMAC of the session token, which
// only a page that was given it (same origin: the sign-in response or GET
// /auth/session) can know. Bearer-token requests need no such header.
const (
	sessionCookie = "plinth_admin"
	cookiePath    = "/admin"
	csrfHeader    = "X-CSRF-Token"
)

var (
	errCSRF      = apierror.New(http.StatusForbidden, apierror.CodeForbidden, "Missing or invalid CSRF token").WithHint("Send the csrf_token from POST /admin/v1/auth/session in the X-CSRF-Token header.")
	errCrossSite = apierror.New(http.StatusForbidden, apierror.CodeForbidden, "Cross-site admin requests are refused")
)

// csrfToken binds a CSRF token to one session: stateless, and useless for
// any other session.
func csrfToken(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("plinth-csrf-v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func unsafeMethod(m string) bool {
	return m != fiber.MethodGet && m != fiber.MethodHead && m != fiber.MethodOptions
}

// crossSite reports a request a browser marked as coming from another site
// (Fetch Metadata); the admin API and dashboard are same-origin only.
func crossSite(c *fiber.Ctx) bool {
	s := c.Get("Sec-Fetch-Site")
	return s == "cross-site" || s == "same-site"
}

// cookieSession authenticates a request by its session cookie, checking
// CSRF on unsafe methods.
func (a *API) cookieSession(c *fiber.Ctx, tok string) error {
	if crossSite(c) {
		return errCrossSite
	}
	adm, err := a.d.Store.AdminBySession(c.UserContext(), tok)
	if errors.Is(err, store.ErrNotFound) {
		a.clearCookie(c)
		return apierror.ErrAdminAuth
	}
	if err != nil {
		return err
	}
	if unsafeMethod(c.Method()) && subtle.ConstantTimeCompare([]byte(c.Get(csrfHeader)), []byte(csrfToken(tok))) != 1 {
		return errCSRF
	}
	c.Locals(localCaller, &Caller{Admin: adm, Platform: adm.PlatformAdmin, session: tok})
	return c.Next()
}

type sessionJSON struct {
	Admin     *store.Admin `json:"admin,omitempty"`
	Platform  bool         `json:"platform_admin"`
	CSRFToken string       `json:"csrf_token,omitempty"`
	ExpiresIn int          `json:"expires_in,omitempty"`
}

// createSession signs in with email and password and sets the cookie.
func (a *API) createSession(c *fiber.Ctx) error {
	if crossSite(c) {
		return errCrossSite
	}
	// A JSON body cannot come from a plain HTML form, which closes login CSRF
	// (signing a victim into the attacker's account).
	if !strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) {
		return apierror.New(http.StatusUnsupportedMediaType, apierror.CodeBadRequest, "Send the credentials as application/json")
	}
	adm, tok, err := a.signIn(c)
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: tok, Path: cookiePath, MaxAge: int(sessionTTL.Seconds()),
		Expires: time.Now().Add(sessionTTL), HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Secure: a.secure(c),
	})
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(http.StatusCreated).JSON(sessionJSON{Admin: adm, Platform: adm.PlatformAdmin, CSRFToken: csrfToken(tok), ExpiresIn: int(sessionTTL.Seconds())})
}

// currentSession tells the dashboard who is signed in (and, for a cookie
// session, its CSRF token again, e.g. after a page reload).
func (a *API) currentSession(c *fiber.Ctx) error {
	who := caller(c)
	out := sessionJSON{Admin: who.Admin, Platform: who.Platform}
	if who.session != "" {
		out.CSRFToken = csrfToken(who.session)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

// deleteSession signs out: the session ends on the server, not only in the
// browser.
func (a *API) deleteSession(c *fiber.Ctx) error {
	who := caller(c)
	tok := who.session
	if tok == "" {
		tok = bearer(c)
	}
	if tok != "" && tok != a.d.AdminToken {
		if err := a.d.Store.DeleteSession(c.UserContext(), tok); err != nil {
			return err
		}
	}
	a.clearCookie(c)
	return c.SendStatus(http.StatusNoContent)
}

func (a *API) clearCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: cookiePath, MaxAge: -1, Expires: time.Unix(0, 0),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: a.secure(c)})
}

// secure reports whether the cookie must be Secure: the request came over
// https (directly or through a proxy saying so) or the public URL is https.
func (a *API) secure(c *fiber.Ctx) bool {
	return c.Protocol() == "https" || strings.HasPrefix(a.d.PublicURL, "https://")
}

// signIn checks email and password and opens a session.
func (a *API) signIn(c *fiber.Ctx) (*store.Admin, string, error) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decode(c, &in); err != nil {
		return nil, "", err
	}
	if strings.TrimSpace(in.Email) == "" || in.Password == "" {
		return nil, "", apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "email and password are required")
	}
	// Refused before the password is looked at, so a locked-out guesser
	// learns nothing more (and costs no hashing).
	if err := a.d.SignIn.check(c, in.Email); err != nil {
		return nil, "", err
	}
	adm, err := a.d.Store.AdminByEmail(c.UserContext(), in.Email)
	if errors.Is(err, store.ErrNotFound) {
		password.VerifyDummy(in.Password) // same cost as a wrong password
		a.d.SignIn.fail(c, in.Email)
		return nil, "", errBadLogin
	}
	if err != nil {
		return nil, "", err
	}
	if !password.Verify(in.Password, adm.PasswordHash) {
		a.d.SignIn.fail(c, in.Email)
		return nil, "", errBadLogin
	}
	a.d.SignIn.succeed(c, in.Email)
	tok := "pla_" + store.RandomString(43)
	if err := a.d.Store.CreateSession(c.UserContext(), adm.ID, tok, sessionTTL); err != nil {
		return nil, "", err
	}
	return adm, tok, nil
}

func bearer(c *fiber.Ctx) string {
	tok, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(tok)
}
