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
	b, err := openapi.Build(s, openapi.Options{Ref: proj.Ref, ServerURL: openapi.ServerURL(h.d.PublicURL, proj.Ref)}).JSON()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, openapi.MediaOpenAPI+"; charset=utf-8")
	if c.Method() == fiber.MethodHead {
		return nil
	}
	return c.Send(b)
}
