package adminapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/authz"
	"github.com/plinth-dev/plinth/platform/store"
)

// getRules answers the project's policies and role inheritance (DESIGN.md §7.3).
func (a *API) getRules(c *fiber.Ctx) error {
	rs, err := a.d.Rules.RuleSet(c.UserContext(), project(c).Ref)
	if err != nil {
		return err
	}
	return c.JSON(rs)
}

// putRules replaces policies and role inheritance after checking them
// against the live schema; user role assignments stay.
func (a *API) putRules(c *fiber.Ctx) error {
	var in authz.RuleSet
	if err := decode(c, &in); err != nil {
		return err
	}
	p := project(c)
	ctx := c.UserContext()
	sch, err := a.d.Schemas.Get(ctx, p.Ref)
	if err != nil {
		return err
	}
	rs, err := authz.Validate(in, sch)
	if err != nil {
		return err
	}
	audit := store.Audit{ProjectRef: p.Ref, Actor: caller(c).actor(), Action: "rules.update", Target: p.Ref, Detail: rs}
	if err := a.d.Rules.Replace(ctx, p.Ref, rs, audit); err != nil {
		return err
	}
	return c.JSON(rs)
}

// checkRule explains whether a role or user may do something, and why.
func (a *API) checkRule(c *fiber.Ctx) error {
	var in authz.CheckRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	res, err := a.d.Rules.Check(c.UserContext(), project(c).Ref, in)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// putUserRoles replaces the custom roles of an end user.
func (a *API) putUserRoles(c *fiber.Ctx) error {
	id, err := authz.ParseUserID(c.Params("id"))
	if err != nil {
		return err
	}
	var in struct {
		Roles []string `json:"roles"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Roles == nil {
		in.Roles = []string{}
	}
	p := project(c)
	// A typo'd id must not silently get roles: the user has to exist.
	if a.d.Auth != nil {
		if _, err := a.d.Auth.GetUserByID(c.UserContext(), p, id); err != nil {
			return userError(err)
		}
	}
	audit := store.Audit{ProjectRef: p.Ref, Actor: caller(c).actor(), Action: "user.roles", Target: id, Detail: map[string]any{"roles": in.Roles}}
	roles, err := a.d.Rules.SetUserRoles(c.UserContext(), p.Ref, id, in.Roles, audit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"user_id": id, "roles": roles})
}
