package restapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/tenants/openapi"
)

// openAPI answers GET / with the project's OpenAPI 3.1 document, as
// PostgREST does at its root (DESIGN.md §5.4).
func (h *Handler) openAPI(c *fiber.Ctx) error {
	proj := h.d.Project(c)
	if err := checkProfile(c, "Accept-Profile", proj); err != nil {
		return err
	}
	s, err := h.d.Schemas.Get(c.UserContext(), proj.Ref)
	if err != nil {
		return err
	}
	o := openapi.Options{Ref: proj.Ref, ServerURL: openapi.ServerURL(h.d.PublicURL, proj.Ref)}
	if h.d.Access != nil {
		// The caller sees what its access rules let it use (service_role,
		// whose hook is nil, sees everything).
		access, err := h.d.Access(c)
		if err != nil {
			return err
		}
		if access != nil {
			o.Allow = func(object, action string) bool { _, err := access(object, action); return err == nil }
		}
	}
	b, err := openapi.Build(s, o).JSON()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, openapi.MediaOpenAPI+"; charset=utf-8")
	if c.Method() == fiber.MethodHead {
		return nil
	}
	return c.Send(b)
}
