// Command plinth-bench measures Plinth against the physical floors on the
// same machine and in the same run: raw pgx running the same SQL (the
// database floor), a minimal net/http handler running it (the HTTP floor),
// that handler wrapped in Plinth's per-request transaction, and Plinth over
// HTTP with every feature on. Targets run in interleaved rounds at the same
// concurrency. Then it measures tenant scale with --tenants projects.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plinth-dev/plinth/platform/config"
	"github.com/plinth-dev/plinth/platform/devdb"
	"github.com/plinth-dev/plinth/platform/server"
)

type options struct {
	duration    time.Duration
	rounds      int
	concurrency []int
	only        map[string]bool
	targets     map[string]bool
	jsonOut     string
	svgOut      string
	tenants     int
	pool        int
	keepDir     bool
	cpuProfile  string
	memProfile  string
	noLimits    bool
	settleMax   time.Duration
}

func main() {
	var o options
	var conc, only, targets string
	flag.DurationVar(&o.duration, "duration", 500*time.Millisecond, "time per target per round")
	flag.IntVar(&o.rounds, "rounds", 12, "interleaved rounds per scenario (short rounds, many of them: each pairs targets closely in time)")
	flag.StringVar(&conc, "concurrency", "16", "comma-separated concurrency levels")
	flag.StringVar(&only, "scenarios", "", "comma-separated scenario names (default all)")
	flag.StringVar(&targets, "targets", "", "comma-separated targets to run: db-floor, http-floor, http-floor+tx, plinth (default all; ratios need both floors)")
	flag.StringVar(&o.jsonOut, "json", "", "write results as JSON to this file (- for stdout)")
	flag.StringVar(&o.svgOut, "svg", "", "write an SVG chart to this file")
	flag.IntVar(&o.tenants, "tenants", 1000, "projects to provision for the tenant-scale measurement (10000 for the full one, 0 skips it)")
	flag.IntVar(&o.pool, "pool", 8, "connections per project pool (Plinth) and per floor pool")
	flag.BoolVar(&o.keepDir, "keep", false, "keep the private Postgres directory")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (server included) to this file")
	flag.StringVar(&o.memProfile, "memprofile", "", "write an allocation profile of the whole run to this file")
	flag.DurationVar(&o.settleMax, "settle-max", 5*time.Minute, "longest wait, after provisioning, for autovacuum to finish and the machine to go quiet")
	flag.BoolVar(&o.noLimits, "no-limits", false, "leave the Redis rate limiter off (to show what it costs)")
	flag.Parse()
	for _, c := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "bad --concurrency:", c)
			os.Exit(2)
		}
		o.concurrency = append(o.concurrency, n)
	}
	if only != "" {
		o.only = map[string]bool{}
		for _, s := range strings.Split(only, ",") {
			o.only[strings.TrimSpace(s)] = true
		}
	}
	if targets != "" {
		o.targets = map[string]bool{}
		for _, s := range strings.Split(targets, ",") {
			o.targets[strings.TrimSpace(s)] = true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpuprofile:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if o.memProfile != "" {
		defer writeAllocs(o.memProfile)
	}
	if err := bench(ctx, o, os.Stdout); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "plinth-bench:", err)
		os.Exit(1)
	}
}

func writeAllocs(path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "memprofile:", err)
	}
}

// env is the private Postgres, Redis and Plinth server the run uses.
type env struct {
	superURL string
	baseURL  string
	admin    string
	pg       *devdb.Postgres
	redis    *devdb.Redis
	srv      *server.Server
	stop     func()
}

func startEnv(ctx context.Context, o options) (*env, error) {
	dir, err := os.MkdirTemp("", "plinth-bench-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	e := &env{admin: "bench-admin-token-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	var cleanups []func()
	e.stop = func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		if !o.keepDir {
			_ = os.RemoveAll(dir)
		}
	}
	fail := func(err error) (*env, error) { e.stop(); return nil, err }

	if e.pg, err = devdb.StartPostgres(ctx, devdb.PostgresOptions{Dir: dir + "/pg"}); err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, func() { _ = e.pg.Stop(context.Background()) })
	e.superURL = e.pg.URL("plinth_bench")
	controlURL, err := devdb.EnsureControlDatabase(ctx, e.pg.URL("postgres"), "plinth_bench", "bench-control-pw", "plinth_bench")
	if err != nil {
		return fail(err)
	}
	cfg, err := config.Load(func(string) string { return "" }, nil)
	if err != nil {
		return fail(err)
	}
	cfg.DatabaseURL = controlURL
	cfg.SecretKey = "plinth-bench-secret-key-0123456789"
	cfg.AdminToken = e.admin
	cfg.TenantPoolMax = o.pool
	cfg.MaxRows = benchMaxRows
	cfg.TotalConnsMax = max(64, o.pool*8)
	// The platform default limit would refuse a load test; the run sets a
	// project limit high enough never to refuse instead (limiter still on).
	cfg.RateLimitDefault = config.RateSpec{}
	if e.redis, err = devdb.StartRedis(ctx, devdb.RedisOptions{Dir: dir + "/redis"}); err == nil {
		cleanups = append(cleanups, func() { _ = e.redis.Stop(context.Background()) })
		cfg.RedisURL = e.redis.URL()
	} else if !errors.Is(err, devdb.ErrNoRedis) {
		return fail(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if e.srv, err = server.New(ctx, cfg, log); err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.srv.Run(sctx, ln); close(done) }()
	cleanups = append(cleanups, func() { cancel(); <-done; e.srv.Close() })
	e.srv.WaitListening(10 * time.Second)
	e.baseURL = "http://" + ln.Addr().String()
	return e, nil
}

// adminCall calls the admin API and decodes the answer into out (if set).
func (e *env) adminCall(ctx context.Context, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(mustJSON(body)))
	}
	req, err := http.NewRequestWithContext(ctx, method, e.baseURL+"/admin/v1"+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+e.admin)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return res.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return res.StatusCode, json.Unmarshal(b, out)
	}
	return res.StatusCode, nil
}

// redisCalls reads the server's count of rate-limiter calls to Redis.
func (e *env) redisCalls(ctx context.Context) int64 {
	req, err := http.NewRequestWithContext(ctx, "GET", e.baseURL+"/metrics", nil)
	if err != nil {
		return 0
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "plinth_ratelimit_redis_calls_total "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f)
		}
	}
	return 0
}

type project struct {
	Ref     string            `json:"ref"`
	Schema  string            `json:"schema"`
	APIKeys map[string]string `json:"api_keys"`
}

func bench(ctx context.Context, o options, stdout io.Writer) error {
	fmt.Fprintln(os.Stderr, "starting private Postgres, Redis and Plinth ...")
	e, err := startEnv(ctx, o)
	if err != nil {
		return err
	}
	defer e.stop()
	var p project
	if _, err := e.adminCall(ctx, "POST", "/projects", map[string]string{"ref": "bench"}, &p); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "seeding 100k rows ...")
	if _, err := e.adminCall(ctx, "POST", "/projects/bench/sql", map[string]string{"query": seedSQL}, nil); err != nil {
		return err
	}
	user, err := signUp(ctx, e, p)
	if err != nil {
		fmt.Fprintln(os.Stderr, "auth scenario skipped:", err)
	}
	features := enableFeatures(ctx, e, user, !o.noLimits)
	key := p.APIKeys["service_role"]
	if features.Rules {
		key = p.APIKeys["anon"]
	}
	fmt.Fprintf(os.Stderr, "plinth features: key check on, rules %v, redis limiter %v, auth %v\n", features.Rules, features.Limits && e.redis != nil, features.Auth)
	if !features.Rules {
		user = nil // without rules the owner-only scenario measures nothing
	}

	dbPool, err := newPool(ctx, e.superURL, o.pool)
	if err != nil {
		return err
	}
	defer dbPool.Close()
	// The seed's autovacuum (a fresh 100k-row table) and its first
	// checkpoint would otherwise land in some targets' rounds.
	if err := settle(ctx, dbPool, p.Schema); err != nil {
		return err
	}
	all := scenarios(p.Schema, user)
	byName := map[string]Scenario{}
	for _, s := range all {
		byName[s.Name] = s
	}
	plainURL, stopPlain, err := startFloor(&httpFloor{pool: dbPool, scenarios: byName, schema: p.Schema})
	if err != nil {
		return err
	}
	defer stopPlain()
	txURL, stopTx, err := startFloor(&httpFloor{pool: dbPool, scenarios: byName, schema: p.Schema, role: p.Schema + "_anon", tx: true})
	if err != nil {
		return err
	}
	defer stopTx()

	if err := sameAnswers(ctx, http.DefaultClient, txURL, e.baseURL+"/p/bench/rest/v1", map[string]string{"apikey": key}, all); err != nil {
		return fmt.Errorf("targets disagree: %w", err)
	}
	report := Report{Machine: machine(), Features: features, Started: time.Now().UTC()}
	lastCalls := e.redisCalls(ctx)
	for _, conc := range o.concurrency {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2, MaxConnsPerHost: conc * 2}, Timeout: 30 * time.Second}
		headers := map[string]string{"apikey": key}
		for _, s := range all {
			if o.only != nil && !o.only[s.Name] {
				continue
			}
			targets := []struct {
				name string
				f    op
			}{
				{"db-floor", dbFloor(dbPool, p.Schema, s)},
				{"http-floor", floorOp(client, plainURL, s)},
				{"http-floor+tx", floorOp(client, txURL, s)},
				{"plinth", plinthOp(client, e.baseURL+"/p/bench/rest/v1", headers, s)},
			}
			if o.targets != nil {
				targets = slices.DeleteFunc(targets, func(t struct {
					name string
					f    op
				}) bool {
					return !o.targets[t.name]
				})
			}
			samples := make([]sample, len(targets))
			elapsed := make([]time.Duration, len(targets))
			// roundRPS[r][ti]: each round's throughput, for ratios paired
			// within a round (robust to the machine's drift across rounds).
			roundRPS := make([][]float64, o.rounds)
			// Warm up each target once (pools, prepared plans) before measuring.
			for _, t := range targets {
				run(ctx, conc, 300*time.Millisecond, t.f)
			}
			for r := 0; r < o.rounds; r++ {
				roundRPS[r] = make([]float64, len(targets))
				for i := range targets {
					ti := roundOrder(r, i, len(targets))
					t := targets[ti]
					t0 := time.Now()
					got := run(ctx, conc, o.duration, t.f)
					took := time.Since(t0)
					samples[ti].merge(got)
					elapsed[ti] += took
					roundRPS[r][ti] = got.rate(took)
					if ctx.Err() != nil {
						return ctx.Err()
					}
				}
			}
			var results []Result
			for ti, t := range targets {
				results = append(results, summarize(s.Name, t.name, conc, samples[ti], elapsed[ti], s.Rows))
				if t.name == "plinth" {
					calls := e.redisCalls(ctx)
					results[ti].RedisCalls = calls - lastCalls
					lastCalls = calls
				}
			}
			if o.targets == nil {
				for i := range results {
					results[i].VsDB = ratio(results[i], results[0])
					results[i].VsHTTP = ratio(results[i], results[1])
					results[i].RoundsVsHTTP = pairedRatios(roundRPS, i, 1)
				}
			}
			report.Results = append(report.Results, results...)
			printResults(os.Stderr, results)
		}
	}
	if o.tenants > 0 {
		sc, err := tenantScale(ctx, e, o, key, p, txURL)
		if err != nil {
			return err
		}
		report.Scale = sc
	}
	return report.write(stdout, o)
}

// settle vacuums the seeded tables (setting their hint bits and
// visibility map) and checkpoints, so no target measures that work.
func settle(ctx context.Context, p *pgxpool.Pool, schema string) error {
	for _, t := range []string{"items", "authors", "sink"} {
		if _, err := p.Exec(ctx, "vacuum (analyze) "+pgx.Identifier{schema, t}.Sanitize()); err != nil {
			return fmt.Errorf("vacuum %s: %w", t, err)
		}
	}
	_, err := p.Exec(ctx, "checkpoint")
	return err
}

func newPool(ctx context.Context, url string, size int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(size)
	return pgxpool.NewWithConfig(ctx, cfg)
}

func ratio(r, floor Result) float64 {
	a, b := r.RPS, floor.RPS
	if r.RowsPerSec > 0 {
		a, b = r.RowsPerSec, floor.RowsPerSec
	}
	if b == 0 {
		return 0
	}
	return a / b
}

// roundOrder is the target measured i-th in round r of n targets: the rows
// of a Williams square (its first row 0, 1, n-1, 2, n-2, …, each next row
// shifted by one; every other square reversed, which odd n needs), so over the
// rounds each target starts as often as any and follows every other target
// about equally often: none is always measured right after the same
// neighbour's load (or its checkpoint).
func roundOrder(r, i, n int) int {
	if (r/n)%2 == 1 {
		i = n - 1 - i
	}
	pos := 0
	switch {
	case i%2 == 1:
		pos = (i + 1) / 2
	case i > 0:
		pos = n - i/2
	}
	return (pos + r) % n
}

// pairedRatios is target's throughput over floor's in each round, in
// round order (a round with no floor throughput is left out).
func pairedRatios(roundRPS [][]float64, target, floor int) []float64 {
	var out []float64
	for _, r := range roundRPS {
		if r[floor] > 0 {
			out = append(out, r[target]/r[floor])
		}
	}
	return out
}

// spread is the median, lowest and highest of xs (zeros without any).
func spread(xs []float64) (median, lo, hi float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	s := slices.Sorted(slices.Values(xs))
	median = s[len(s)/2]
	if len(s)%2 == 0 {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return median, s[0], s[len(s)-1]
}

// Features says which of Plinth's request features were on for the run.
type Features struct {
	Rules  bool `json:"rules"`
	Limits bool `json:"rate_limits"`
	// Auth: a signed-up user runs the owner-only scenario.
	Auth bool `json:"auth"`
}

// signUp creates the bench user through the project's auth API and gives it
// the first ownedRows items.
func signUp(ctx context.Context, e *env, p project) (*benchUser, error) {
	body := mustJSON(map[string]string{"email": "bench@example.com", "password": "bench-password-123"})
	req, err := http.NewRequestWithContext(ctx, "POST", e.baseURL+"/p/"+p.Ref+"/auth/v1/signup", strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("apikey", p.APIKeys["anon"])
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("signup: %d %s", res.StatusCode, b)
	}
	if err := json.Unmarshal(b, &out); err != nil || out.AccessToken == "" || out.User.ID == "" {
		return nil, fmt.Errorf("signup: no session in %s", b)
	}
	own := fmt.Sprintf("update items set owner_id = '%s' where id <= %d; create index items_owner on items (owner_id, id); analyze items;", out.User.ID, ownedRows)
	if _, err := e.adminCall(ctx, "POST", "/projects/"+p.Ref+"/sql", map[string]string{"query": own}, nil); err != nil {
		return nil, err
	}
	return &benchUser{ID: out.User.ID, Token: out.AccessToken}, nil
}

// enableFeatures turns on an allow rule for anon (so the anon key goes
// through Casbin) and a rate limit high enough never to refuse.
func enableFeatures(ctx context.Context, e *env, user *benchUser, limits bool) Features {
	var f Features
	policies := []map[string]string{{"role": "anon", "table": "*", "action": "*", "condition": ""}}
	if user != nil {
		// Signed-in users see only their own items (DESIGN §7.1's example).
		policies = append(policies, map[string]string{"role": "authenticated", "table": "items", "action": "select", "condition": "owner_id=eq.{auth.uid}"})
	}
	rules := map[string]any{"policies": policies}
	if _, err := e.adminCall(ctx, "PUT", "/projects/bench/rules", rules, nil); err == nil {
		f.Rules, f.Auth = true, user != nil
	} else {
		fmt.Fprintln(os.Stderr, "rules not enabled:", err)
	}
	if !limits {
		return f
	}
	lims := map[string]any{"rules": []map[string]any{
		{"role": "anon", "per": "key", "rate": 1000000, "period_seconds": 1, "burst": 1000000},
		{"role": "service_role", "per": "key", "rate": 1000000, "period_seconds": 1, "burst": 1000000},
	}}
	if _, err := e.adminCall(ctx, "PUT", "/projects/bench/rate-limits", lims, nil); err == nil {
		f.Limits = true
	} else {
		fmt.Fprintln(os.Stderr, "rate limits not enabled:", err)
	}
	return f
}
