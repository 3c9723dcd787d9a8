package adminapi

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/password"
	"github.com/plinth-dev/plinth/platform/store"
)

// minAdminPassword is the shortest admin password accepted.
const minAdminPassword = 10

// /admins manages admin accounts; the platform policy leaves it to platform
// admins (no line grants it to members). Members of projects need an
// account before an owner can add them.
func (a *API) listAdmins(c *fiber.Ctx) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	items, total, err := a.d.Store.Admins(c.UserContext(), limit, offset)
	if err != nil {
		return err
	}
	return list(c, items, len(items), offset, total)
}

func (a *API) createAdmin(c *fiber.Ctx) error {
	var in struct {
		Email         string `json:"email"`
		Password      string `json:"password"`
		PlatformAdmin bool   `json:"platform_admin"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	email := store.NormalizeEmail(in.Email)
	if at := strings.IndexByte(email, '@'); at < 1 || at == len(email)-1 || len(email) > 320 || strings.ContainsAny(email, " \t\r\n") {
		return apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "email is missing or invalid")
	}
	if utf8.RuneCountInString(in.Password) < minAdminPassword || len(in.Password) > password.MaxLength {
		return apierror.Newf(http.StatusBadRequest, apierror.CodeBadRequest, "password must be %d to %d characters", minAdminPassword, password.MaxLength)
	}
	h, err := password.Hash(in.Password, password.Default)
	if err != nil {
		return err
	}
	adm, err := a.d.Store.CreateAdmin(c.UserContext(), email, h, in.PlatformAdmin)
	if errors.Is(err, store.ErrConflict) {
		return apierror.Newf(http.StatusConflict, apierror.CodeConflict, "An admin account %s already exists", email)
	}
	if err != nil {
		return err
	}
	audit := store.Audit{Actor: caller(c).actor(), Action: "admin.create", Target: email, Detail: map[string]any{"platform_admin": in.PlatformAdmin}}
	if err := store.WriteAudit(c.UserContext(), a.d.Store.Pool, audit); err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(adm)
}
