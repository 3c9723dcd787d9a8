package adminapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/provision"
)

const localProject = "plinth.admin.project"

func project(c *fiber.Ctx) *store.Project { return c.Locals(localProject).(*store.Project) }

type projectJSON struct {
	Ref       string            `json:"ref"`
	Name      string            `json:"name"`
	Schema    string            `json:"schema"`
	CreatedAt time.Time         `json:"created_at"`
	APIKeys   map[string]string `json:"api_keys,omitempty"`
	YourRole  string            `json:"your_role,omitempty"`
}

func toJSON(p *store.Project) projectJSON {
	return projectJSON{Ref: p.Ref, Name: p.Name, Schema: p.Schema, CreatedAt: p.CreatedAt}
}

func (a *API) loadProject(c *fiber.Ctx) error {
	p, err := a.d.Store.Project(c.UserContext(), c.Params("ref"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Project")
	}
	if err != nil {
		return err
	}
	c.Locals(localProject, p)
	return c.Next()
}

func (a *API) listProjects(c *fiber.Ctx) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	who := caller(c)
	var member *string
	if !who.Platform {
		id := who.Admin.ID.String()
		member = &id
	}
	ps, total, err := a.d.Store.Projects(c.UserContext(), member, limit, offset)
	if err != nil {
		return err
	}
	out := make([]projectJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, toJSON(p))
	}
	return list(c, out, len(out), offset, total)
}

func (a *API) createProject(c *fiber.Ctx) error {
	var in struct {
		Ref  string `json:"ref"`
		Name string `json:"name"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if !provision.ValidRef(in.Ref) {
		return apierror.Newf(http.StatusBadRequest, apierror.CodeBadRequest, "Invalid project ref %q", in.Ref).
			WithHint("3-40 characters: lower-case letters, digits and '-', starting with a letter and not ending with '-'.")
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		in.Name = in.Ref
	}
	if len(in.Name) > 200 {
		return apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "Project name is longer than 200 characters")
	}
	who := caller(c)
	res, err := a.d.Provisioner.Create(c.UserContext(), in.Ref, in.Name, store.Audit{Actor: who.actor()}, func(tx pgx.Tx) error {
		if who.Admin == nil {
			return nil
		}
		return store.AddMember(c.UserContext(), tx, in.Ref, who.Admin.ID, "owner")
	})
	if errors.Is(err, store.ErrConflict) {
		return apierror.Newf(http.StatusConflict, apierror.CodeConflict, "Project %q already exists", in.Ref)
	}
	if err != nil {
		return err
	}
	out := toJSON(res.Project)
	out.APIKeys = map[string]string{"anon": res.AnonKey.Key, "service_role": res.ServiceKey.Key}
	return c.Status(http.StatusCreated).JSON(out)
}

// showProject also says what the caller may do here ("your_role": owner,
// developer, viewer or platform), so the dashboard can say it up front.
func (a *API) showProject(c *fiber.Ctx) error {
	out := toJSON(project(c))
	out.YourRole, _ = c.Locals(localRole).(string)
	return c.JSON(out)
}

func (a *API) deleteProject(c *fiber.Ctx) error {
	p := project(c)
	// Drop terminates the project's sessions itself; the pool goes after,
	// so one reopened by a request racing the delete is closed too.
	if err := a.d.Provisioner.Drop(c.UserContext(), p.Ref, store.Audit{Actor: caller(c).actor()}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("Project")
		}
		return err
	}
	a.d.Pools.Drop(p.Ref)
	a.d.Invalidate(p.Ref)
	return c.SendStatus(http.StatusNoContent)
}

func (a *API) audit(c *fiber.Ctx) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	items, total, err := a.d.Store.AuditLog(c.UserContext(), project(c).Ref, limit, offset)
	if err != nil {
		return err
	}
	return list(c, items, len(items), offset, total)
}
