// Package config turns environment variables (and flags of the same name in
// kebab-case) into one Config value. Nothing here is global: callers pass the
// Config they loaded to whatever needs it.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Config is everything the server needs to run.
type Config struct {
	DatabaseURL    string
	RedisURL       string
	Listen         string
	AdminToken     string
	AdminEmail     string
	AdminPassword  string
	SecretKey      string
	BaseDomain     string
	LogFormat      string
	PublicURL      string
	TenantPrefix   string
	RateLimitFail  string
	TrustedProxies []netip.Prefix
	MaxRows        int
	TenantPoolMax  int
	TotalConnsMax  int

	// Platform default rate limits (see RateSpec): per API key for every
	// data/auth request, per client IP for the auth endpoints named.
	RateLimitDefault RateSpec
	RateLimitSignin  RateSpec
	RateLimitRefresh RateSpec
	RateLimitOTP     RateSpec

	// Not part of the env contract; tuned in code and tests.
	ShutdownTimeout  time.Duration
	StatementTimeout time.Duration
	// ReadTimeout bounds reading one request (headers and body), which
	// closes slowloris connections; tests shorten it.
	ReadTimeout time.Duration
	// VerifyTemplates makes the data API build every statement it takes
	// from a template anew as well and fail on any difference (tests).
	VerifyTemplates bool
}

// Var describes one setting: its env name, default and meaning. The same list
// drives flag registration, env loading and --help, so they cannot drift apart.
type Var struct {
	Env     string
	Default string
	Usage   string
	set     func(c *Config, v string) error
}

// Flag is the kebab-case flag name of the variable (PLINTH_DATABASE_URL -> database-url).
func (v Var) Flag() string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(v.Env, "PLINTH_")), "_", "-")
}

// Vars lists every setting of DESIGN.md §2.
func Vars() []Var {
	return []Var{
		{"PLINTH_DATABASE_URL", "", "Postgres URL for metadata and tenant schemas (a non-superuser role with CREATEROLE that owns the database); `plinth dev` starts a private Postgres when unset",
			func(c *Config, v string) error { c.DatabaseURL = v; return nil }},
		{"PLINTH_REDIS_URL", "", "Redis URL for rate limits; unset = in-process limiter (single instance only)",
			func(c *Config, v string) error { c.RedisURL = v; return nil }},
		{"PLINTH_LISTEN", "127.0.0.1:8080", "listen address",
			func(c *Config, v string) error {
				if _, _, err := net.SplitHostPort(v); err != nil {
					return fmt.Errorf("PLINTH_LISTEN: %w", err)
				}
				c.Listen = v
				return nil
			}},
		{"PLINTH_ADMIN_TOKEN", "", "static admin bearer token for automation",
			func(c *Config, v string) error { c.AdminToken = v; return nil }},
		{"PLINTH_ADMIN_EMAIL", "", "first admin's email, created at start if absent",
			func(c *Config, v string) error { c.AdminEmail = v; return nil }},
		{"PLINTH_ADMIN_PASSWORD", "", "first admin's password",
			func(c *Config, v string) error { c.AdminPassword = v; return nil }},
		{"PLINTH_SECRET_KEY", "", "server secret that seals per-project secrets (required for serve; dev generates one)",
			func(c *Config, v string) error { c.SecretKey = v; return nil }},
		{"PLINTH_BASE_DOMAIN", "", "enables host routing {ref}.{domain}",
			func(c *Config, v string) error { c.BaseDomain = strings.ToLower(v); return nil }},
		{"PLINTH_LOG_FORMAT", "", "log format: json or text (default text in dev, json in serve)",
			func(c *Config, v string) error {
				if v != "" && v != "json" && v != "text" {
					return fmt.Errorf("PLINTH_LOG_FORMAT: want json or text, got %q", v)
				}
				c.LogFormat = v
				return nil
			}},
		{"PLINTH_PUBLIC_URL", "", "external base URL for JWT iss, OpenAPI servers and links (default http://{listen})",
			func(c *Config, v string) error { c.PublicURL = strings.TrimRight(v, "/"); return nil }},
		{"PLINTH_TENANT_PREFIX", "p_", "prefix of tenant schemas and roles (roles are cluster-wide; at most 9 chars so role names fit in 63 bytes)",
			func(c *Config, v string) error {
				if !validPrefix(v) {
					return fmt.Errorf("PLINTH_TENANT_PREFIX: %q must be 1-9 chars of [a-z0-9_] starting with a letter", v)
				}
				c.TenantPrefix = v
				return nil
			}},
		{"PLINTH_RATE_LIMIT_FAIL", "open", "open or closed: what the rate limiter does when Redis is unreachable",
			func(c *Config, v string) error {
				if v != "open" && v != "closed" {
					return fmt.Errorf("PLINTH_RATE_LIMIT_FAIL: want open or closed, got %q", v)
				}
				c.RateLimitFail = v
				return nil
			}},
		{"PLINTH_RATE_LIMIT_DEFAULT", "1000/1s", "default rate limit per API key on data and auth requests of a project (RATE/PERIOD[,burst=N] or off); a project's own rules for a role replace it",
			rateVar(func(c *Config) *RateSpec { return &c.RateLimitDefault })},
		{"PLINTH_RATE_LIMIT_SIGNIN", "30/5m", "default limit per client IP on sign-in and sign-up (auth /token?grant_type=password, /signup)",
			rateVar(func(c *Config) *RateSpec { return &c.RateLimitSignin })},
		{"PLINTH_RATE_LIMIT_REFRESH", "150/5m", "default limit per client IP on token refresh (auth /token?grant_type=refresh_token)",
			rateVar(func(c *Config) *RateSpec { return &c.RateLimitRefresh })},
		{"PLINTH_RATE_LIMIT_OTP", "30/5m", "default limit per client IP on OTP-like auth endpoints (/otp, /magiclink, /verify, /recover, /resend)",
			rateVar(func(c *Config) *RateSpec { return &c.RateLimitOTP })},
		{"PLINTH_TRUSTED_PROXIES", "", "comma-separated CIDRs whose X-Forwarded-For is believed",
			func(c *Config, v string) error {
				c.TrustedProxies = nil
				for _, s := range strings.Split(v, ",") {
					if s = strings.TrimSpace(s); s == "" {
						continue
					}
					p, err := netip.ParsePrefix(s)
					if err != nil {
						return fmt.Errorf("PLINTH_TRUSTED_PROXIES: %w", err)
					}
					c.TrustedProxies = append(c.TrustedProxies, p)
				}
				return nil
			}},
		{"PLINTH_MAX_ROWS", "1000", "default cap on rows per response (per-project setting overrides)",
			intVar(func(c *Config) *int { return &c.MaxRows })},
		{"PLINTH_TENANT_POOL_MAX", "4", "connections per project pool",
			intVar(func(c *Config) *int { return &c.TenantPoolMax })},
		{"PLINTH_TOTAL_CONNS_MAX", "64", "total tenant connections across all project pools",
			intVar(func(c *Config) *int { return &c.TotalConnsMax })},
	}
}

func intVar(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("want a positive integer, got %q", v)
		}
		*field(c) = n
		return nil
	}
}

func validPrefix(s string) bool {
	if len(s) == 0 || len(s) > 9 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// RegisterFlags adds one flag per variable to fs. Flag values win over env.
func RegisterFlags(fs *flag.FlagSet) map[string]*string {
	out := map[string]*string{}
	for _, v := range Vars() {
		out[v.Env] = fs.String(v.Flag(), "", fmt.Sprintf("%s (env %s, default %q)", v.Usage, v.Env, v.Default))
	}
	return out
}

// Load builds a Config from getenv, overridden by non-empty flag values.
func Load(getenv func(string) string, flags map[string]*string) (Config, error) {
	c := Config{ShutdownTimeout: 25 * time.Second, StatementTimeout: 8 * time.Second, ReadTimeout: 30 * time.Second}
	var errs []error
	for _, v := range Vars() {
		val := v.Default
		if e := getenv(v.Env); e != "" {
			val = e
		}
		if f := flags[v.Env]; f != nil && *f != "" {
			val = *f
		}
		if val == "" && v.Default == "" {
			// Leave the zero value, but still run setters with side effects
			// (none have any for empty input).
			continue
		}
		if err := v.set(&c, val); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", v.Env, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Listen
	}
	return c, nil
}
