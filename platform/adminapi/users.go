package adminapi

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/auth"
)

// End users of a project (tenants/auth), for the dashboard and the CLI:
// GET /projects/{ref}/users?limit=&offset=&email= (newest first; email is
// a case-insensitive substring), POST /projects/{ref}/users, DELETE
// /projects/{ref}/users/{id}. Users are rendered as GoTrue renders them.

func (a *API) listUsers(c *fiber.Ctx) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	users, total, err := a.d.Auth.ListUsers(c.UserContext(), project(c), c.Query("email"), limit, offset)
	if err != nil {
		return userError(err)
	}
	return list(c, users, len(users), offset, total)
}

// createUser takes {"email","password","email_confirm","user_metadata",
// "app_metadata"}; email_confirm defaults to the project's auto_confirm.
func (a *API) createUser(c *fiber.Ctx) error {
	var in auth.AdminUserInput
	if err := decode(c, &in); err != nil {
		return err
	}
	p := project(c)
	u, err := a.d.Auth.CreateUser(c.UserContext(), p, in.Create())
	if err != nil {
		return userError(err)
	}
	if err := store.WriteAudit(c.UserContext(), a.d.Store.Pool, store.Audit{ProjectRef: p.Ref, Actor: caller(c).actor(),
		Action: "user.create", Target: u.ID.String(), Detail: map[string]any{"email": u.Email}}); err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(u)
}

func (a *API) deleteUser(c *fiber.Ctx) error {
	p := project(c)
	id := c.Params("id")
	if err := a.d.Auth.DeleteUser(c.UserContext(), p, id); err != nil {
		return userError(err)
	}
	if err := store.WriteAudit(c.UserContext(), a.d.Store.Pool, store.Audit{ProjectRef: p.Ref, Actor: caller(c).actor(),
		Action: "user.delete", Target: id}); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// userError turns the auth service's GoTrue-coded client errors into the
// admin API's own codes; the message stays.
func userError(err error) error {
	var ae *apierror.Error
	if !errors.As(err, &ae) || ae.Status >= 500 {
		return err
	}
	status, code := http.StatusBadRequest, apierror.CodeBadRequest
	switch ae.Code {
	case auth.CodeEmailExists, auth.CodeUserAlreadyExists, auth.CodeConflict:
		status, code = http.StatusConflict, apierror.CodeConflict
	case auth.CodeUserNotFound:
		status, code = http.StatusNotFound, apierror.CodeNotFound
	}
	out := apierror.New(status, code, ae.Message)
	if d, ok := ae.Details.(string); ok {
		out = out.WithDetails(d)
	}
	return out
}
