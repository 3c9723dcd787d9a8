package adminapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/tenants/openapi"
)

// openAPI serves the project's OpenAPI document, the same one as
// GET /p/{ref}/rest/v1/ (generators call this one with an admin token).
func (a *API) openAPI(c *fiber.Ctx) error {
	p := project(c)
	s, err := a.d.Schemas.Get(c.UserContext(), p.Ref)
	if err != nil {
		return err
	}
	b, err := openapi.Build(s, openapi.Options{Ref: p.Ref, ServerURL: openapi.ServerURL(a.d.PublicURL, p.Ref)}).JSON()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(b)
}
