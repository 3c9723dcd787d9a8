package adminapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	stringadapter "github.com/casbin/casbin/v2/persist/string-adapter"
	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
)

// The platform's own access policy (DESIGN.md §4): who may call which admin
// endpoint. It uses the same engine as the projects' rules (§7) but is
// static and small, so one enforcer serves every request.
//
// Subjects are "platform" (platform admins and the static token), a
// member's project role ("owner", "developer", "viewer") on a project's
// endpoints, and "account" (any signed-in admin) elsewhere. Objects are
// paths below /admin/v1; actions are HTTP methods, matched as anchored
// regular expressions. Anything not allowed here is denied, so a new
// endpoint is platform-only until a line below grants it.
const platformModel = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && keyMatch2(r.obj, p.obj) && regexMatch(r.act, p.act)
`

const platformPolicy = `
g, platform, owner
g, owner, developer
g, developer, viewer
g, viewer, account

p, platform, /*, .*

p, account, /auth/*, ^(GET|POST|DELETE)$
p, account, /projects, ^(GET|HEAD|POST)$

p, viewer, /projects/:ref, ^(GET|HEAD)$
p, viewer, /projects/:ref/*, ^(GET|HEAD)$
p, viewer, /projects/:ref/rules/check, ^POST$

p, developer, /projects/:ref/settings, ^PATCH$
p, developer, /projects/:ref/sql, ^POST$
p, developer, /projects/:ref/tables, ^POST$
p, developer, /projects/:ref/tables/*, ^(POST|PATCH|DELETE)$
p, developer, /projects/:ref/rules, ^PUT$
p, developer, /projects/:ref/rate-limits, ^PUT$
p, developer, /projects/:ref/users, ^POST$
p, developer, /projects/:ref/users/*, ^(POST|PUT|PATCH|DELETE)$
p, developer, /projects/:ref/rest/*, ^(POST|PUT|PATCH|DELETE)$

p, owner, /projects/:ref, ^DELETE$
p, owner, /projects/:ref/*, .*
`

// policy is the compiled platform policy.
type policy struct{ e *casbin.SyncedEnforcer }

func newPolicy() (*policy, error) {
	m, err := model.NewModelFromString(platformModel)
	if err != nil {
		return nil, fmt.Errorf("platform policy model: %w", err)
	}
	e, err := casbin.NewSyncedEnforcer(m, stringadapter.NewAdapter(strings.TrimSpace(platformPolicy)))
	if err != nil {
		return nil, fmt.Errorf("platform policy: %w", err)
	}
	return &policy{e: e}, nil
}

func (p *policy) allows(subject, path, method string) (bool, error) {
	return p.e.Enforce(subject, path, method)
}

const localRole = "plinth.admin.role"

// projectRef returns the ref of a /projects/{ref}/... path ("" otherwise).
func projectRef(rel string) string {
	rest, ok := strings.CutPrefix(rel, "/projects/")
	if !ok {
		return ""
	}
	ref, _, _ := strings.Cut(rest, "/")
	return ref
}

// authorize applies the platform policy to every authenticated admin call.
// On a project's endpoints a caller who is not a member gets 404, so refs
// do not leak; a member whose role does not allow the call gets 403.
func (a *API) authorize(c *fiber.Ctx) error {
	// c.Route() is this middleware's mount, so this is the path below /admin/v1.
	rel := strings.TrimPrefix(c.Path(), strings.TrimSuffix(c.Route().Path, "/"))
	if rel == "" {
		rel = "/"
	}
	who := caller(c)
	subject := "account"
	ref := projectRef(rel)
	switch {
	case who.Platform:
		subject = "platform"
	case ref != "":
		role, err := a.d.Store.MemberRole(c.UserContext(), ref, who.Admin.ID)
		if err != nil {
			return err
		}
		if role == "" {
			return notFound("Project")
		}
		subject = role
	}
	ok, err := a.policy.allows(subject, rel, c.Method())
	if err != nil {
		return fmt.Errorf("platform policy: %w", err)
	}
	if !ok {
		if ref != "" {
			return apierror.Newf(http.StatusForbidden, apierror.CodeForbidden, "Your role in this project (%s) does not allow %s %s", subject, c.Method(), rel)
		}
		return apierror.Newf(http.StatusForbidden, apierror.CodeForbidden, "Only platform admins may call %s %s", c.Method(), rel)
	}
	c.Locals(localRole, subject)
	return c.Next()
}

// memberRoles are the roles a member can have in a project.
var memberRoles = map[string]bool{"owner": true, "developer": true, "viewer": true}
