// Package principal is the caller of a project request, as the
// authentication step resolved it.
package principal

import "encoding/json"

// API roles.
const (
	Anon          = "anon"
	Authenticated = "authenticated"
	ServiceRole   = "service_role"
)

// Principal is who is calling which project.
type Principal struct {
	Ref    string
	Role   string         // anon, authenticated or service_role
	DBRole string         // the project role the request runs as
	UserID string         // set for authenticated callers
	KeyID  string         // the API key used
	Claims map[string]any // what request.jwt.claims holds
	// ClaimsText, when set, is Claims already rendered as JSON.
	ClaimsText string
}

// Anonymous reports whether the caller is not signed in (for 401 vs 403).
func (p *Principal) Anonymous() bool { return p.Role == Anon }

// ClaimsJSON renders the claims for request.jwt.claims.
func (p *Principal) ClaimsJSON() string {
	if p.ClaimsText != "" {
		return p.ClaimsText
	}
	c := p.Claims
	if c == nil {
		c = map[string]any{"role": p.Role}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "{}"
	}
	return string(b)
}
