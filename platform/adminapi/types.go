package adminapi

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/tenants/typegen"
)

// typesTypeScript answers the project's generated TypeScript Database type
// (DESIGN.md §8), read from the live schema cache.
func (a *API) typesTypeScript(c *fiber.Ctx) error {
	s, err := a.d.Schemas.Get(c.UserContext(), project(c).Ref)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/typescript; charset=utf-8")
	return c.Send(typegen.TypeScript(s))
}

// typesGo answers generated Go code; ?package=name names the package.
func (a *API) typesGo(c *fiber.Ctx) error {
	pkg := c.Query("package", typegen.DefaultGoPackage)
	if !typegen.ValidPackage(pkg) {
		return apierror.Newf(http.StatusBadRequest, apierror.CodeBadRequest, "Invalid Go package name %q", pkg).
			WithHint("Use a Go identifier such as db or models.")
	}
	s, err := a.d.Schemas.Get(c.UserContext(), project(c).Ref)
	if err != nil {
		return err
	}
	src, err := typegen.Go(s, typegen.GoOptions{Package: pkg})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/x-go; charset=utf-8")
	return c.Send(src)
}
