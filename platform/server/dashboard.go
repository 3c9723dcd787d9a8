package server

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/dashboard"
	"github.com/plinth-dev/plinth/tenants/principal"
)

// mountDashboard serves the admin app at /dashboard/ (same origin as the
// admin API it calls) and sends / there.
func (s *Server) mountDashboard(app *fiber.App) {
	h, err := dashboard.New("/dashboard")
	if err != nil {
		// The binary still serves every API; only the UI is missing.
		s.log.Error("dashboard unavailable", "err", err)
		return
	}
	h.Register(app)
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/dashboard/", http.StatusFound) })
}

// asServiceRole makes the admin API's data proxy (/admin/v1/projects/{ref}/
// rest/v1) run as the project's service_role: the admin is already
// authenticated and authorized by the platform policy.
func asServiceRole(c *fiber.Ctx) error {
	p := projectOf(c)
	stateOf(c).principal = &principal.Principal{
		Ref: p.Ref, Role: principal.ServiceRole, DBRole: p.Schema + "_owner",
		Claims: map[string]any{"role": principal.ServiceRole},
	}
	return c.Next()
}
