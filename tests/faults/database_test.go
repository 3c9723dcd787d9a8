package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/config"
)

// small keeps the time bounds of fault tests short: a request that waits for
// a gone database gives up within seconds.
func small(c *config.Config) {
	c.StatementTimeout = 2 * time.Second
	c.TenantPoolMax = 4
	c.TotalConnsMax = 16
	// While Postgres is down, 503s come back in microseconds and a client
	// loop can pass the platform default of 1000/s per key; these tests are
	// about the database, so the limit stays on but out of reach.
	c.RateLimitDefault = config.RateSpec{Rate: 1_000_000, Period: time.Second, Burst: 1_000_000}
}

// itemsSQL makes the table writers insert into. id is deliberately not
// unique: an insert applied twice must show up as a duplicate.
const itemsSQL = `create table items (seq bigserial primary key, id text not null, at timestamptz not null default now());
insert into items (id) values ('seed-1'), ('seed-2'), ('seed-3')`

// mix runs readers and writers against a project's data API until ctx ends.
// Every outcome goes to tl, judged by allowed; acknowledged inserts to ack.
type mix struct {
	c        *client
	ref, key string
	prefix   string // of the ids this mix writes
	tl       *tally
	ack      *acked
	allowed  func(outcome) bool
}

func (m *mix) run(ctx context.Context, readers, writers int) *sync.WaitGroup {
	var wg sync.WaitGroup
	h := map[string]string{"apikey": m.key, "Prefer": "return=minimal"}
	base := "/p/" + m.ref + "/rest/v1/items"
	for r := range readers {
		wg.Go(func() {
			for ctx.Err() == nil {
				o := m.c.do("GET", base+"?select=id&order=seq.desc&limit=5", h, nil)
				m.tl.add(fmt.Sprintf("reader %d", r), o, o.Status == http.StatusOK || m.allowed(o))
			}
		})
	}
	for w := range writers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				id := fmt.Sprintf("%s-%d-%d", m.prefix, w, i)
				o := m.c.do("POST", base, h, map[string]string{"id": id})
				if o.Status == http.StatusCreated {
					m.ack.add(id)
				}
				m.tl.add("insert "+id, o, o.Status == http.StatusCreated || m.allowed(o))
			}
		})
	}
	return &wg
}

// TestBackendsTerminated kills the project's Postgres backends again and
// again while clients read and write: each request either succeeds or gets
// a clean 503, every acknowledged insert is stored once, and the project
// answers normally right after the killing stops.
func TestBackendsTerminated(t *testing.T) {
	ts := testserver.Start(t, small)
	p := ts.CreateProject(t, "victim")
	ts.SQL(t, p.Ref, itemsSQL)

	d := 3 * time.Second
	if long() {
		d = 30 * time.Second
	}
	c := newClient(ts.URL, 10*time.Second)
	defer c.close()
	m := &mix{c: c, ref: p.Ref, key: p.ServiceKey, prefix: "kill", tl: newTally(), ack: &acked{}, allowed: clean503}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	wg := m.run(ctx, 3, 3)

	// The killer: as superuser, terminate every backend of the project's
	// login role every 100ms.
	super, err := pgx.Connect(context.Background(), ts.DB.SuperURL)
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close(context.Background())
	killed, rounds := 0, 0
	for ctx.Err() == nil {
		var n int
		if err := super.QueryRow(context.Background(),
			"select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity where usename = $1",
			p.Schema+"_login").Scan(&n); err != nil {
			t.Fatal(err)
		}
		killed += n
		rounds++
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	if killed == 0 {
		t.Fatal("no backend was terminated: the load did not reach the database")
	}
	m.tl.check(t)

	// Recovery: the next requests succeed (at most one more 503 per pooled
	// connection that died idle), then every one does.
	h := map[string]string{"apikey": p.ServiceKey}
	took := eventually(t, 5*time.Second, "reads succeed again", func() bool {
		return c.do("GET", "/p/"+p.Ref+"/rest/v1/items?limit=1", h, nil).Status == http.StatusOK
	})
	for i := range 20 {
		id := fmt.Sprintf("after-%d", i)
		if o := c.do("POST", "/p/"+p.Ref+"/rest/v1/items", h, map[string]string{"id": id}); o.Status != http.StatusCreated {
			t.Fatalf("insert after the faults: %d %v %s", o.Status, o.Err, o.Body)
		}
		m.ack.add(id)
	}
	n := verifyWrites(t, ts.DB.SuperURL, p.Schema+".items", m.ack.list())
	t.Logf("backends terminated: %d in %d rounds over %v; %s; recovered in %v; %d acknowledged writes verified",
		killed, rounds, d, m.tl, took.Round(time.Millisecond), n)
}

// TestPostgresRestart stops Postgres under load and starts it again: while it
// is gone every request gets a 503 with Retry-After and /readyz says 503;
// within seconds of its return both instances serve again, and the
// notification listener is back (a settings change made through one
// instance's admin API reaches the other's cache).
func TestPostgresRestart(t *testing.T) {
	pg := testenv.Postgres(t)
	if pg == nil {
		t.Skip("external Postgres (PLINTH_TEST_DATABASE_URL): cannot stop it")
	}
	ts := testserver.Start(t, small)
	ts2 := testserver.StartOn(t, ts.DB, small)
	p := ts.CreateProject(t, "restart")
	ts.SQL(t, p.Ref, itemsSQL)
	c := newClient(ts.URL, 10*time.Second)
	defer c.close()
	c2 := newClient(ts2.URL, 10*time.Second)
	defer c2.close()
	h := map[string]string{"apikey": p.ServiceKey}
	rows := func(c *client) int {
		o := c.do("GET", "/p/"+p.Ref+"/rest/v1/items?select=id", h, nil)
		var out []map[string]any
		if o.Status != http.StatusOK || json.Unmarshal(o.Body, &out) != nil {
			return -1
		}
		return len(out)
	}
	if n := rows(c2); n != 3 {
		t.Fatalf("instance 2 reads %d rows before the restart, want 3", n)
	}

	m := &mix{c: c, ref: p.Ref, key: p.ServiceKey, prefix: "restart", tl: newTally(), ack: &acked{}, allowed: clean503}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wg := m.run(ctx, 2, 2)
	time.Sleep(300 * time.Millisecond) // some load before the fault

	stopCtx, stopCancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer stopCancel()
	if err := pg.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	// While it is gone: readiness fails, data requests fail fast and cleanly.
	if o := c.do("GET", "/readyz", nil, nil); o.Status != http.StatusServiceUnavailable {
		t.Errorf("/readyz with Postgres down: %d %s", o.Status, o.Body)
	}
	var during []outcome
	for _, req := range []struct {
		cl     *client
		method string
		body   any
	}{
		{c, "GET", nil}, {c, "POST", map[string]string{"id": "while-down"}}, {c2, "GET", nil},
	} {
		o := req.cl.do(req.method, "/p/"+p.Ref+"/rest/v1/items", h, req.body)
		during = append(during, o)
		if !clean503(o) {
			t.Errorf("%s with Postgres down: %d (Retry-After %q) %v %s", req.method, o.Status, o.Retry, o.Err, o.Body)
		}
		if o.Took > 5*time.Second {
			t.Errorf("%s with Postgres down took %v: it should fail fast", req.method, o.Took)
		}
	}
	time.Sleep(time.Second) // stay down while the load keeps knocking
	startCtx, startCancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer startCancel()
	if err := pg.Start(startCtx); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	recovered := eventually(t, 10*time.Second, "both instances serve again", func() bool {
		return c.do("GET", "/readyz", nil, nil).Status == http.StatusOK && rows(c) >= 3 && rows(c2) >= 3
	})
	time.Sleep(300 * time.Millisecond) // load after recovery too
	cancel()
	wg.Wait()
	m.tl.check(t)
	n := verifyWrites(t, ts.DB.SuperURL, p.Schema+".items", m.ack.list())

	// Both listeners are connected again once their LISTEN is the last
	// statement of a session on the database; then a change made through
	// instance 1 must reach instance 2 by NOTIFY alone.
	super, err := pgx.Connect(context.Background(), ts.DB.SuperURL)
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close(context.Background())
	listenTook := eventually(t, 15*time.Second, "both listeners reconnect", func() bool {
		var k int
		err := super.QueryRow(context.Background(),
			"select count(*) from pg_stat_activity where datname = current_database() and query ilike 'listen %'").Scan(&k)
		return err == nil && k >= 2
	})
	if res := ts.Admin(t, "PATCH", "/projects/"+p.Ref+"/settings", map[string]any{"max_rows": 1}); res.Status != http.StatusOK {
		t.Fatalf("patch settings: %d %s", res.Status, res.Body)
	}
	propagated := eventually(t, 10*time.Second, "max_rows=1 reaches instance 2", func() bool { return rows(c2) == 1 })
	t.Logf("postgres down %v; during it %d direct requests all 503; recovered %v after start; listeners back %v later; setting propagated in %v; load %s; %d acknowledged writes verified",
		up.Sub(down).Round(time.Millisecond), len(during), recovered.Round(time.Millisecond), listenTook.Round(time.Millisecond),
		propagated.Round(time.Millisecond), m.tl, n)
}

// TestRedisRestart stops Redis under the default fail-open policy: the data
// API keeps answering (unlimited, as documented) without waiting on Redis,
// readiness stays green, and limits apply again once Redis is back.
func TestRedisRestart(t *testing.T) {
	rd := testenv.Redis(t)
	if rd == nil {
		t.Skip("external Redis (PLINTH_TEST_REDIS_URL): cannot stop it")
	}
	ts := testserver.Start(t, small, func(c *config.Config) { c.RedisURL = rd.URL() })
	p := ts.CreateProject(t, "redisfault")
	ts.SQL(t, p.Ref, itemsSQL)
	c := newClient(ts.URL, 10*time.Second)
	defer c.close()
	h := map[string]string{"apikey": p.ServiceKey}
	get := func() outcome { return c.do("GET", "/p/"+p.Ref+"/rest/v1/items?limit=1", h, nil) }
	if o := get(); o.Status != http.StatusOK || o.Header("RateLimit") == "" {
		t.Fatalf("before: %d, RateLimit %q: %s", o.Status, o.Header("RateLimit"), o.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rd.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	var fired atomic.Int64
	for range 20 {
		o := get()
		fired.Add(1)
		if o.Status != http.StatusOK {
			t.Fatalf("with Redis down (fail open): %d %v %s", o.Status, o.Err, o.Body)
		}
		if o.Took > 3*time.Second {
			t.Fatalf("with Redis down a request took %v", o.Took)
		}
	}
	o := c.do("GET", "/readyz", nil, nil)
	if o.Status != http.StatusOK || !json.Valid(o.Body) {
		t.Errorf("/readyz with Redis down and failing open: %d %s", o.Status, o.Body)
	}
	if err := rd.Start(ctx); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 10*time.Second, "readyz reports redis ok", func() bool {
		o := c.do("GET", "/readyz", nil, nil)
		var r struct {
			Checks map[string]string `json:"checks"`
		}
		return o.Status == http.StatusOK && json.Unmarshal(o.Body, &r) == nil && r.Checks["redis"] == "ok"
	})
	// The client's first command may hit a connection that died with the
	// server (served failing open); limits are counted again right after.
	eventually(t, 5*time.Second, "rate limits apply again", func() bool {
		o := get()
		return o.Status == http.StatusOK && o.Header("RateLimit") != ""
	})
	t.Logf("redis down: %d requests served failing open; redis seen again %v after start", fired.Load(), took.Round(time.Millisecond))
}
