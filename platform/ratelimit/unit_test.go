package ratelimit

import (
	"context"
	"hash/maphash"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/platform/config"
)

// fakeClock drives a Memory backend by hand.
func fakeClock(m *Memory) *time.Duration {
	var now time.Duration = time.Hour
	m.now = func() time.Duration { return now }
	return &now
}

func TestMemoryGCRA(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	now := fakeClock(m)
	ctx := context.Background()
	lim := Limit{Rate: 10, Period: time.Second, Burst: 5} // one every 100ms, 5 at once
	for i := 4; i >= 0; i-- {
		res, _ := m.Allow(ctx, "k", lim)
		if !res.Allowed || res.Remaining != i {
			t.Fatalf("request %d: %+v, want allowed with %d left", 5-i, res, i)
		}
	}
	res, _ := m.Allow(ctx, "k", lim)
	if res.Allowed || res.RetryAfter != 100*time.Millisecond || res.ResetAfter != 500*time.Millisecond {
		t.Fatalf("6th request: %+v, want refused, retry in 100ms, full in 500ms", res)
	}
	// A refusal costs nothing: after 100ms exactly one more passes.
	*now += 100 * time.Millisecond
	if res, _ := m.Allow(ctx, "k", lim); !res.Allowed || res.Remaining != 0 {
		t.Fatalf("after 100ms: %+v", res)
	}
	if res, _ := m.Allow(ctx, "k", lim); res.Allowed {
		t.Fatalf("second after 100ms: %+v", res)
	}
	// Other keys are separate buckets.
	if res, _ := m.Allow(ctx, "other", lim); !res.Allowed || res.Remaining != 4 {
		t.Fatalf("other key: %+v", res)
	}
	// A full bucket is forgotten by the next sweep.
	*now += time.Duration(sweepEvery+1) * time.Second
	m.Allow(ctx, "k", lim) // sweeps k's shard, then adds k afresh
	sh := &m.shards[maphash.String(m.seed, "k")%uint64(len(m.shards))]
	if n := len(sh.tat); n != 1 {
		t.Fatalf("%d keys kept after sweep, want 1", n)
	}
	if _, err := m.Allow(ctx, "k", Limit{}); err == nil {
		t.Fatal("zero limit accepted")
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		peer  string
		xff   []string
		trust []netip.Prefix
		want  string
	}{
		{"203.0.113.9", []string{"1.2.3.4"}, nil, "203.0.113.9"},                 // no proxies trusted: header ignored
		{"203.0.113.9", []string{"1.2.3.4"}, trusted, "203.0.113.9"},             // peer is not a trusted proxy
		{"10.0.0.1", []string{"1.2.3.4"}, trusted, "1.2.3.4"},                    // one proxy
		{"10.0.0.1", []string{"6.6.6.6, 1.2.3.4, 10.0.0.2"}, trusted, "1.2.3.4"}, // spoofed left part ignored
		{"10.0.0.1", []string{"6.6.6.6", "1.2.3.4"}, trusted, "1.2.3.4"},         // several header lines
		{"10.0.0.1", []string{"1.2.3.4:5678"}, trusted, "1.2.3.4"},               // with a port
		{"10.0.0.1", []string{"[2001:db8::1]:443"}, trusted, "2001:db8::1"},
		{"10.0.0.1", []string{"10.0.0.3, 10.0.0.2"}, trusted, "10.0.0.3"}, // all proxies: the leftmost
		{"10.0.0.1", []string{"1.2.3.4, junk"}, trusted, "10.0.0.1"},      // garbage: stop at what we know
		{"10.0.0.1", nil, trusted, "10.0.0.1"},
		{"::ffff:10.0.0.1", []string{"1.2.3.4"}, trusted, "1.2.3.4"}, // IPv4-mapped peer
		{"::1", []string{"::ffff:1.2.3.4"}, trusted, "1.2.3.4"},
	} {
		got := ClientIP(netip.MustParseAddr(tc.peer), tc.xff, tc.trust)
		if got.String() != tc.want {
			t.Errorf("ClientIP(%s, %q) = %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
	if s := ipSubject(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")); s != "2001:db8:1:2::/64" {
		t.Errorf("IPv6 subject %s, want the /64", s)
	}
	if s := ipSubject(netip.MustParseAddr("192.0.2.7")); s != "192.0.2.7" {
		t.Errorf("IPv4 subject %s", s)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := Rule{Role: "anon", Per: "ip", Rate: 100, PeriodSeconds: 1, Burst: 100}
	with := func(f func(*Rule)) []Rule { r := ok; f(&r); return []Rule{r} }
	if err := Validate([]Rule{ok, {Scope: "signin", Role: "*", Per: "ip", Rate: 5, PeriodSeconds: 60, Burst: 5},
		{Role: "editor_2", Per: "user", Rate: 1, PeriodSeconds: 86400, Burst: 1_000_000}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rules []Rule
		want  string
	}{
		{with(func(r *Rule) { r.Role = "" }), "rules[0].role"},
		{with(func(r *Rule) { r.Role = "Admin" }), "rules[0].role"},
		{with(func(r *Rule) { r.Role = "user:1" }), "rules[0].role"},
		{with(func(r *Rule) { r.Per = "session" }), "rules[0].per"},
		{with(func(r *Rule) { r.Scope = "rest" }), "rules[0].scope"},
		{with(func(r *Rule) { r.Rate = 0 }), "rules[0].rate"},
		{with(func(r *Rule) { r.Rate = -5 }), "rules[0].rate"},
		{with(func(r *Rule) { r.Rate = config.MaxRate + 1 }), "rules[0].rate"},
		{with(func(r *Rule) { r.PeriodSeconds = 0 }), "rules[0].period_seconds"},
		{with(func(r *Rule) { r.PeriodSeconds = 86401 }), "rules[0].period_seconds"},
		{with(func(r *Rule) { r.Burst = 0 }), "rules[0].burst"},
		{[]Rule{ok, ok}, "rules[1].per repeats rules[0]"},
		{make([]Rule, MaxRules+1), "at most"},
	} {
		err := Validate(tc.rules)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want an error about %s", tc.rules, err, tc.want)
		}
	}
}

func TestPolicies(t *testing.T) {
	t.Parallel()
	d := Defaults{API: config.RateSpec{Rate: 1000, Period: time.Second, Burst: 1000},
		Signin: config.RateSpec{Rate: 30, Period: 5 * time.Minute, Burst: 30}}
	names := func(ps []Policy) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.Name+"/"+p.Per)
		}
		return strings.Join(s, " ")
	}
	empty := compile(nil, d)
	if got := names(empty.forRequest(ScopeAPI, "anon")); got != "default/key" {
		t.Errorf("no rules: %s", got)
	}
	if got := names(empty.forRequest(ScopeSignin, "anon")); got != "default/key signin/ip" {
		t.Errorf("no rules, sign-in: %s", got)
	}
	// Refresh is off in these defaults: only the API default applies.
	if got := names(empty.forRequest(ScopeRefresh, "anon")); got != "default/key" {
		t.Errorf("refresh off: %s", got)
	}
	rs := compile([]Rule{
		{Role: "anon", Per: "ip", Rate: 10, PeriodSeconds: 1, Burst: 10},
		{Role: "anon", Per: "key", Rate: 100, PeriodSeconds: 1, Burst: 100},
		{Role: "*", Per: "user", Rate: 5, PeriodSeconds: 1, Burst: 5},
		{Scope: "signin", Role: "anon", Per: "ip", Rate: 3, PeriodSeconds: 60, Burst: 3},
	}, d)
	for _, tc := range []struct{ scope, role, want string }{
		{ScopeAPI, "anon", "anon.ip/ip anon.key/key all/user"},
		{ScopeAPI, "authenticated", "all/user"},
		{ScopeSignin, "anon", "anon.ip/ip anon.key/key all/user signin.anon/ip"},
		// A scope without a rule for the role keeps the platform default.
		{ScopeSignin, "service_role", "all/user signin/ip"},
	} {
		if got := names(rs.forRequest(tc.scope, tc.role)); got != tc.want {
			t.Errorf("%q %s: %s, want %s", tc.scope, tc.role, got, tc.want)
		}
	}
	dr := d.Rules()
	if len(dr) != 2 || dr[0].Per != "key" || dr[1].Scope != "signin" || dr[1].PeriodSeconds != 300 {
		t.Errorf("defaults as rules: %+v", dr)
	}
}

func TestAuthScope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ method, path, grant, want string }{
		{"POST", "/signup", "", ScopeSignin},
		{"POST", "/token", "password", ScopeSignin},
		{"POST", "/token", "pkce", ScopeSignin},
		{"POST", "/token", "refresh_token", ScopeRefresh},
		{"POST", "/otp", "", ScopeOTP},
		{"POST", "/magiclink", "", ScopeOTP},
		{"POST", "/recover", "", ScopeOTP},
		{"GET", "/verify", "", ScopeOTP},
		{"POST", "/verify/", "", ScopeOTP},
		{"GET", "/user", "", ScopeAPI},
		{"PUT", "/user", "", ScopeAPI},
		{"POST", "/logout", "", ScopeAPI},
		{"GET", "/.well-known/jwks.json", "", ScopeAPI},
		{"GET", "/signup", "", ScopeAPI},
	} {
		if got := AuthScope(tc.method, tc.path, tc.grant); got != tc.want {
			t.Errorf("AuthScope(%s %s %s) = %q, want %q", tc.method, tc.path, tc.grant, got, tc.want)
		}
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	anon := Policy{Name: "anon", Per: "ip", Limit: Limit{Rate: 100, Period: time.Second, Burst: 100}}
	signin := Policy{Name: "signin", Per: "ip", Limit: Limit{Rate: 30, Period: 5 * time.Minute, Burst: 30}}
	trio := func(r rendered) [3]string { return [3]string{r.limit, string(r.remaining), string(r.reset)} }
	var buf [8]byte // smaller than needed: render grows past it
	r := render([]check{{anon, Result{Allowed: true, Remaining: 57, ResetAfter: 430 * time.Millisecond}}}, buf[:])
	if r.policy != `"anon";q=100;w=1` || string(r.rateLimit) != `"anon";r=57;t=1` || trio(r) != [3]string{"100", "57", "1"} || r.refused {
		t.Fatalf("allowed: %+v", r)
	}
	r = render([]check{
		{anon, Result{Allowed: true, Remaining: 99, ResetAfter: 10 * time.Millisecond}},
		{signin, Result{RetryAfter: 9500 * time.Millisecond, ResetAfter: 300 * time.Second}},
	}, make([]byte, 256))
	if r.policy != `"anon";q=100;w=1, "signin";q=30;w=300` || string(r.rateLimit) != `"anon";r=99;t=1, "signin";r=0;t=300` {
		t.Fatalf("two policies: %+v", r)
	}
	if !r.refused || r.retryAfter != 10 || r.binding.Name != "signin" || trio(r) != [3]string{"30", "0", "300"} {
		t.Fatalf("refused: %+v", r)
	}
	// Without a refusal the policy with the fewest requests left binds.
	r = render([]check{
		{anon, Result{Allowed: true, Remaining: 3, ResetAfter: time.Second}},
		{signin, Result{Allowed: true, Remaining: 29, ResetAfter: 10 * time.Second}},
	}, nil)
	if r.binding.Name != "anon" || string(r.remaining) != "3" || string(r.rateLimit) != `"anon";r=3;t=1, "signin";r=29;t=10` {
		t.Fatalf("binding: %+v", r)
	}
	if s := sfString(`a"b\c` + "\n"); s != `"a\"b\\c"` {
		t.Fatalf("sfString: %s", s)
	}
}
