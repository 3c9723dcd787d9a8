package adminapi

import (
	"encoding/json"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/ratelimit"
	"github.com/plinth-dev/plinth/platform/store"
)

// rateLimitsJSON is the GET answer and the PUT body (DESIGN.md §7.4).
// "defaults" (the platform's limits for roles without rules) and "backend"
// are read-only; a PUT may echo them back and they are ignored.
type rateLimitsJSON struct {
	Rules    []ratelimit.Rule `json:"rules"`
	Defaults []ratelimit.Rule `json:"defaults"`
	Backend  string           `json:"backend"` // "redis" (global) or "memory" (this instance)
}

func (a *API) rateLimitsOf(c *fiber.Ctx, ref string) error {
	rules, err := a.d.Store.RateLimits(c.UserContext(), ref)
	if err != nil {
		return err
	}
	out := rateLimitsJSON{Rules: rules, Defaults: a.d.RateLimits.Defaults().Rules(), Backend: "memory"}
	if a.d.RateLimits.Global() {
		out.Backend = "redis"
	}
	return c.JSON(out)
}

func (a *API) getRateLimits(c *fiber.Ctx) error { return a.rateLimitsOf(c, project(c).Ref) }

// putRateLimits replaces the project's rules; "burst" defaults to "rate".
func (a *API) putRateLimits(c *fiber.Ctx) error {
	type ruleIn struct {
		Scope         string `json:"scope"`
		Role          string `json:"role"`
		Per           string `json:"per"`
		Rate          int    `json:"rate"`
		PeriodSeconds int    `json:"period_seconds"`
		Burst         *int   `json:"burst"`
	}
	var in struct {
		Rules    *[]ruleIn       `json:"rules"`
		Defaults json.RawMessage `json:"defaults"`
		Backend  json.RawMessage `json:"backend"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Rules == nil {
		return apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, `"rules" is required (an empty list removes every rule)`).
			WithHint(`{"rules":[{"role":"anon","per":"ip","rate":100,"period_seconds":1,"burst":100}]}`)
	}
	rules := make([]ratelimit.Rule, 0, len(*in.Rules))
	for _, r := range *in.Rules {
		burst := r.Rate
		if r.Burst != nil {
			burst = *r.Burst
		}
		rules = append(rules, ratelimit.Rule{Scope: r.Scope, Role: r.Role, Per: r.Per, Rate: r.Rate, PeriodSeconds: r.PeriodSeconds, Burst: burst})
	}
	if err := ratelimit.Validate(rules); err != nil {
		return err
	}
	p := project(c)
	audit := store.Audit{ProjectRef: p.Ref, Actor: caller(c).actor(), Action: "rate_limits.update", Target: p.Ref, Detail: map[string]any{"rules": rules}}
	if err := a.d.Store.ReplaceRateLimits(c.UserContext(), p.Ref, rules, audit); err != nil {
		return err
	}
	// This instance at once; the others on the NOTIFY sent with the change.
	a.d.RateLimits.Invalidate(p.Ref)
	return a.rateLimitsOf(c, p.Ref)
}
