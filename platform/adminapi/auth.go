package adminapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/password"
	"github.com/plinth-dev/plinth/platform/store"
)

const sessionTTL = 12 * time.Hour

var errBadLogin = apierror.New(http.StatusUnauthorized, apierror.CodeUnauthorized, "Invalid email or password")

func (a *API) token(c *fiber.Ctx) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	adm, err := a.d.Store.AdminByEmail(c.UserContext(), in.Email)
	if errors.Is(err, store.ErrNotFound) {
		password.VerifyDummy(in.Password) // same cost as a wrong password
		return errBadLogin
	}
	if err != nil {
		return err
	}
	if !password.Verify(in.Password, adm.PasswordHash) {
		return errBadLogin
	}
	tok := "pla_" + store.RandomString(43)
	if err := a.d.Store.CreateSession(c.UserContext(), adm.ID, tok, sessionTTL); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"access_token": tok, "token_type": "bearer", "expires_in": int(sessionTTL.Seconds())})
}

func (a *API) logout(c *fiber.Ctx) error {
	tok := strings.TrimSpace(strings.TrimPrefix(c.Get(fiber.HeaderAuthorization), "Bearer "))
	if err := a.d.Store.DeleteSession(c.UserContext(), tok); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// Member roles, ordered by what they may do.
const (
	roleViewer = iota + 1
	roleDeveloper
	roleOwner
)

var roleRank = map[string]int{"viewer": roleViewer, "developer": roleDeveloper, "owner": roleOwner}

// requireRole lets platform admins through and members whose project role is
// at least min. A non-member gets 404, so project refs do not leak.
func (a *API) requireRole(min int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		who := caller(c)
		if who.Platform {
			return c.Next()
		}
		role, err := a.d.Store.MemberRole(c.UserContext(), c.Params("ref"), who.Admin.ID)
		if err != nil {
			return err
		}
		if role == "" {
			return notFound("Project")
		}
		if roleRank[role] < min {
			return apierror.Newf(http.StatusForbidden, apierror.CodeForbidden, "Your role in this project (%s) does not allow this", role)
		}
		return c.Next()
	}
}
