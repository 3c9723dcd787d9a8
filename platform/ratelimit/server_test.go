package ratelimit_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/config"
)

// These tests drive whole servers: rules through the admin API, limits on
// the data API, Redis shared by two instances and stopped mid-test.

func withRedis(t testing.TB) testserver.Option {
	url := testenv.RedisURL(t)
	return func(c *config.Config) { c.RedisURL = url }
}

// Loopback is the proxy in front of the test servers.
func trustLoopback(c *config.Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
}

func putRules(t *testing.T, ts *testserver.TS, ref, rules string) {
	t.Helper()
	res := ts.Admin(t, "PUT", "/projects/"+ref+"/rate-limits", json.RawMessage(`{"rules":`+rules+`}`))
	if res.Status != http.StatusOK {
		t.Fatalf("put rules: %d %s", res.Status, res.Body)
	}
}

// get calls the data API; from is the client address a trusted proxy
// reports ("" for none).
func get(t *testing.T, ts *testserver.TS, p *testserver.Project, key, from string) *testserver.Response {
	t.Helper()
	h := map[string]string{}
	if from != "" {
		h["X-Forwarded-For"] = from
	}
	return ts.Rest(t, p, key, "GET", "/", h, nil)
}

// expect sends pass+refused requests: the first pass are not limited, the
// rest get 429.
func expect(t *testing.T, ts *testserver.TS, p *testserver.Project, key, from string, pass, refused int) {
	t.Helper()
	for i := 0; i < pass+refused; i++ {
		res := get(t, ts, p, key, from)
		if limited := res.Status == http.StatusTooManyRequests; limited != (i >= pass) {
			t.Fatalf("request %d from %q: %d %s (want %d passing, then 429)", i+1, from, res.Status, res.Body, pass)
		}
	}
}

func TestServerLimits(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"redis", "memory"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			opts := []testserver.Option{trustLoopback}
			if backend == "redis" {
				opts = append(opts, withRedis(t))
			}
			ts := testserver.Start(t, opts...)
			p := ts.CreateProject(t, "limits")
			other := ts.CreateProject(t, "other")

			res := ts.Admin(t, "GET", "/projects/limits/rate-limits", nil)
			var got struct {
				Rules    []map[string]any `json:"rules"`
				Defaults []map[string]any `json:"defaults"`
				Backend  string           `json:"backend"`
			}
			res.JSON(t, &got)
			if res.Status != 200 || len(got.Rules) != 0 || len(got.Defaults) != 4 || got.Backend != backend {
				t.Fatalf("fresh project: %d %s", res.Status, res.Body)
			}
			putRules(t, ts, "limits", `[{"role":"anon","per":"ip","rate":2,"period_seconds":60,"burst":2},
				{"role":"service_role","per":"key","rate":3,"period_seconds":60}]`)
			requests, limited := 0, 0

			// Allowed responses carry the headers.
			res = get(t, ts, p, p.AnonKey, "203.0.113.1")
			requests++
			if res.Status == 429 || res.Header.Get("RateLimit-Policy") != `"anon";q=2;w=60` ||
				!strings.HasPrefix(res.Header.Get("RateLimit"), `"anon";r=1;t=`) || res.Header.Get("X-RateLimit-Remaining") != "1" {
				t.Fatalf("first request: %d %v", res.Status, res.Header)
			}
			expect(t, ts, p, p.AnonKey, "203.0.113.1", 1, 1)
			requests, limited = requests+2, limited+1
			// So do refusals, with Retry-After and the error body.
			res = get(t, ts, p, p.AnonKey, "203.0.113.1")
			requests, limited = requests+1, limited+1
			var body map[string]any
			res.JSON(t, &body)
			ra, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			if res.Status != 429 || body["code"] != "PL429" || ra < 1 || ra > 30 ||
				res.Header.Get("RateLimit-Policy") != `"anon";q=2;w=60` || !strings.HasPrefix(res.Header.Get("RateLimit"), `"anon";r=0;t=`) {
				t.Fatalf("refused: %d %v %s", res.Status, res.Header, res.Body)
			}
			// Another client address has its own budget; a forged
			// X-Forwarded-For prefix does not make a new one (the
			// rightmost hop not of our proxies is the client).
			expect(t, ts, p, p.AnonKey, "203.0.113.2", 2, 0)
			expect(t, ts, p, p.AnonKey, "198.51.100.7, 203.0.113.1", 0, 1)
			requests, limited = requests+3, limited+1

			// service_role: per key, burst defaulted to the rate.
			expect(t, ts, p, p.ServiceKey, "", 3, 1)
			requests, limited = requests+4, limited+1
			res = ts.Admin(t, "POST", "/projects/limits/keys", map[string]string{"role": "service_role"})
			var minted struct {
				Key string `json:"key"`
			}
			res.JSON(t, &minted)
			expect(t, ts, p, minted.Key, "", 3, 0)
			requests += 3

			// Another project keeps the platform default.
			res = get(t, ts, other, other.AnonKey, "203.0.113.1")
			if res.Status == 429 || res.Header.Get("RateLimit-Policy") != `"default";q=1000;w=1` {
				t.Fatalf("other project: %d %v", res.Status, res.Header)
			}

			// Usage: this instance's counts are visible at once.
			res = ts.Admin(t, "GET", "/projects/limits/usage?minutes=5", nil)
			var usage struct {
				Minutes int              `json:"minutes"`
				Series  []map[string]any `json:"series"`
				Totals  map[string]int   `json:"totals"`
			}
			res.JSON(t, &usage)
			if res.Status != 200 || usage.Minutes != 5 || len(usage.Series) != 5 || usage.Totals["requests"] != requests || usage.Totals["rate_limited"] != limited {
				t.Fatalf("usage: want %d requests, %d limited; got %d %s", requests, limited, res.Status, res.Body)
			}
			for _, bad := range []string{"0", "-1", "x", "100000"} {
				if res := ts.Admin(t, "GET", "/projects/limits/usage?minutes="+bad, nil); res.Status != 400 {
					t.Errorf("minutes=%s: %d %s", bad, res.Status, res.Body)
				}
			}
		})
	}
}

// Without trusted proxies X-Forwarded-For counts for nothing.
func TestForwardedForIgnoredByDefault(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	p := ts.CreateProject(t, "noproxy")
	putRules(t, ts, "noproxy", `[{"role":"anon","per":"ip","rate":2,"period_seconds":60,"burst":2}]`)
	expect(t, ts, p, p.AnonKey, "203.0.113.1", 2, 0)
	expect(t, ts, p, p.AnonKey, "203.0.113.2", 0, 1)
}

func TestTwoInstancesShareRedis(t *testing.T) {
	t.Parallel()
	ts1 := testserver.Start(t, withRedis(t))
	ts2 := testserver.StartOn(t, ts1.DB, withRedis(t))
	p := ts1.CreateProject(t, "shared")
	bystander := ts1.CreateProject(t, "bystander")
	res := ts1.Admin(t, "POST", "/projects/shared/keys", map[string]string{"role": "anon"})
	var second struct {
		Key string `json:"key"`
	}
	res.JSON(t, &second)

	// Instance 2 caches the defaults first; the change must reach it by
	// NOTIFY (polled with a second key, so the first one's budget is intact).
	sent := 1 // data API requests to the project, for the usage check
	if res := get(t, ts2, p, second.Key, ""); res.Header.Get("RateLimit-Policy") != `"default";q=1000;w=1` {
		t.Fatalf("before: %v", res.Header)
	}
	putRules(t, ts1, "shared", `[{"role":"anon","per":"key","rate":4,"period_seconds":60,"burst":4}]`)
	deadline := time.Now().Add(10 * time.Second)
	for sent++; get(t, ts2, p, second.Key, "").Header.Get("RateLimit-Policy") != `"anon";q=4;w=60`; sent++ {
		if time.Now().After(deadline) {
			t.Fatal("instance 2 never saw the new rule")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// One budget for both instances: 4 requests in all, alternating.
	for i, ts := range []*testserver.TS{ts1, ts2, ts1, ts2, ts1, ts2} {
		res := get(t, ts, p, p.AnonKey, "")
		sent++
		if limited := res.Status == 429; limited != (i >= 4) {
			t.Fatalf("request %d: %d (want 4 passing across both instances)", i+1, res.Status)
		}
	}
	expect(t, ts2, bystander, bystander.AnonKey, "", 3, 0)

	// Usage is global: instance 1 reports instance 2's requests once they
	// are flushed (every few seconds).
	deadline = time.Now().Add(20 * time.Second)
	for {
		var usage struct {
			Totals map[string]int `json:"totals"`
		}
		ts1.Admin(t, "GET", "/projects/shared/usage?minutes=2", nil).JSON(t, &usage)
		if usage.Totals["requests"] == sent && usage.Totals["rate_limited"] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage never showed both instances: %v, want %d requests and 2 limited", usage.Totals, sent)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRedisOutage stops the private Redis mid-test (so it is not parallel):
// a fail-open project keeps serving, a fail-closed one answers 503, both
// are counted and logged, and limiting resumes when Redis is back.
func TestRedisOutage(t *testing.T) {
	rd := testenv.Redis(t)
	if rd == nil {
		t.Skip("external Redis: cannot stop it")
	}
	ts := testserver.Start(t, withRedis(t))
	open := ts.CreateProject(t, "open")
	closed := ts.CreateProject(t, "closed")
	if res := ts.Admin(t, "PATCH", "/projects/closed/settings", map[string]string{"rate_limit_fail": "closed"}); res.Status != 200 {
		t.Fatalf("settings: %d %s", res.Status, res.Body)
	}
	for _, ref := range []string{"open", "closed"} {
		putRules(t, ts, ref, `[{"role":"anon","per":"key","rate":2,"period_seconds":60,"burst":2}]`)
	}
	expect(t, ts, open, open.AnonKey, "", 1, 0)
	expect(t, ts, closed, closed.AnonKey, "", 1, 0)

	ctx := t.Context()
	if err := rd.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		res := get(t, ts, open, open.AnonKey, "")
		if res.Status == 429 || res.Status >= 500 || res.Header.Get("RateLimit") != "" {
			t.Fatalf("fail open, request %d: %d %v %s", i+1, res.Status, res.Header, res.Body)
		}
		res = get(t, ts, closed, closed.AnonKey, "")
		var body map[string]any
		res.JSON(t, &body)
		if res.Status != 503 || body["code"] != "PL503" || res.Header.Get("Retry-After") == "" {
			t.Fatalf("fail closed, request %d: %d %s", i+1, res.Status, res.Body)
		}
	}
	metrics := string(ts.Do(t, "GET", "/metrics", nil, nil).Body)
	for _, mode := range []string{"open", "closed"} {
		if !strings.Contains(metrics, fmt.Sprintf(`plinth_ratelimit_backend_failures_total{mode="%s"} 10`, mode)) {
			t.Errorf("metrics lack 10 %s failures:\n%s", mode, grep(metrics, "plinth_ratelimit"))
		}
	}
	if n := strings.Count(ts.Logs.String(), "rate limiter: backend unavailable"); n < 1 || n > 3 {
		t.Errorf("%d log lines about the outage for 20 failed checks, want 1-3 (rate limited)", n)
	}

	if err := rd.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Back: limits apply again (the restarted Redis kept no counters).
	deadline := time.Now().Add(15 * time.Second)
	for get(t, ts, closed, closed.AnonKey, "").Status == 503 {
		if time.Now().After(deadline) {
			t.Fatal("fail-closed project still refused after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	expect(t, ts, open, open.AnonKey, "", 2, 1)
	if !strings.Contains(ts.Logs.String(), "backend reachable again") {
		t.Error("recovery not logged")
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestAdminValidation(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	ts.CreateProject(t, "valid")
	putRules(t, ts, "valid", `[{"role":"anon","per":"ip","rate":10,"period_seconds":1}]`)
	for _, tc := range []struct{ body, want string }{
		{`{}`, `"rules" is required`},
		{`{"rules":[{"role":"anon","per":"ip","rate":0,"period_seconds":1}]}`, "rules[0].rate"},
		{`{"rules":[{"role":"anon","per":"ip","rate":5,"period_seconds":1,"burst":-1}]}`, "rules[0].burst"},
		{`{"rules":[{"role":"anon","per":"session","rate":5,"period_seconds":1}]}`, "rules[0].per"},
		{`{"rules":[{"role":"Bad Role","per":"ip","rate":5,"period_seconds":1}]}`, "rules[0].role"},
		{`{"rules":[{"role":"anon","per":"ip","rate":5,"period_seconds":100000}]}`, "rules[0].period_seconds"},
		{`{"rules":[{"role":"anon","per":"ip","rate":5000000,"period_seconds":1}]}`, "rules[0].rate"},
		{`{"rules":[{"scope":"everything","role":"anon","per":"ip","rate":5,"period_seconds":1}]}`, "rules[0].scope"},
		{`{"rules":[{"role":"anon","per":"ip","rate":5,"period_seconds":1},{"role":"anon","per":"ip","rate":9,"period_seconds":1}]}`, "rules[1].per repeats"},
		{`{"rules":[{"role":"anon","per":"ip","rate":"5","period_seconds":1}]}`, "Invalid JSON body"},
		{`{"rules":[{"role":"anon","per":"ip","rate":5,"period_seconds":1,"extra":1}]}`, "Invalid JSON body"},
		{`{"rules":[`, "Invalid JSON body"},
		{`{"rules":[` + strings.Repeat(`{"role":"anon","per":"ip","rate":5,"period_seconds":1},`, 50) + `{"role":"anon","per":"ip","rate":5,"period_seconds":1}]}`, "at most 50"},
	} {
		res := ts.Admin(t, "PUT", "/projects/valid/rate-limits", tc.body)
		var e map[string]any
		res.JSON(t, &e)
		msg, _ := e["message"].(string)
		if res.Status != 400 || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %s, want 400 about %s", tc.body, res.Status, res.Body, tc.want)
		}
		for _, k := range []string{"code", "message", "details", "hint"} {
			if _, ok := e[k]; !ok {
				t.Errorf("error lacks %q: %s", k, res.Body)
			}
		}
	}
	// Nothing changed; burst defaulted to the rate; GET echoes a PUT body.
	res := ts.Admin(t, "GET", "/projects/valid/rate-limits", nil)
	var got struct {
		Rules []map[string]any `json:"rules"`
	}
	res.JSON(t, &got)
	if len(got.Rules) != 1 || got.Rules[0]["burst"] != float64(10) {
		t.Fatalf("after bad PUTs: %s", res.Body)
	}
	if res := ts.Admin(t, "PUT", "/projects/valid/rate-limits", json.RawMessage(res.Body)); res.Status != 200 {
		t.Fatalf("PUT of the GET body: %d %s", res.Status, res.Body)
	}
	putRules(t, ts, "valid", `[]`)
	var audit []map[string]any
	ts.Admin(t, "GET", "/projects/valid/audit", nil).JSON(t, &audit)
	n := 0
	for _, a := range audit {
		if a["action"] == "rate_limits.update" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d audit records of rate-limit changes, want 3", n)
	}
	if res := ts.Admin(t, "GET", "/projects/nosuch/rate-limits", nil); res.Status != 404 {
		t.Errorf("unknown project: %d", res.Status)
	}
}

// The auth API: sign-in and sign-up share a per-IP budget of their own, and
// a signed-in user's data API budget follows the user, not the address.
func TestAuthAndUserLimits(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t, trustLoopback, func(c *config.Config) {
		c.RateLimitSignin = config.RateSpec{Rate: 3, Period: time.Minute, Burst: 3}
	})
	p := ts.CreateProject(t, "authy")
	auth := func(path, from string, body any) *testserver.Response {
		return ts.Do(t, "POST", "/p/authy/auth/v1"+path, map[string]string{"apikey": p.AnonKey, "X-Forwarded-For": from}, body)
	}
	wrong := map[string]string{"email": "nobody@example.com", "password": "wrong-password-1"}
	for i := 0; i < 3; i++ {
		if res := auth("/token?grant_type=password", "192.0.2.10", wrong); res.Status != 400 {
			t.Fatalf("sign-in %d: %d %s", i+1, res.Status, res.Body)
		}
	}
	res := auth("/token?grant_type=password", "192.0.2.10", wrong)
	var e map[string]any
	res.JSON(t, &e)
	if res.Status != 429 || e["code"] != "over_request_rate_limit" || res.Header.Get("Retry-After") == "" ||
		res.Header.Get("RateLimit-Policy") != `"default";q=1000;w=1, "signin";q=3;w=60` {
		t.Fatalf("4th sign-in: %d %v %s", res.Status, res.Header, res.Body)
	}
	// Sign-up counts against the same budget...
	if res := auth("/signup", "192.0.2.10", map[string]string{"email": "a@example.com", "password": "a-good-password-1"}); res.Status != 429 {
		t.Fatalf("sign-up from the same address: %d %s", res.Status, res.Body)
	}
	// ...another address has its own.
	session := func(email, from string) string {
		res := auth("/signup", from, map[string]string{"email": email, "password": "a-good-password-1"})
		var s struct {
			AccessToken string `json:"access_token"`
		}
		res.JSON(t, &s)
		if res.Status != 200 || s.AccessToken == "" {
			t.Fatalf("sign-up %s: %d %s", email, res.Status, res.Body)
		}
		return s.AccessToken
	}
	alice, bob := session("alice@example.com", "192.0.2.11"), session("bob@example.com", "192.0.2.12")

	putRules(t, ts, "authy", `[{"role":"authenticated","per":"user","rate":2,"period_seconds":60}]`)
	as := func(token, from string) int {
		return ts.Rest(t, p, p.AnonKey, "GET", "/", map[string]string{"Authorization": "Bearer " + token, "X-Forwarded-For": from}, nil).Status
	}
	if as(alice, "198.51.100.1") == 429 || as(alice, "198.51.100.2") == 429 {
		t.Fatal("alice limited too early")
	}
	if st := as(alice, "198.51.100.3"); st != 429 {
		t.Fatalf("alice's third request from a third address: %d, want 429", st)
	}
	if st := as(bob, "198.51.100.3"); st == 429 {
		t.Fatal("bob limited by alice's budget")
	}
}

// plinth_ratelimit_redis_calls_total counts the calls that reached Redis:
// sequential requests under a small limit (never reserved) cost one each.
func TestRedisCallsMetric(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t, trustLoopback, withRedis(t))
	p := ts.CreateProject(t, "counted")
	putRules(t, ts, "counted", `[{"role":"anon","per":"ip","rate":100,"period_seconds":60}]`)
	calls := func() int {
		for _, line := range strings.Split(string(ts.Do(t, "GET", "/metrics", nil, nil).Body), "\n") {
			if v, ok := strings.CutPrefix(line, "plinth_ratelimit_redis_calls_total "); ok {
				n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					t.Fatal(err)
				}
				return int(n)
			}
		}
		t.Fatal("no plinth_ratelimit_redis_calls_total in /metrics")
		return 0
	}
	before := calls()
	for range 5 {
		get(t, ts, p, p.AnonKey, "203.0.113.9")
	}
	if got := calls() - before; got != 5 {
		t.Fatalf("%d Redis calls for 5 requests under a small limit, want 5", got)
	}
}
