package adminapi

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/store"
)

// /admin/v1/projects/{ref}/rest/v1/... is the project's data API (the same
// handlers as /p/{ref}/rest/v1) for signed-in admins, running as the
// project's service_role. It is what the dashboard's data browser uses: the
// service_role key is shown only once, so the dashboard cannot hold it, and
// minting keys behind the user's back would be a private back door. The
// platform policy lets viewers read and developers write; every successful
// write is audited here.
func (a *API) auditDataWrite(c *fiber.Ctx) error {
	// The data API's project middleware replaces the request context with
	// one it cancels on the way out; the audit write needs the outer one.
	ctx := c.UserContext()
	if err := c.Next(); err != nil {
		return err
	}
	if !unsafeMethod(c.Method()) || c.Response().StatusCode() >= 300 {
		return nil
	}
	p := project(c)
	rel := c.Path()
	if i := strings.Index(rel, "/rest/v1"); i >= 0 {
		rel = rel[i+len("/rest/v1"):]
	}
	audit := store.Audit{ProjectRef: p.Ref, Actor: caller(c).actor(), Action: "data." + strings.ToLower(c.Method()), Target: rel,
		Detail: map[string]any{"query": truncate(string(c.Request().URI().QueryString()), 500)}}
	return store.WriteAudit(ctx, a.d.Store.Pool, audit)
}
