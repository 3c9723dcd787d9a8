package ratelimit

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/config"
	"github.com/plinth-dev/plinth/platform/store"
)

// Rule is one project rule as the admin API reads and writes it.
type Rule = store.RateLimitRule

// Scopes: which requests a rule covers. ScopeAPI is every data and auth
// request; the others are the auth endpoints with their own per-IP defaults.
const (
	ScopeAPI     = ""
	ScopeSignin  = "signin"  // POST /signup, POST /token?grant_type=password (and other sign-in grants)
	ScopeRefresh = "refresh" // POST /token?grant_type=refresh_token
	ScopeOTP     = "otp"     // /otp, /magiclink, /verify, /recover, /resend, /reauthenticate
)

// Dimensions a rule counts by.
const (
	PerIP   = "ip"   // client address (IPv6: its /64)
	PerUser = "user" // signed-in user; the client IP for callers without one
	PerKey  = "key"  // the API key used
)

// AnyRole in a rule matches every caller.
const AnyRole = "*"

// MaxRules bounds a project's rule list: each matching rule costs a Redis
// round trip per request.
const MaxRules = 50

var rolePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// Defaults are the platform's limits for projects without rules of their
// own (PLINTH_RATE_LIMIT_*). A zero RateSpec disables one.
type Defaults struct {
	API     config.RateSpec // per API key, every data/auth request
	Signin  config.RateSpec // per client IP
	Refresh config.RateSpec // per client IP
	OTP     config.RateSpec // per client IP
}

// DefaultsFrom reads the defaults from the config.
func DefaultsFrom(c config.Config) Defaults {
	return Defaults{API: c.RateLimitDefault, Signin: c.RateLimitSignin, Refresh: c.RateLimitRefresh, OTP: c.RateLimitOTP}
}

// Rules lists the defaults in the admin API's rule shape (for display).
func (d Defaults) Rules() []Rule {
	out := []Rule{}
	for _, p := range d.policies() {
		out = append(out, Rule{Scope: p.Scope, Role: AnyRole, Per: p.Per, Rate: p.Limit.Rate,
			PeriodSeconds: int(p.Limit.Period / time.Second), Burst: p.Limit.Burst})
	}
	return out
}

func (d Defaults) policies() []Policy {
	var out []Policy
	add := func(name, scope, per string, r config.RateSpec) {
		if !r.Off() {
			out = append(out, Policy{Name: name, Scope: scope, Role: AnyRole, Per: per, Default: true,
				Limit: Limit{Rate: r.Rate, Period: r.Period, Burst: r.Burst}}.rendered())
		}
	}
	add("default", ScopeAPI, PerKey, d.API)
	add("signin", ScopeSignin, PerIP, d.Signin)
	add("refresh", ScopeRefresh, PerIP, d.Refresh)
	add("otp", ScopeOTP, PerIP, d.OTP)
	return out
}

// Policy is a rule ready to apply, with the name the RateLimit headers use.
type Policy struct {
	Name    string
	Scope   string
	Role    string
	Per     string
	Default bool // a platform default, not a project rule
	Limit   Limit

	// Header text that never changes, rendered once when rules are
	// compiled: the name as a structured-field string, its
	// RateLimit-Policy item, and the limit as X-RateLimit-Limit.
	sfName, item, limit string
}

// rendered fills in the policy's fixed header text.
func (p Policy) rendered() Policy {
	p.sfName = sfString(p.Name)
	p.item = p.sfName + ";q=" + strconv.Itoa(p.Limit.Rate) + ";w=" + strconv.Itoa(int(p.Limit.Period/time.Second))
	p.limit = strconv.Itoa(p.Limit.Rate)
	return p
}

func (p Policy) matches(scope, role string) bool {
	return p.Scope == scope && (p.Role == AnyRole || p.Role == role)
}

// ruleSet is one project's compiled rules plus the platform defaults.
type ruleSet struct {
	rules    []Policy
	defaults []Policy

	// What forRequest answered, per scope and role (a handful of each).
	mu   sync.RWMutex
	memo map[scopeRole][]Policy
}

type scopeRole struct{ scope, role string }

// maxMemo bounds the memo (roles come from tokens; a few are expected).
const maxMemo = 64

func compile(rules []Rule, d Defaults) *ruleSet {
	rs := &ruleSet{defaults: d.policies(), memo: map[scopeRole][]Policy{}}
	for _, r := range rules {
		rs.rules = append(rs.rules, Policy{Name: policyName(r, rules), Scope: r.Scope, Role: r.Role, Per: r.Per,
			Limit: Limit{Rate: r.Rate, Period: time.Duration(r.PeriodSeconds) * time.Second, Burst: r.Burst}}.rendered())
	}
	return rs
}

// policyName names a rule after its role ("anon"; "*" is "all"), prefixed
// by its scope ("signin.anon") and suffixed by its dimension when another
// rule has the same scope and role ("anon.ip", "anon.key").
func policyName(r Rule, all []Rule) string {
	name := r.Role
	if name == AnyRole {
		name = "all"
	}
	if r.Scope != ScopeAPI {
		name = r.Scope + "." + name
	}
	for _, o := range all {
		if o.Scope == r.Scope && o.Role == r.Role && o.Per != r.Per {
			return name + "." + r.Per
		}
	}
	return name
}

// forRequest returns the policies for a request: the project's rules for the
// caller's role, or else the platform default, on every request; and for an
// auth scope also the project's rules for that scope, or else its default.
// The slice is shared: callers must not change it.
func (rs *ruleSet) forRequest(scope, role string) []Policy {
	k := scopeRole{scope, role}
	rs.mu.RLock()
	out, ok := rs.memo[k]
	rs.mu.RUnlock()
	if ok {
		return out
	}
	out = rs.pick(nil, ScopeAPI, role)
	if scope != ScopeAPI {
		out = rs.pick(out, scope, role)
	}
	rs.mu.Lock()
	if len(rs.memo) < maxMemo {
		// The key outlives the request: its strings may not.
		rs.memo[scopeRole{strings.Clone(scope), strings.Clone(role)}] = out
	}
	rs.mu.Unlock()
	return out
}

func (rs *ruleSet) pick(out []Policy, scope, role string) []Policy {
	n := len(out)
	for _, p := range rs.rules {
		if p.matches(scope, role) {
			out = append(out, p)
		}
	}
	if len(out) == n {
		for _, p := range rs.defaults {
			if p.Scope == scope {
				out = append(out, p)
			}
		}
	}
	return out
}

// ValidationError is a rule the admin API refuses (400).
type ValidationError struct {
	Index   int
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Index < 0 {
		return e.Message
	}
	return fmt.Sprintf("rules[%d].%s %s", e.Index, e.Field, e.Message)
}

// Status implements apierror.ClientError.
func (e *ValidationError) Status() int { return http.StatusBadRequest }

// Fields implements apierror.ClientError.
func (e *ValidationError) Fields() (code, message, details, hint string) {
	return apierror.CodeBadRequest, e.Error(), "", `A rule is {"scope":"" | "signin" | "refresh" | "otp", "role":"anon" | "authenticated" | "service_role" | "*" | a custom role, "per":"ip" | "user" | "key", "rate":N, "period_seconds":N, "burst":N}.`
}

// Validate checks a project's rules: known scopes, roles and dimensions,
// positive numbers within sane maxima, no two rules for the same scope, role
// and dimension.
func Validate(rules []Rule) error {
	if len(rules) > MaxRules {
		return &ValidationError{Index: -1, Message: fmt.Sprintf("at most %d rules per project", MaxRules)}
	}
	seen := map[[3]string]int{}
	for i, r := range rules {
		bad := func(field, format string, args ...any) error {
			return &ValidationError{Index: i, Field: field, Message: fmt.Sprintf(format, args...)}
		}
		switch r.Scope {
		case ScopeAPI, ScopeSignin, ScopeRefresh, ScopeOTP:
		default:
			return bad("scope", `must be "" (every request), "signin", "refresh" or "otp", got %q`, r.Scope)
		}
		if r.Role != AnyRole && !rolePattern.MatchString(r.Role) {
			return bad("role", `must be "anon", "authenticated", "service_role", "*" or a custom role name (lowercase letters, digits, _ and -, starting with a letter, at most 40), got %q`, r.Role)
		}
		switch r.Per {
		case PerIP, PerUser, PerKey:
		default:
			return bad("per", `must be "ip", "user" or "key", got %q`, r.Per)
		}
		if r.Rate < 1 || r.Rate > config.MaxRate {
			return bad("rate", "must be an integer from 1 to %d, got %d", config.MaxRate, r.Rate)
		}
		if max := int(config.MaxPeriod / time.Second); r.PeriodSeconds < 1 || r.PeriodSeconds > max {
			return bad("period_seconds", "must be an integer from 1 to %d, got %d", max, r.PeriodSeconds)
		}
		if r.Burst < 1 || r.Burst > config.MaxBurst {
			return bad("burst", "must be an integer from 1 to %d, got %d", config.MaxBurst, r.Burst)
		}
		k := [3]string{r.Scope, r.Role, r.Per}
		if j, dup := seen[k]; dup {
			return bad("per", "repeats rules[%d]: one rule per scope, role and per", j)
		}
		seen[k] = i
	}
	return nil
}

// AuthScope classifies an auth API request (path below /auth/v1) into the
// scope whose per-IP limits it gets; other auth calls are ScopeAPI.
func AuthScope(method, path, grantType string) string {
	path = strings.TrimSuffix(path, "/")
	switch {
	case method == http.MethodPost && path == "/signup":
		return ScopeSignin
	case method == http.MethodPost && path == "/token":
		if grantType == "refresh_token" {
			return ScopeRefresh
		}
		// password, id_token, pkce and unknown grants: all sign-ins.
		return ScopeSignin
	case path == "/otp", path == "/magiclink", path == "/verify", path == "/recover", path == "/resend", path == "/reauthenticate":
		if method == http.MethodPost || method == http.MethodGet {
			return ScopeOTP
		}
	}
	return ScopeAPI
}
