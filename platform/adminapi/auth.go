package adminapi

import (
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
)

const sessionTTL = 12 * time.Hour

var errBadLogin = apierror.New(http.StatusUnauthorized, apierror.CodeUnauthorized, "Invalid email or password")

func (a *API) token(c *fiber.Ctx) error {
	_, tok, err := a.signIn(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"access_token": tok, "token_type": "bearer", "expires_in": int(sessionTTL.Seconds())})
}

func (a *API) logout(c *fiber.Ctx) error {
	return a.deleteSession(c)
}
