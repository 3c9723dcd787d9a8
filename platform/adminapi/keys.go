package adminapi

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/store"
)

func (a *API) listKeys(c *fiber.Ctx) error {
	keys, err := a.d.Store.Keys(c.UserContext(), project(c).Ref)
	if err != nil {
		return err
	}
	return list(c, keys, len(keys), 0, len(keys))
}

func (a *API) mintKey(c *fiber.Ctx) error {
	var in struct {
		Role string `json:"role"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Role != store.RoleAnon && in.Role != store.RoleServiceRole {
		return apierror.Newf(http.StatusBadRequest, apierror.CodeBadRequest, "role must be \"anon\" or \"service_role\", not %q", in.Role)
	}
	p := project(c)
	k, err := a.d.Store.MintKey(c.UserContext(), p.Ref, in.Role, store.Audit{ProjectRef: p.Ref, Actor: caller(c).actor(), Action: "key.create", Target: in.Role})
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(k)
}

// listSigningKeys shows the project's end-user token signing keys (ids
// and dates; the JWKS has the public keys).
func (a *API) listSigningKeys(c *fiber.Ctx) error {
	keys, err := a.d.Auth.Keys().List(c.UserContext(), project(c).Ref)
	if err != nil {
		return err
	}
	return c.JSON(keys)
}

// rotateSigningKey makes a new signing key active (owner only, by the
// platform policy); {"revoke_previous": true} also invalidates every token
// the old keys signed.
func (a *API) rotateSigningKey(c *fiber.Ctx) error {
	var in struct {
		RevokePrevious bool `json:"revoke_previous"`
	}
	if len(c.Body()) > 0 {
		if err := decode(c, &in); err != nil {
			return err
		}
	}
	p := project(c)
	action := "auth.signing_key.rotate"
	if in.RevokePrevious {
		action = "auth.signing_key.rotate_revoke"
	}
	kid, err := a.d.Auth.Keys().Rotate(c.UserContext(), p.Ref, in.RevokePrevious, store.Audit{ProjectRef: p.Ref, Actor: caller(c).actor(), Action: action, Target: p.Ref})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"kid": kid, "revoked_previous": in.RevokePrevious})
}

func (a *API) revokeKey(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return notFound("Key")
	}
	p := project(c)
	err = a.d.Store.RevokeKey(c.UserContext(), p.Ref, id, store.Audit{ProjectRef: p.Ref, Actor: caller(c).actor(), Action: "key.revoke", Target: id.String()})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Key")
	}
	if err != nil {
		return err
	}
	a.d.Invalidate(p.Ref)
	return c.SendStatus(http.StatusNoContent)
}
