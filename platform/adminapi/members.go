package adminapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/store"
)

// maxMembers bounds one PUT /members body.
const maxMembers = 1000

func (a *API) listMembers(c *fiber.Ctx) error {
	ms, err := a.d.Store.Members(c.UserContext(), project(c).Ref)
	if err != nil {
		return err
	}
	return list(c, ms, len(ms), 0, len(ms))
}

// putMembers replaces the member list: [{"email","role"}], the same shape GET
// returns (admin_id may be sent back and is ignored; the email decides).
func (a *API) putMembers(c *fiber.Ctx) error {
	var in []struct {
		AdminID string `json:"admin_id"`
		Email   string `json:"email"`
		Role    string `json:"role"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in == nil {
		return apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "Send a JSON array of {\"email\",\"role\"}")
	}
	if len(in) > maxMembers {
		return apierror.Newf(http.StatusBadRequest, apierror.CodeBadRequest, "At most %d members", maxMembers)
	}
	want := make([]store.Member, 0, len(in))
	seen := map[string]bool{}
	for i, m := range in {
		email := store.NormalizeEmail(m.Email)
		if email == "" || !strings.Contains(email, "@") {
			return apierror.Newf(http.StatusBadRequest, apierror.CodeBadRequest, "members[%d]: email is missing or invalid", i)
		}
		if !memberRoles[m.Role] {
			return apierror.Newf(http.StatusBadRequest, apierror.CodeBadRequest, "members[%d]: role must be \"owner\", \"developer\" or \"viewer\", not %q", i, m.Role)
		}
		if seen[email] {
			return apierror.Newf(http.StatusBadRequest, apierror.CodeBadRequest, "members[%d]: %s is listed twice", i, email)
		}
		seen[email] = true
		want = append(want, store.Member{Email: email, Role: m.Role})
	}
	p := project(c)
	audit := store.Audit{ProjectRef: p.Ref, Actor: caller(c).actor(), Action: "members.update", Target: p.Ref, Detail: map[string]any{"members": want}}
	out, err := a.d.Store.ReplaceMembers(c.UserContext(), p.Ref, want, audit)
	switch {
	case errors.Is(err, store.ErrUnknownAdmin):
		return apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, err.Error()).
			WithHint("Members need an admin account first: a platform admin creates one with POST /admin/v1/admins (Accounts in the dashboard).")
	case errors.Is(err, store.ErrLastOwner):
		return apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "A project keeps at least one owner")
	case errors.Is(err, store.ErrNotFound):
		return notFound("Project")
	case err != nil:
		return err
	}
	return list(c, out, len(out), 0, len(out))
}
