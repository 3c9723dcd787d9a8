package ratelimit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/config"
	"github.com/plinth-dev/plinth/platform/metrics"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/principal"
)

func testRedis(t testing.TB) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// backends runs f against the Redis backend and the in-process one: both
// must behave the same.
func backends(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Run("redis", func(t *testing.T) { t.Parallel(); f(t, NewRedis(testRedis(t))) })
	t.Run("memory", func(t *testing.T) { t.Parallel(); f(t, NewMemory()) })
}

func TestBackends(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		key := "test:" + uuid.NewString()
		lim := Limit{Rate: 1, Period: 10 * time.Second, Burst: 3}
		for want := 2; want >= 0; want-- {
			res, err := b.Allow(ctx, key, lim)
			if err != nil || !res.Allowed || res.Remaining != want {
				t.Fatalf("%+v %v, want allowed with %d left", res, err, want)
			}
		}
		res, err := b.Allow(ctx, key, lim)
		if err != nil || res.Allowed || res.Remaining != 0 {
			t.Fatalf("4th: %+v %v, want refused", res, err)
		}
		// Three requests filled the bucket; the next slot opens one
		// emission interval (10s) after the first, the bucket is empty
		// again after three.
		if res.RetryAfter <= 8*time.Second || res.RetryAfter > 10*time.Second {
			t.Errorf("retry after %v, want just under 10s", res.RetryAfter)
		}
		if res.ResetAfter <= 28*time.Second || res.ResetAfter > 30*time.Second {
			t.Errorf("reset after %v, want just under 30s", res.ResetAfter)
		}
		// Floating-point edge: with a burst of 1 a fresh key must always
		// pass (once, (now+60)-60 < now refused half of them).
		for i := 0; i < 200; i++ {
			res, err := b.Allow(ctx, key+strconv.Itoa(i), Limit{Rate: 1, Period: time.Minute, Burst: 1})
			if err != nil || !res.Allowed || res.Remaining != 0 {
				t.Fatalf("fresh key %d with burst 1: %+v %v", i, res, err)
			}
		}
	})
}

// harness is a Fiber app with the limiter behind a stand-in for the
// server's project and key lookup: X-Test-Role/-User/-Key name the caller,
// /p/{ref}/... the project, and X-Test-Fail its rate_limit_fail setting.
type harness struct {
	app  *fiber.App
	lim  *Limiter
	logs *bytes.Buffer
	mu   sync.Mutex
	// rules per project ref, as the store would return them.
	rules map[string][]Rule
}

func newHarness(t *testing.T, o Options) *harness {
	t.Helper()
	h := &harness{logs: &bytes.Buffer{}, rules: map[string][]Rule{}}
	o.Namespace = "t" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	o.Rules = func(_ context.Context, ref string) ([]Rule, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.rules[ref], nil
	}
	o.Project = func(c *fiber.Ctx) *store.Project { p, _ := c.Locals("project").(*store.Project); return p }
	o.Principal = func(c *fiber.Ctx) *principal.Principal {
		p, _ := c.Locals("principal").(*principal.Principal)
		return p
	}
	o.Log = slog.New(slog.NewTextHandler(lockedWriter{&h.mu, h.logs}, nil))
	// app.Test connections come from 0.0.0.0: trusting it lets X-Forwarded-For
	// pick the client address.
	o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")}
	h.lim = New(o)
	h.app = fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		ae := apierror.From(err, true)
		return c.Status(ae.Status).JSON(ae)
	}})
	setup := func(c *fiber.Ctx) error {
		c.Locals("project", &store.Project{Ref: c.Params("ref"), Settings: store.Settings{RateLimitFail: c.Get("X-Test-Fail")}})
		if role := c.Get("X-Test-Role"); role != "" {
			c.Locals("principal", &principal.Principal{Role: role, UserID: c.Get("X-Test-User"), KeyID: c.Get("X-Test-Key")})
		}
		return c.Next()
	}
	ok := func(c *fiber.Ctx) error { return c.SendString("ok") }
	h.app.Get("/p/:ref/rest/v1/*", setup, h.lim.Data(), ok)
	h.app.All("/p/:ref/auth/v1/*", setup, h.lim.Auth(), ok)
	return h
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (h *harness) setRules(ref string, rules ...Rule) {
	h.mu.Lock()
	h.rules[ref] = rules
	h.mu.Unlock()
	h.lim.Invalidate(ref)
}

func (h *harness) logText() string { h.mu.Lock(); defer h.mu.Unlock(); return h.logs.String() }

// do sends one request; headers are pairs of name, value.
func (h *harness) do(t *testing.T, method, path string, headers ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := h.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// expect sends n requests and checks how many pass before the rest get 429.
func (h *harness) expect(t *testing.T, pass, refused int, method, path string, headers ...string) {
	t.Helper()
	for i := 0; i < pass+refused; i++ {
		res := h.do(t, method, path, headers...)
		want := http.StatusOK
		if i >= pass {
			want = http.StatusTooManyRequests
		}
		if res.StatusCode != want {
			t.Fatalf("%s %s %v: request %d got %d, want %d", method, path, headers, i+1, res.StatusCode, want)
		}
	}
}

func rule(role, per string, rate int) Rule {
	return Rule{Role: role, Per: per, Rate: rate, PeriodSeconds: 60, Burst: rate}
}

var someDefaults = Defaults{
	API:     config.RateSpec{Rate: 1000, Period: time.Second, Burst: 1000},
	Signin:  config.RateSpec{Rate: 2, Period: time.Minute, Burst: 2},
	Refresh: config.RateSpec{Rate: 3, Period: time.Minute, Burst: 3},
}

func TestDimensions(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b Backend) {
		h := newHarness(t, Options{Backend: b, Defaults: someDefaults})
		h.setRules("proj", rule("anon", "ip", 2), rule("authenticated", "user", 2), rule("service_role", "key", 2), rule("editor", "ip", 1))
		const path = "/p/proj/rest/v1/items"
		xff := "X-Forwarded-For"
		// Per IP: each address has its own bucket.
		h.expect(t, 2, 1, "GET", path, "X-Test-Role", "anon", xff, "192.0.2.1")
		h.expect(t, 2, 0, "GET", path, "X-Test-Role", "anon", xff, "192.0.2.2")
		// No principal counts as anon.
		h.expect(t, 0, 1, "GET", path, xff, "192.0.2.1")
		// Per user: the user's bucket follows them across addresses.
		h.expect(t, 1, 0, "GET", path, "X-Test-Role", "authenticated", "X-Test-User", "u1", xff, "198.51.100.1")
		h.expect(t, 1, 1, "GET", path, "X-Test-Role", "authenticated", "X-Test-User", "u1", xff, "198.51.100.2")
		h.expect(t, 2, 0, "GET", path, "X-Test-Role", "authenticated", "X-Test-User", "u2", xff, "198.51.100.2")
		// Per key.
		h.expect(t, 2, 1, "GET", path, "X-Test-Role", "service_role", "X-Test-Key", "k1", xff, "203.0.113.1")
		h.expect(t, 2, 0, "GET", path, "X-Test-Role", "service_role", "X-Test-Key", "k2", xff, "203.0.113.1")
		// A custom role's rule; a role without rules gets the platform default.
		h.expect(t, 1, 1, "GET", path, "X-Test-Role", "editor", xff, "192.0.2.9")
		res := h.do(t, "GET", path, "X-Test-Role", "viewer", "X-Test-Key", "k3")
		if res.StatusCode != 200 || res.Header.Get(HeaderPolicy) != `"default";q=1000;w=1` {
			t.Fatalf("role without rules: %d %q", res.StatusCode, res.Header.Get(HeaderPolicy))
		}
		// Another project is unaffected by this one's buckets and rules.
		h.expect(t, 5, 0, "GET", "/p/other/rest/v1/items", "X-Test-Role", "anon", xff, "192.0.2.1")
	})
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b Backend) {
		h := newHarness(t, Options{Backend: b, Defaults: someDefaults})
		h.setRules("proj", Rule{Role: "anon", Per: "ip", Rate: 3, PeriodSeconds: 60, Burst: 3})
		for i, want := range []struct{ r, t string }{{"2", "20"}, {"1", "40"}, {"0", "60"}} {
			res := h.do(t, "GET", "/p/proj/rest/v1/x", "X-Test-Role", "anon")
			if res.StatusCode != 200 {
				t.Fatalf("request %d: %d", i+1, res.StatusCode)
			}
			// t= is whole seconds rounded up: exact unless a second passed
			// between requests.
			tv, _ := strconv.Atoi(want.t)
			got := res.Header.Get(HeaderRateLimit)
			if got != `"anon";r=`+want.r+`;t=`+want.t && got != `"anon";r=`+want.r+`;t=`+strconv.Itoa(tv-1) {
				t.Errorf("request %d: RateLimit %q, want \"anon\";r=%s;t=%s", i+1, got, want.r, want.t)
			}
			if p := res.Header.Get(HeaderPolicy); p != `"anon";q=3;w=60` {
				t.Errorf("RateLimit-Policy %q", p)
			}
			if res.Header.Get(HeaderLimit) != "3" || res.Header.Get(HeaderRemaining) != want.r || res.Header.Get(HeaderReset) == "" {
				t.Errorf("X-RateLimit trio: %v", res.Header)
			}
			if res.Header.Get(HeaderRetryAfter) != "" {
				t.Errorf("Retry-After on an allowed response")
			}
		}
		res := h.do(t, "GET", "/p/proj/rest/v1/x", "X-Test-Role", "anon")
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("4th: %d", res.StatusCode)
		}
		ra, err := strconv.Atoi(res.Header.Get(HeaderRetryAfter))
		if err != nil || ra < 19 || ra > 20 {
			t.Errorf("Retry-After %q, want 20 (whole seconds, rounded up)", res.Header.Get(HeaderRetryAfter))
		}
		if got := res.Header.Get(HeaderRateLimit); !strings.HasPrefix(got, `"anon";r=0;t=`) || res.Header.Get(HeaderRemaining) != "0" {
			t.Errorf("refused: RateLimit %q, remaining %q", got, res.Header.Get(HeaderRemaining))
		}
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if body["code"] != "PL429" || !strings.Contains(body["message"].(string), `policy "anon" allows 3 requests per 60 seconds per ip`) {
			t.Errorf("body %v", body)
		}
		for _, k := range []string{"details", "hint"} {
			if _, ok := body[k]; !ok {
				t.Errorf("body lacks %s: %v", k, body)
			}
		}
	})
}

func TestAuthScopes(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b Backend) {
		h := newHarness(t, Options{Backend: b, Defaults: someDefaults})
		anon := []string{"X-Test-Role", "anon", "X-Test-Key", "k", "X-Forwarded-For", "192.0.2.1"}
		// Sign-up and password sign-in share the per-IP sign-in default (2/min).
		h.expect(t, 1, 0, "POST", "/p/proj/auth/v1/signup", anon...)
		res := h.do(t, "POST", "/p/proj/auth/v1/token?grant_type=password", anon...)
		if res.StatusCode != 200 || res.Header.Get(HeaderPolicy) != `"default";q=1000;w=1, "signin";q=2;w=60` {
			t.Fatalf("sign-in: %d %q", res.StatusCode, res.Header.Get(HeaderPolicy))
		}
		if got := res.Header.Get(HeaderRateLimit); !strings.HasPrefix(got, `"default";r=`) || !strings.Contains(got, `, "signin";r=0;t=60`) {
			t.Errorf("RateLimit %q", got)
		}
		if res.Header.Get(HeaderLimit) != "2" || res.Header.Get(HeaderRemaining) != "0" {
			t.Errorf("the trio should describe the binding sign-in policy: %v", res.Header)
		}
		res = h.do(t, "POST", "/p/proj/auth/v1/token?grant_type=password", anon...)
		body, _ := io.ReadAll(res.Body)
		// The auth API answers a refusal with GoTrue's code, which auth-js knows.
		if res.StatusCode != 429 || !strings.Contains(string(body), `"code":"over_request_rate_limit"`) || res.Header.Get(HeaderRetryAfter) == "" {
			t.Fatalf("refused sign-in: %d %s", res.StatusCode, body)
		}
		// Refresh has its own budget; other auth calls only the project's.
		h.expect(t, 3, 1, "POST", "/p/proj/auth/v1/token?grant_type=refresh_token", anon...)
		h.expect(t, 5, 0, "GET", "/p/proj/auth/v1/user", anon...)
		// Another address signs in freely.
		h.expect(t, 2, 1, "POST", "/p/proj/auth/v1/signup", "X-Test-Role", "anon", "X-Forwarded-For", "192.0.2.2")
		// A project may loosen its own sign-in limit.
		h.setRules("loose", Rule{Scope: ScopeSignin, Role: "*", Per: "ip", Rate: 5, PeriodSeconds: 60, Burst: 5})
		h.expect(t, 5, 1, "POST", "/p/loose/auth/v1/signup", anon...)
	})
}

func TestFailModes(t *testing.T) {
	t.Parallel()
	// A real client with nothing listening: every check fails as with a
	// stopped Redis (the server-level test stops the real one).
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: time.Second, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { dead.Close() })
	for _, tc := range []struct {
		platform, project string
		want              int
	}{
		{FailOpen, "", 200},
		{FailClosed, "", 503},
		{FailOpen, FailClosed, 503},
		{FailClosed, FailOpen, 200},
	} {
		t.Run(tc.platform+"/"+tc.project, func(t *testing.T) {
			t.Parallel()
			m := metrics.New()
			h := newHarness(t, Options{Redis: dead, Defaults: someDefaults, FailMode: tc.platform, Metrics: m, Cooldown: time.Hour})
			for i := 0; i < 20; i++ {
				res := h.do(t, "GET", "/p/proj/rest/v1/x", "X-Test-Role", "anon", "X-Test-Fail", tc.project)
				if res.StatusCode != tc.want {
					t.Fatalf("request %d: %d, want %d", i+1, res.StatusCode, tc.want)
				}
				if res.Header.Get(HeaderRateLimit) != "" {
					t.Fatalf("RateLimit header without a count: %q", res.Header.Get(HeaderRateLimit))
				}
				if tc.want == 503 {
					body, _ := io.ReadAll(res.Body)
					if !strings.Contains(string(body), `"code":"PL503"`) || !strings.Contains(string(body), "Rate limiter unavailable") {
						t.Fatalf("503 body %s", body)
					}
				}
			}
			mode := FailOpen
			if tc.want == 503 {
				mode = FailClosed
			}
			var got dto.Metric
			if err := h.lim.failures.WithLabelValues(mode).Write(&got); err != nil {
				t.Fatal(err)
			}
			if n := got.GetCounter().GetValue(); n != 20 {
				t.Errorf("failures counted: %v, want 20", n)
			}
			// The log says so once, not 20 times.
			if n := strings.Count(h.logText(), "backend unavailable"); n != 1 {
				t.Errorf("%d log lines about the failure, want 1:\n%s", n, h.logText())
			}
		})
	}
}

func TestBreaker(t *testing.T) {
	t.Parallel()
	b := breaker{cooldown: time.Hour}
	if !b.allow() {
		t.Fatal("closed breaker refused")
	}
	b.record(true)
	if b.allow() {
		t.Fatal("open breaker allowed a check during the cooldown")
	}
	// After the cooldown exactly one caller probes.
	b.openUntil.Store(time.Now().Add(-time.Millisecond).UnixNano())
	if !b.allow() || b.allow() {
		t.Fatal("half-open breaker should let exactly one probe through")
	}
	if !b.record(false) || !b.allow() || b.record(false) {
		t.Fatal("a successful probe should close the breaker (and say so once)")
	}
}

// The rules cache: a change is seen after Invalidate; a load that raced an
// invalidation is not kept.
func TestRulesCache(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Backend: NewMemory(), Defaults: someDefaults})
	get := func() string {
		return h.do(t, "GET", "/p/proj/rest/v1/x", "X-Test-Role", "anon").Header.Get(HeaderPolicy)
	}
	if p := get(); p != `"default";q=1000;w=1` {
		t.Fatalf("before: %q", p)
	}
	h.mu.Lock()
	h.rules["proj"] = []Rule{rule("anon", "ip", 50)}
	h.mu.Unlock()
	if p := get(); p != `"default";q=1000;w=1` {
		t.Fatalf("cached copy should stay until invalidated: %q", p)
	}
	h.lim.Invalidate("proj")
	if p := get(); p != `"anon";q=50;w=60` {
		t.Fatalf("after invalidate: %q", p)
	}
	h.lim.Purge()
	if n := h.lim.ruleSets.Len(); n != 0 {
		t.Fatalf("purge kept %d entries", n)
	}
	// A failing store: the defaults apply and nothing is cached.
	h.lim.o.Rules = func(context.Context, string) ([]Rule, error) { return nil, errors.New("database down") }
	if p := get(); p != `"default";q=1000;w=1` {
		t.Fatalf("store down: %q", p)
	}
	if n := h.lim.ruleSets.Len(); n != 0 {
		t.Fatal("fallback was cached")
	}
}

// TestRedisBatch checks the combined call against what the same requests
// would have seen one by one, and that it shares state with single checks.
func TestRedisBatch(t *testing.T) {
	t.Parallel()
	r := NewRedis(testRedis(t))
	ctx := context.Background()
	key := "test:" + uuid.NewString()
	lim := Limit{Rate: 1, Period: 10 * time.Second, Burst: 4}
	if res, err := r.allowOne(ctx, key, lim); err != nil || !res.Allowed || res.Remaining != 3 {
		t.Fatalf("single: %+v %v", res, err)
	}
	batch := make([]*waiter, 5)
	for i := range batch {
		batch[i] = &waiter{}
	}
	if left, _ := r.allowSeq(ctx, key, lim, batch, 0); left != 0 {
		t.Fatalf("%d reserved, asked for none", left)
	}
	for i, w := range batch {
		if w.err != nil {
			t.Fatal(w.err)
		}
		if i < 3 {
			if !w.res.Allowed || w.res.Remaining != 2-i {
				t.Errorf("batch[%d] = %+v, want allowed with %d left", i, w.res, 2-i)
			}
			// Each later one waits 10s longer for the bucket to refill.
			wantReset := time.Duration(20+10*i) * time.Second
			if w.res.ResetAfter > wantReset || w.res.ResetAfter < wantReset-2*time.Second {
				t.Errorf("batch[%d] reset after %v, want just under %v", i, w.res.ResetAfter, wantReset)
			}
			continue
		}
		if w.res.Allowed || w.res.RetryAfter <= 8*time.Second || w.res.RetryAfter > 10*time.Second {
			t.Errorf("batch[%d] = %+v, want refused for just under 10s", i, w.res)
		}
	}
	if res, err := r.allowOne(ctx, key, lim); err != nil || res.Allowed {
		t.Fatalf("single after the batch emptied the bucket: %+v %v", res, err)
	}
}

// TestRedisCombined sends many concurrent checks of one key: whatever way
// they were combined, exactly the burst passes, each with its own
// remaining count.
func TestRedisCombined(t *testing.T) {
	t.Parallel()
	r := NewRedis(testRedis(t))
	key := "test:" + uuid.NewString()
	lim := Limit{Rate: 50, Period: time.Hour, Burst: 50}
	var mu sync.Mutex
	remaining := map[int]int{}
	refused := 0
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.Allow(context.Background(), key, lim)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case res.Allowed:
				remaining[res.Remaining]++
			default:
				refused++
			}
		}()
	}
	wg.Wait()
	if len(remaining) != 50 || refused != 150 {
		t.Fatalf("%d distinct allowed, %d refused; want 50 and 150", len(remaining), refused)
	}
	for n := 0; n < 50; n++ {
		if remaining[n] != 1 {
			t.Errorf("remaining %d seen %d times", n, remaining[n])
		}
	}
	for i := range r.shards {
		for name, k := range r.shards[i].keys {
			if k.busy || len(k.waiting) > 0 || k.tokens > 0 {
				t.Errorf("%s left busy=%v waiting=%d tokens=%d (a burst of 50 reserves nothing)", name, k.busy, len(k.waiting), k.tokens)
			}
		}
	}
}

// TestRedisReservation: a hot key reserves part of its bucket locally, so
// most checks skip Redis, yet two instances sharing the bucket never let
// more through than the limit, and an expired reservation goes back to
// asking Redis.
func TestRedisReservation(t *testing.T) {
	t.Parallel()
	rc := testRedis(t)
	key := "test:" + uuid.NewString()
	// Reservations up to 40 (a 16th of the burst, under the 64 regained
	// in 100ms).
	lim := Limit{Rate: 640, Period: time.Second, Burst: 640}
	ctx := context.Background()
	start := time.Now()
	a, b := NewRedis(rc), NewRedis(rc)
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for _, inst := range []*Redis{a, b} {
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					res, err := inst.Allow(ctx, key, lim)
					if err != nil {
						t.Error(err)
						return
					}
					if !res.Allowed {
						return
					}
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	// Never more than the burst and what refilled meanwhile; at most one
	// unused reservation per instance lost.
	refilled := int(time.Since(start).Seconds()*640) + 1
	if allowed > 640+refilled || allowed < 640-2*40 {
		t.Fatalf("%d allowed of a burst of 640 (+%d refilled)", allowed, refilled)
	}
	if calls := a.Calls() + b.Calls(); calls*3 > int64(allowed) {
		t.Errorf("%d Redis calls for %d allowed checks: hot key not reserved", calls, allowed)
	}

	// An expired reservation is not spent: the check asks Redis again.
	c := NewRedis(rc)
	now := time.Now()
	c.now = func() time.Time { return now }
	key2 := "test:" + uuid.NewString()
	for i := 0; i < 200; i++ {
		now = now.Add(time.Millisecond) // 1,000 checks per second
		if res, err := c.Allow(ctx, key2, lim); err != nil || !res.Allowed {
			t.Fatalf("check %d: %+v %v", i, res, err)
		}
	}
	if c.Calls() >= 20 {
		t.Fatalf("%d calls for 200 checks at 1,000/s: nothing reserved", c.Calls())
	}
	k := c.shard(key2).keys[key2]
	if k.tokens == 0 {
		t.Fatal("no reservation held after a busy stretch")
	}
	calls := c.Calls()
	now = now.Add(reserveFor)
	if _, err := c.Allow(ctx, key2, lim); err != nil || c.Calls() != calls+1 {
		t.Fatalf("after expiry: %v, calls %d -> %d, want one more", err, calls, c.Calls())
	}
}
