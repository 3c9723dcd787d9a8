package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Scale is the tenant-scale measurement.
type Scale struct {
	Projects           int     `json:"projects"`
	ProvisionMsPerProj float64 `json:"provision_ms_per_project"`
	HotAloneRPS        float64 `json:"hot_alone_rps"`
	HotWithAllRPS      float64 `json:"hot_with_all_rps"`
	HotRatio           float64 `json:"hot_ratio"`
	// Machine CPU µs per hot request (and the bench process's part), alone
	// and with all projects present: which side a slowdown is on.
	HotAloneCPU float64 `json:"hot_alone_cpu_us_per_req"`
	// The same request on the HTTP floor with Plinth's transaction, measured
	// in turns with Plinth: a drop that both show is Postgres's (or the
	// machine's), one only Plinth shows is Plinth's.
	FloorAloneRPS   float64 `json:"floor_tx_alone_rps"`
	FloorWithAllRPS float64 `json:"floor_tx_with_all_rps"`
	FloorRatio      float64 `json:"floor_tx_ratio"`
	HotAloneSelf    float64 `json:"hot_alone_self_us_per_req"`
	HotWithAllCPU   float64 `json:"hot_with_all_cpu_us_per_req"`
	HotWithAllSelf  float64 `json:"hot_with_all_self_us_per_req"`
	ColdFirstP50ms  float64 `json:"cold_first_request_p50_ms"`
	ColdFirstP99ms  float64 `json:"cold_first_request_p99_ms"`
	TenantsTouched  int     `json:"tenants_touched"`
	RSSPerTenantKiB float64 `json:"rss_per_tenant_touched_kib"`
	TenantConnsHeld int     `json:"tenant_conns_held"`
	CatalogMiB      float64 `json:"catalog_mib"`
}

func (s *Scale) print(w io.Writer) {
	fmt.Fprintf(w, "\ntenant scale: %d projects\n", s.Projects)
	fmt.Fprintf(w, "  provisioning:           %.1f ms/project\n", s.ProvisionMsPerProj)
	fmt.Fprintf(w, "  hot tenant get-by-pk:   %.0f req/s alone, %.0f req/s with all present (%.2fx)\n", s.HotAloneRPS, s.HotWithAllRPS, s.HotRatio)
	fmt.Fprintf(w, "  http-floor+tx, in turn: %.0f req/s alone, %.0f req/s with all present (%.2fx)\n", s.FloorAloneRPS, s.FloorWithAllRPS, s.FloorRatio)
	fmt.Fprintf(w, "  hot CPU per request:    %.0f µs alone (%.0f in this process), %.0f µs with all present (%.0f)\n", s.HotAloneCPU, s.HotAloneSelf, s.HotWithAllCPU, s.HotWithAllSelf)
	fmt.Fprintf(w, "  cold first request:     p50 %.1f ms, p99 %.1f ms (%d tenants)\n", s.ColdFirstP50ms, s.ColdFirstP99ms, s.TenantsTouched)
	fmt.Fprintf(w, "  server RSS per tenant:  %.1f KiB\n", s.RSSPerTenantKiB)
	fmt.Fprintf(w, "  tenant conns held:      %d\n", s.TenantConnsHeld)
	fmt.Fprintf(w, "  catalog size:           %.1f MiB\n", s.CatalogMiB)
}

func rssKiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return 0
}

// hotThroughput is the hot tenant's get-by-pk req/s on Plinth and on the
// floor: rounds runs of d each (at least five), in turns, after a warm-up,
// taking the median of each so one noisy moment on a shared machine does
// not decide a ratio; and Plinth's CPU per request over its runs. Rounds
// are spread out, idle 4×d between them: on the shared VM the same state
// measured a minute apart differed by 20% for half a minute at a time, and
// back-to-back rounds fitted inside one such stretch, medians and all.
func hotThroughput(ctx context.Context, d time.Duration, rounds int, plinth, floor op) (rps, floorRPS, cpuPerReq, selfPerReq float64) {
	run(ctx, 16, d/2, plinth)
	run(ctx, 16, d/2, floor)
	var all, floors []float64
	var total sample
	measure := func(f op) (float64, sample) {
		t0 := time.Now()
		r := run(ctx, 16, d, f)
		return r.rate(time.Since(t0)), r
	}
	for i := 0; i < max(5, rounds); i++ {
		v, r := measure(plinth)
		all = append(all, v)
		total.merge(r)
		v, _ = measure(floor)
		floors = append(floors, v)
		select {
		case <-ctx.Done():
			return 0, 0, 0, 0
		case <-time.After(4 * d):
		}
	}
	cpuPerReq, selfPerReq = total.cpuPerRequest()
	rps, _, _ = spread(all)
	floorRPS, _, _ = spread(floors)
	return rps, floorRPS, cpuPerReq, selfPerReq
}

// tenantScale provisions n projects with one small table each, then compares
// the hot tenant's throughput and measures cold tenants' first requests.
func tenantScale(ctx context.Context, e *env, o options, hotKey string, hot project, floorURL string) (*Scale, error) {
	n := o.tenants
	s := &Scale{Projects: n}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 30 * time.Second}
	getPK := scenarios(hot.Schema, nil)[0]
	hotOp := plinthOp(client, e.baseURL+"/p/bench/rest/v1", map[string]string{"apikey": hotKey}, getPK)
	floor := floorOp(client, floorURL, getPK)
	s.HotAloneRPS, s.FloorAloneRPS, s.HotAloneCPU, s.HotAloneSelf = hotThroughput(ctx, o.duration, o.rounds, hotOp, floor)

	fmt.Fprintf(os.Stderr, "provisioning %d projects ...\n", n)
	keys := make([]string, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		var p project
		ref := fmt.Sprintf("t%06d", i)
		if _, err := e.adminCall(ctx, "POST", "/projects", map[string]string{"ref": ref}, &p); err != nil {
			return nil, err
		}
		keys[i] = p.APIKeys["service_role"]
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	s.ProvisionMsPerProj = float64(time.Since(start).Milliseconds()) / float64(n)

	// Cold tenants: a table each (created in bulk through one superuser
	// session to keep setup time down), then the first data request.
	touch := min(n, 200)
	conn, err := pgx.Connect(ctx, e.superURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	for i := 0; i < touch; i++ {
		schema := fmt.Sprintf("p_t%06d", i)
		if _, err := conn.Exec(ctx, fmt.Sprintf(`set role %s_owner; create table %s.notes (id int primary key, body text); insert into %s.notes values (1, 'x'); reset role`, schema, schema, schema)); err != nil {
			return nil, err
		}
	}
	rss0 := rssKiB()
	var cold []time.Duration
	for i := 0; i < touch; i++ {
		t := time.Now()
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/p/t%06d/rest/v1/notes?id=eq.1", e.baseURL, i), nil)
		req.Header.Set("apikey", keys[i])
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			return nil, fmt.Errorf("cold tenant %d: status %d", i, res.StatusCode)
		}
		cold = append(cold, time.Since(t))
	}
	sort.Slice(cold, func(i, j int) bool { return cold[i] < cold[j] })
	s.TenantsTouched = touch
	s.ColdFirstP50ms = percentile(cold, 0.5)
	s.ColdFirstP99ms = percentile(cold, 0.99)
	s.RSSPerTenantKiB = (rssKiB() - rss0) / float64(touch)

	waited, quiet, err := settleCatalog(ctx, conn, o.settleMax)
	if err != nil {
		return nil, err
	}
	if quiet {
		fmt.Fprintf(os.Stderr, "catalog settled after provisioning in %s\n", waited.Round(time.Second))
	} else {
		fmt.Fprintf(os.Stderr, "machine still busy %s after provisioning; measuring anyway\n", waited.Round(time.Second))
	}
	s.HotWithAllRPS, s.FloorWithAllRPS, s.HotWithAllCPU, s.HotWithAllSelf = hotThroughput(ctx, o.duration, o.rounds, hotOp, floor)
	if s.HotAloneRPS > 0 {
		s.HotRatio = s.HotWithAllRPS / s.HotAloneRPS
	}
	if s.FloorAloneRPS > 0 {
		s.FloorRatio = s.FloorWithAllRPS / s.FloorAloneRPS
	}
	if err := conn.QueryRow(ctx, `select count(*) from pg_stat_activity where usename like 'p\_%\_login'`).Scan(&s.TenantConnsHeld); err != nil {
		return nil, err
	}
	var catalog int64
	if err := conn.QueryRow(ctx, `select sum(pg_total_relation_size(c.oid)) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'pg_catalog'`).Scan(&catalog); err != nil {
		return nil, err
	}
	s.CatalogMiB = float64(catalog) / (1 << 20)
	return s, nil
}

// settleCatalog lets Postgres finish what provisioning left it (the
// catalogs' vacuum and analyze, dirty pages to write) before the hot tenant
// is measured again, so that the ratio shows what many projects cost a
// request and not the aftermath of creating them: it vacuums every catalog
// table, checkpoints, and then waits (up to maxWait) until the machine
// is quiet: no autovacuum worker and the CPU nearly idle for quietFor in a
// row. A moment without workers is not enough on its own: the launcher
// starts the next ones up to a naptime later; the CPU shows that and any
// other work still going on.
func settleCatalog(ctx context.Context, conn *pgx.Conn, maxWait time.Duration) (waited time.Duration, quiet bool, err error) {
	start := time.Now()
	var tables string
	if err := conn.QueryRow(ctx, `select string_agg('pg_catalog.' || quote_ident(relname), ', ') from pg_class where relnamespace = 'pg_catalog'::regnamespace and relkind = 'r'`).Scan(&tables); err != nil {
		return 0, false, fmt.Errorf("list catalogs: %w", err)
	}
	if _, err := conn.Exec(ctx, "vacuum (analyze) "+tables); err != nil {
		return 0, false, fmt.Errorf("vacuum catalogs: %w", err)
	}
	if _, err := conn.Exec(ctx, "checkpoint"); err != nil {
		return 0, false, fmt.Errorf("checkpoint: %w", err)
	}
	const (
		quietFor  = 10 * time.Second
		quietBusy = 0.10 // share of all cores
	)
	quietSince := time.Now()
	last, _ := readCPU()
	for time.Since(start) < maxWait {
		select {
		case <-ctx.Done():
			return 0, false, ctx.Err()
		case <-time.After(time.Second):
		}
		var workers int
		if err := conn.QueryRow(ctx, `select count(*) from pg_stat_activity where backend_type = 'autovacuum worker'`).Scan(&workers); err != nil {
			return 0, false, err
		}
		busy := 0.0
		if now, ok := readCPU(); ok {
			busy, last = now.sub(last).busyShare(), now
		}
		if workers > 0 || busy > quietBusy {
			quietSince = time.Now()
		} else if time.Since(quietSince) >= quietFor {
			return time.Since(start), true, nil
		}
	}
	return time.Since(start), false, nil
}
