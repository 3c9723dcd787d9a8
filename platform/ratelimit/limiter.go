// Package ratelimit limits each project's data and auth requests (DESIGN.md
// §7.4): GCRA in Redis through go-redis/redis_rate, so limits hold across
// every instance, or an in-process GCRA of the same arithmetic when no Redis
// is configured (one instance only). Rules are per project, role and
// dimension (client IP, user, API key), stored in Postgres, cached per
// instance and dropped by NOTIFY. Responses carry the IETF RateLimit fields
// and the X-RateLimit trio; refusals are 429 with Retry-After.
//
// When Redis is unreachable the limiter fails open (requests pass) or closed
// (503 PL503) as configured, logs it at most every few seconds, counts it in
// /metrics, and stops asking Redis for a moment (a small breaker) so a dead
// Redis costs requests nothing but the rare probe.
package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/plinth-dev/plinth/internal/fasthdr"
	"github.com/plinth-dev/plinth/internal/loadcache"
	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/metrics"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/principal"
)

// Fail modes when the backend is unreachable.
const (
	FailOpen   = "open"
	FailClosed = "closed"
)

// ErrUnavailable answers requests while the backend is down in closed mode.
var ErrUnavailable = apierror.New(http.StatusServiceUnavailable, apierror.CodeUnavailable, "Rate limiter unavailable, try again shortly").
	WithHint("The rate-limit store (Redis) cannot be reached and this project fails closed (rate_limit_fail).")

// Options configure a Limiter.
type Options struct {
	// Redis makes limits global across instances; nil selects the
	// in-process limiter (one instance only).
	Redis *redis.Client
	// Backend, when set, is used instead of either (tests, benchmarks).
	Backend Backend
	// Defaults apply to projects (and roles) without rules of their own.
	Defaults Defaults
	// FailMode is the platform's choice when the backend is down ("open" or
	// "closed"); a project's rate_limit_fail setting overrides it.
	FailMode       string
	TrustedProxies []netip.Prefix
	// Namespace separates installations sharing one Redis (the tenant
	// prefix does: projects of two installs may share a ref).
	Namespace string
	// Rules loads a project's stored rules.
	Rules func(ctx context.Context, ref string) ([]Rule, error)
	// Project and Principal read what earlier middleware resolved; a nil
	// principal counts as anon without a key.
	Project   func(*fiber.Ctx) *store.Project
	Principal func(*fiber.Ctx) *principal.Principal
	Metrics   *metrics.Metrics // optional
	Log       *slog.Logger
	// Cooldown is how long checks skip a failed backend (default 1s).
	Cooldown time.Duration
}

// Limiter checks requests against their project's policies.
type Limiter struct {
	o        Options
	backend  Backend
	global   bool
	brk      breaker
	ruleSets *loadcache.Cache[*ruleSet]
	fallback *ruleSet // the defaults alone, when rules cannot be loaded

	failures *prometheus.CounterVec
	refusals *prometheus.CounterVec
	failLog  logLimiter
	rulesLog logLimiter
}

// New makes a Limiter and logs which backend it uses.
func New(o Options) *Limiter {
	if o.Cooldown <= 0 {
		o.Cooldown = time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	l := &Limiter{
		o:        o,
		backend:  o.Backend,
		brk:      breaker{cooldown: o.Cooldown},
		fallback: compile(nil, o.Defaults),
		failLog:  logLimiter{every: 10 * time.Second},
		rulesLog: logLimiter{every: 10 * time.Second},
	}
	// NOTIFY drops a project's entry on every change; the TTL bounds how
	// long a lost notification could matter.
	l.ruleSets = loadcache.New(10000, 5*time.Minute, func(ctx context.Context, ref string) (*ruleSet, error) {
		rules, err := l.o.Rules(ctx, ref)
		if err != nil {
			return nil, err
		}
		return compile(rules, l.o.Defaults), nil
	})
	switch {
	case l.backend != nil:
	case o.Redis != nil:
		l.backend, l.global = NewRedis(o.Redis), true
		o.Log.Info("rate limiter: Redis (limits are global across instances)", "fail", o.FailMode)
	default:
		l.backend = NewMemory()
		o.Log.Warn("rate limiter: in-process, because PLINTH_REDIS_URL is unset: limits hold per instance, so run a single instance or set PLINTH_REDIS_URL")
	}
	if o.Metrics != nil {
		l.failures = o.Metrics.CounterVec("plinth_ratelimit_backend_failures_total",
			"Rate-limit checks that could not reach the backend (Redis), by the fail mode applied.", "mode")
		l.refusals = o.Metrics.CounterVec("plinth_ratelimit_refused_total",
			"Requests refused with 429, by scope (api, signin, refresh, otp).", "scope")
		if r, ok := l.backend.(*Redis); ok {
			o.Metrics.CounterFunc("plinth_ratelimit_redis_calls_total",
				"Script calls to Redis; checks are combined and hot keys reserved, so this grows slower than checks.",
				func() float64 { return float64(r.Calls()) })
		}
	}
	return l
}

// Global reports whether limits are shared by every instance (Redis).
func (l *Limiter) Global() bool { return l.global }

// Defaults returns the platform defaults.
func (l *Limiter) Defaults() Defaults { return l.o.Defaults }

// Data is the middleware of the data API (/rest/v1); mount it after
// authentication.
func (l *Limiter) Data() fiber.Handler {
	return func(c *fiber.Ctx) error { return l.handle(c, ScopeAPI, apierror.CodeRateLimited) }
}

// Auth is the middleware of the auth API (/auth/v1): it adds the per-IP
// limits of sign-in, sign-up, refresh and OTP endpoints to the project's
// limits. Mount it after the key check.
func (l *Limiter) Auth() fiber.Handler {
	return func(c *fiber.Ctx) error {
		path := c.Path()
		if i := strings.Index(path, "/auth/v1"); i >= 0 {
			path = path[i+len("/auth/v1"):]
		}
		return l.handle(c, AuthScope(c.Method(), path, c.Query("grant_type")), CodeAuthRateLimited)
	}
}

// Invalidate drops a project's cached rules (its rules or the project
// changed).
func (l *Limiter) Invalidate(ref string) { l.ruleSets.Invalidate(ref) }

// Purge drops every cached rule set (after the NOTIFY connection was lost).
func (l *Limiter) Purge() { l.ruleSets.Purge() }

func (l *Limiter) rules(ctx context.Context, ref string) *ruleSet {
	rs, err := l.ruleSets.Get(ctx, ref)
	if err != nil {
		// Keep limiting with the platform defaults; the request itself will
		// meet the same database trouble and report it.
		if ok, n := l.rulesLog.allow(); ok {
			l.o.Log.Warn("rate limiter: cannot load project rules; applying platform defaults", "ref", ref, "err", err, "suppressed", n)
		}
		return l.fallback
	}
	return rs
}

// CodeAuthRateLimited is GoTrue's code for a 429, which auth-js knows; the
// auth API uses it instead of PL429.
const CodeAuthRateLimited = "over_request_rate_limit"

func (l *Limiter) handle(c *fiber.Ctx, scope, code string) error {
	p := l.o.Project(c)
	if p == nil {
		return c.Next()
	}
	role, userID, keyID := principal.Anon, "", ""
	if pr := l.o.Principal(c); pr != nil {
		role, userID, keyID = pr.Role, pr.UserID, pr.KeyID
	}
	ctx := c.UserContext()
	policies := l.rules(ctx, p.Ref).forRequest(scope, role)
	if len(policies) == 0 {
		return c.Next()
	}
	ip := ""
	var buf [4]check // a request rarely meets more policies
	checks := buf[:0]
	var failure error
	for _, pol := range policies {
		var kind, subject string
		switch {
		case pol.Per == PerUser && userID != "":
			kind, subject = "u:", userID
		case pol.Per == PerKey && keyID != "":
			kind, subject = "k:", keyID
		default: // per ip, and callers without a user or key
			if ip == "" {
				ip = ipSubject(l.clientIP(c))
			}
			kind, subject = "ip:", ip
		}
		res, err := l.allow(ctx, l.key(p.Ref, pol, kind, subject), pol.Limit)
		if err != nil {
			failure = err
			continue
		}
		checks = append(checks, check{policy: pol, res: res})
	}
	// A request whose context ended (client gone, deadline) failed its check
	// for that reason, not because the backend is down.
	if failure != nil && ctx.Err() == nil {
		closed := l.failMode(p) == FailClosed
		l.reportFailure(failure, closed)
		if closed {
			return ErrUnavailable
		}
	}
	if len(checks) == 0 {
		return c.Next()
	}
	// One buffer for the header text (the header setters keep a reference
	// as far as escape analysis can tell, so it cannot live on the stack).
	r := render(checks, make([]byte, 0, 96))
	h := &c.Response().Header
	fasthdr.Set(h, canonPolicy, r.policy)
	fasthdr.SetBytes(h, canonRateLimit, r.rateLimit)
	fasthdr.Set(h, canonLimit, r.limit)
	fasthdr.SetBytes(h, canonRemaining, r.remaining)
	fasthdr.SetBytes(h, canonReset, r.reset)
	if !r.refused {
		return c.Next()
	}
	if l.refusals != nil {
		s := scope
		if s == ScopeAPI {
			s = "api"
		}
		l.refusals.WithLabelValues(s).Inc()
	}
	c.Set(HeaderRetryAfter, strconv.Itoa(r.retryAfter))
	b := r.binding
	return apierror.Newf(http.StatusTooManyRequests, code,
		"Rate limit exceeded: policy %q allows %d requests per %d seconds per %s", b.Name, b.Limit.Rate, int(b.Limit.Period/time.Second), b.Per).
		WithDetails(fmt.Sprintf("burst %d", b.Limit.Burst)).
		WithHint(fmt.Sprintf("Retry after %d seconds.", r.retryAfter))
}

// allow runs one check through the breaker.
func (l *Limiter) allow(ctx context.Context, key string, lim Limit) (Result, error) {
	if !l.brk.allow() {
		return Result{}, errBreakerOpen
	}
	res, err := l.backend.Allow(ctx, key, lim)
	// A client that went away is no sign of a broken backend.
	failed := err != nil && ctx.Err() == nil
	if l.brk.record(failed) {
		l.o.Log.Info("rate limiter: backend reachable again")
	}
	return res, err
}

// key is the Redis key of a policy for one subject (kind "k:", "u:" or
// "ip:" and its value), built in one allocation.
func (l *Limiter) key(ref string, pol Policy, kind, subject string) string {
	origin := "r"
	if pol.Default {
		origin = "d"
	}
	return "plinth:" + l.o.Namespace + ":" + ref + ":" + origin + ":" + pol.Name + ":" + kind + subject
}

func (l *Limiter) failMode(p *store.Project) string {
	switch p.Settings.RateLimitFail {
	case FailOpen, FailClosed:
		return p.Settings.RateLimitFail
	}
	if l.o.FailMode == FailClosed {
		return FailClosed
	}
	return FailOpen
}

func (l *Limiter) reportFailure(err error, closed bool) {
	mode := FailOpen
	if closed {
		mode = FailClosed
	}
	if l.failures != nil {
		l.failures.WithLabelValues(mode).Inc()
	}
	if ok, n := l.failLog.allow(); ok {
		what := "requests pass unlimited (fail open)"
		if closed {
			what = "requests get 503 (fail closed)"
		}
		l.o.Log.Error("rate limiter: backend unavailable; "+what, "err", err, "suppressed", n)
	}
}

func (l *Limiter) clientIP(c *fiber.Ctx) netip.Addr {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	if len(l.o.TrustedProxies) == 0 {
		return peer.Unmap()
	}
	var xff []string
	for _, v := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		xff = append(xff, string(v))
	}
	return ClientIP(peer, xff, l.o.TrustedProxies)
}

// logLimiter lets one log line through per interval and counts the rest, so
// a failure hit by every request does not flood the log.
type logLimiter struct {
	every      time.Duration
	last       atomic.Int64
	suppressed atomic.Int64
}

func (g *logLimiter) allow() (bool, int64) {
	now := time.Now().UnixNano()
	last := g.last.Load()
	if now-last < int64(g.every) || !g.last.CompareAndSwap(last, now) {
		g.suppressed.Add(1)
		return false, 0
	}
	return true, g.suppressed.Swap(0)
}
