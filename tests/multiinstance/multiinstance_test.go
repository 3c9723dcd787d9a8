// Package multiinstance proves DESIGN.md §9's scale-out claim with real
// processes: three `plinth serve` instances on one Postgres and one Redis,
// driven through a round-robin client as a load balancer would.
package multiinstance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/plinth-dev/plinth/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const adminToken = "multi-instance-admin-token-0123"

// Propagation bounds: the contract is one second; polling gives up later so
// a slow propagation is measured and reported rather than just timed out.
const (
	propagationMax = time.Second
	pollEvery      = 20 * time.Millisecond
	pollDeadline   = 5 * time.Second
)

// cluster is the instances and one shared HTTP client.
type cluster struct {
	insts  []*testenv.Instance
	db     *testenv.DB
	client *http.Client
	next   atomic.Uint64 // round-robin cursor
}

// reply is one HTTP exchange; err is a transport (connection) error.
type reply struct {
	inst   int
	status int
	header http.Header
	body   []byte
	err    error
}

func (r reply) String() string {
	if r.err != nil {
		return fmt.Sprintf("instance %d: %v", r.inst, r.err)
	}
	return fmt.Sprintf("instance %d: %d %s", r.inst, r.status, r.body)
}

// do sends one request to instance i. A key goes in the apikey header; an
// empty key means the admin token.
func (c *cluster) do(i int, method, path, key string, hdr map[string]string, body any) reply {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{inst: i, err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.insts[i].URL+path, rd)
	if err != nil {
		return reply{inst: i, err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key == "" {
		req.Header.Set("Authorization", "Bearer "+adminToken)
	} else {
		req.Header.Set("apikey", key)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.client.Do(req)
	if err != nil {
		return reply{inst: i, err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return reply{inst: i, status: res.StatusCode, header: res.Header, body: b, err: err}
}

// rr sends one request to the next instance in turn, like a load balancer.
func (c *cluster) rr(method, path, key string, hdr map[string]string, body any) reply {
	i := int((c.next.Add(1) - 1) % uint64(len(c.insts)))
	return c.do(i, method, path, key, hdr, body)
}

// must sends to instance i and fails the test unless the status is want.
func (c *cluster) must(t *testing.T, want, i int, method, path, key string, body any) []byte {
	t.Helper()
	r := c.do(i, method, path, key, nil, body)
	if r.err != nil || r.status != want {
		t.Fatalf("%s %s: want %d, got %v", method, path, want, r)
	}
	return r.body
}

// sql runs admin SQL as the project's owner through instance i.
func (c *cluster) sql(t *testing.T, i int, ref, query string) []byte {
	t.Helper()
	return c.must(t, http.StatusOK, i, "POST", "/admin/v1/projects/"+ref+"/sql", "", map[string]string{"query": query})
}

type project struct {
	ref, anon, service string
}

func (c *cluster) createProject(t *testing.T, ref string) project {
	t.Helper()
	b := c.must(t, http.StatusCreated, 0, "POST", "/admin/v1/projects", "", map[string]string{"ref": ref, "name": ref})
	var out struct {
		Keys struct {
			Anon    string `json:"anon"`
			Service string `json:"service_role"`
		} `json:"api_keys"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Keys.Anon == "" || out.Keys.Service == "" {
		t.Fatalf("create project %s: %v %s", ref, err, b)
	}
	return project{ref: ref, anon: out.Keys.Anon, service: out.Keys.Service}
}

// waitSleeping waits until n backends of the cluster sit in pg_sleep, seen
// as superuser (a tenant role cannot see other sessions' wait events).
func (c *cluster) waitSleeping(t *testing.T, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.db.SuperURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for {
		var got int
		if err := conn.QueryRow(ctx, `select count(*) from pg_stat_activity
			where datname = current_database() and wait_event = 'PgSleep'`).Scan(&got); err != nil {
			t.Fatalf("waiting for %d sleeping inserts: %v", n, err)
		}
		if got >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startCluster starts n instances sharing one database and one Redis.
func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	bin := testenv.BuildPlinth(t)
	db := testenv.NewDatabase(t)
	env := map[string]string{
		"PLINTH_DATABASE_URL":  db.URL,
		"PLINTH_TENANT_PREFIX": db.Prefix,
		"PLINTH_REDIS_URL":     testenv.RedisURL(t),
		"PLINTH_SECRET_KEY":    "multi-instance-secret-0123456789",
		"PLINTH_ADMIN_TOKEN":   adminToken,
		"PLINTH_LOG_FORMAT":    "text",
		// Writers in tight loops must not meet the platform default limit;
		// the rate-limit subtest sets its own rule.
		"PLINTH_RATE_LIMIT_DEFAULT": "1000000/1s",
	}
	c := &cluster{db: db, client: &http.Client{
		Timeout:   15 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16},
	}}
	t.Cleanup(c.client.CloseIdleConnections)
	for range n {
		c.insts = append(c.insts, testenv.StartServe(t, bin, env))
	}
	return c
}

// waitUntil polls each of the instances every pollEvery (one goroutine per
// instance, so one slow answer does not delay another's measurement) until
// ok holds there, and returns how long after since each took; -1 if never
// within pollDeadline.
func (c *cluster) waitUntil(since time.Time, insts []int, ok func(r reply) bool, send func(i int) reply) []time.Duration {
	out := make([]time.Duration, len(insts))
	var wg sync.WaitGroup
	for j, i := range insts {
		wg.Go(func() {
			out[j] = -1
			for time.Since(since) < pollDeadline {
				if ok(send(i)) {
					out[j] = time.Since(since)
					return
				}
				time.Sleep(pollEvery)
			}
		})
	}
	wg.Wait()
	return out
}

// measurements collects propagation times for the final log line, which
// deploy/README.md quotes.
type measurements struct {
	mu    sync.Mutex
	lines []string
}

func (m *measurements) check(t *testing.T, what string, insts []int, took []time.Duration) {
	t.Helper()
	parts := make([]string, len(took))
	for j, d := range took {
		parts[j] = fmt.Sprintf("instance %d: %v", insts[j]+1, d.Round(time.Millisecond))
		if d < 0 {
			t.Errorf("%s: never seen on instance %d within %v", what, insts[j]+1, pollDeadline)
		} else if d > propagationMax {
			t.Errorf("%s: reached instance %d after %v, more than %v", what, insts[j]+1, d, propagationMax)
		}
	}
	m.mu.Lock()
	m.lines = append(m.lines, what+": "+strings.Join(parts, ", "))
	m.mu.Unlock()
}

func TestMultiInstance(t *testing.T) {
	c := startCluster(t, 3)
	m := &measurements{}
	t.Cleanup(func() { t.Logf("propagation times:\n  %s", strings.Join(m.lines, "\n  ")) })

	t.Run("global rate limit", func(t *testing.T) { testRateLimit(t, c, m) })
	t.Run("schema and rules propagate", func(t *testing.T) { testSchemaAndRules(t, c, m) })
	t.Run("revoked key", func(t *testing.T) { testRevokedKey(t, c, m) })
	t.Run("project deleted and re-created", func(t *testing.T) { testRecreatedProject(t, c, m) })
	// Last: it stops an instance.
	t.Run("graceful stop under writes", func(t *testing.T) { testGracefulStop(t, c) })
}

// A per-key limit of 20 holds across the three instances: Redis keeps one
// bucket however the requests are spread.
func testRateLimit(t *testing.T, c *cluster, m *measurements) {
	p := c.createProject(t, "limited")
	c.sql(t, 0, p.ref, "create table things (id int primary key); insert into things values (1)")
	c.must(t, http.StatusOK, 0, "PUT", "/admin/v1/projects/"+p.ref+"/rules", "", map[string]any{
		"policies": []map[string]string{{"role": "anon", "table": "things", "action": "select", "condition": ""}},
	})
	// The rule's arrival on every instance is watched with a second anon
	// key: buckets are per key, so probing leaves the measured key's alone.
	var probe struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(c.must(t, http.StatusCreated, 0, "POST", "/admin/v1/projects/"+p.ref+"/keys", "", map[string]string{"role": "anon"}), &probe); err != nil || probe.Key == "" {
		t.Fatalf("mint probe key: %v", err)
	}
	// Warm every instance (pool, schema, key, the default policy) so the
	// poll below measures propagation, not a cold start.
	for i := range 3 {
		c.must(t, http.StatusOK, i, "GET", "/p/"+p.ref+"/rest/v1/things", probe.Key, nil)
	}
	// An hour-long period: GCRA refills one request per 180s, so no request
	// of this test is allowed by a refill, only by the burst of 20.
	c.must(t, http.StatusOK, 0, "PUT", "/admin/v1/projects/"+p.ref+"/rate-limits", "", map[string]any{
		"rules": []map[string]any{{"role": "anon", "per": "key", "rate": 20, "period_seconds": 3600}},
	})
	since := time.Now()
	all := []int{0, 1, 2}
	took := c.waitUntil(since, all, func(r reply) bool {
		return r.err == nil && r.status == http.StatusOK && strings.Contains(r.header.Get("RateLimit-Policy"), "q=20;w=3600")
	}, func(i int) reply { return c.do(i, "GET", "/p/"+p.ref+"/rest/v1/things", probe.Key, nil, nil) })
	m.check(t, "rate-limit rule", all, took)
	if t.Failed() {
		t.FailNow()
	}

	// 60 requests from 6 concurrent clients, spread round-robin.
	const total, workers = 60, 6
	var mu sync.Mutex
	byStatus := map[int]int{}
	byInst := map[int]map[int]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range total / workers {
				r := c.rr("GET", "/p/"+p.ref+"/rest/v1/things", p.anon, nil, nil)
				mu.Lock()
				if r.err != nil {
					byStatus[-1]++
				} else {
					byStatus[r.status]++
					if byInst[r.inst] == nil {
						byInst[r.inst] = map[int]int{}
					}
					byInst[r.inst][r.status]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("statuses %v; per instance %v", byStatus, byInst)
	if byStatus[http.StatusOK] != 20 || byStatus[http.StatusTooManyRequests] != total-20 {
		t.Errorf("want exactly 20 allowed and %d refused in total, got %v", total-20, byStatus)
	}
	for i := range 3 {
		if n := byInst[i][http.StatusOK] + byInst[i][http.StatusTooManyRequests]; n != total/3 {
			t.Errorf("instance %d answered %d requests, want %d (round-robin)", i+1, n, total/3)
		}
	}
}

// DDL, then a rule change, made through instance 1 are seen by instances 2
// and 3 within a second; each was primed first so its caches hold the old
// state.
func testSchemaAndRules(t *testing.T, c *cluster, m *measurements) {
	p := c.createProject(t, "spread")
	others := []int{1, 2}
	c.sql(t, 0, p.ref, "create table items (id int primary key, name text not null); insert into items values (1, 'one')")
	for _, i := range []int{0, 1, 2} {
		c.must(t, http.StatusOK, i, "GET", "/p/"+p.ref+"/rest/v1/items?select=id,name", p.service, nil)
		// anon has no rule yet: refused, and the refusal is cached.
		c.must(t, http.StatusUnauthorized, i, "GET", "/p/"+p.ref+"/rest/v1/items", p.anon, nil)
	}

	// A new column on a table every instance has cached.
	c.sql(t, 0, p.ref, "alter table items add column price int not null default 7")
	since := time.Now()
	took := c.waitUntil(since, others, func(r reply) bool {
		return r.err == nil && r.status == http.StatusOK && string(r.body) == `[{"id":1,"price":7}]`
	}, func(i int) reply {
		return c.do(i, "GET", "/p/"+p.ref+"/rest/v1/items?select=id,price", p.service, nil, nil)
	})
	m.check(t, "alter table (new column)", others, took)

	// A new table.
	c.sql(t, 0, p.ref, "create table extras (id int primary key); insert into extras values (5)")
	since = time.Now()
	took = c.waitUntil(since, others, func(r reply) bool {
		return r.err == nil && r.status == http.StatusOK && string(r.body) == `[{"id":5}]`
	}, func(i int) reply { return c.do(i, "GET", "/p/"+p.ref+"/rest/v1/extras", p.service, nil, nil) })
	m.check(t, "create table", others, took)

	// Granting anon select.
	c.must(t, http.StatusOK, 0, "PUT", "/admin/v1/projects/"+p.ref+"/rules", "", map[string]any{
		"policies": []map[string]string{{"role": "anon", "table": "items", "action": "select", "condition": ""}},
	})
	since = time.Now()
	took = c.waitUntil(since, others, func(r reply) bool {
		return r.err == nil && r.status == http.StatusOK && strings.Contains(string(r.body), `"name":"one"`)
	}, func(i int) reply { return c.do(i, "GET", "/p/"+p.ref+"/rest/v1/items", p.anon, nil, nil) })
	m.check(t, "access rule", others, took)
}

// A key revoked through instance 1 stops working on all three within a
// second, after each instance has it cached as valid.
func testRevokedKey(t *testing.T, c *cluster, m *measurements) {
	p := c.createProject(t, "revoke")
	c.sql(t, 0, p.ref, "create table notes (id int primary key)")
	var k struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if err := json.Unmarshal(c.must(t, http.StatusCreated, 0, "POST", "/admin/v1/projects/"+p.ref+"/keys", "", map[string]string{"role": "service_role"}), &k); err != nil || k.ID == "" || k.Key == "" {
		t.Fatalf("mint key: %v %+v", err, k)
	}
	all := []int{0, 1, 2}
	for _, i := range all {
		c.must(t, http.StatusOK, i, "GET", "/p/"+p.ref+"/rest/v1/notes", k.Key, nil)
	}
	c.must(t, http.StatusNoContent, 0, "DELETE", "/admin/v1/projects/"+p.ref+"/keys/"+k.ID, "", nil)
	since := time.Now()
	took := c.waitUntil(since, all, func(r reply) bool {
		return r.err == nil && r.status == http.StatusUnauthorized
	}, func(i int) reply { return c.do(i, "GET", "/p/"+p.ref+"/rest/v1/notes", k.Key, nil, nil) })
	m.check(t, "key revocation", all, took)
	// The project's other keys are untouched.
	for _, i := range all {
		c.must(t, http.StatusOK, i, "GET", "/p/"+p.ref+"/rest/v1/notes", p.service, nil)
	}
}

// A project deleted and re-created under the same ref through instance 1
// is served by instances 2 and 3 too: their pools of the old project (its
// login role dropped, its connections terminated) give way to the new
// project's credentials.
func testRecreatedProject(t *testing.T, c *cluster, m *measurements) {
	p := c.createProject(t, "phoenix")
	c.sql(t, 0, p.ref, "create table notes (id int primary key); insert into notes values (1)")
	all := []int{0, 1, 2}
	for _, i := range all {
		c.must(t, http.StatusOK, i, "GET", "/p/"+p.ref+"/rest/v1/notes", p.service, nil)
	}
	c.must(t, http.StatusNoContent, 0, "DELETE", "/admin/v1/projects/"+p.ref, "", nil)
	p = c.createProject(t, "phoenix")
	c.sql(t, 0, p.ref, "create table notes (id int primary key); insert into notes values (2)")
	since := time.Now()
	took := c.waitUntil(since, all, func(r reply) bool {
		return r.err == nil && r.status == http.StatusOK && string(r.body) == `[{"id":2}]`
	}, func(i int) reply { return c.do(i, "GET", "/p/"+p.ref+"/rest/v1/notes", p.service, nil, nil) })
	m.check(t, "re-created project", all, took)
}

// write is one insert attempt of the writer.
type write struct {
	id         int // negative: the slow inserts in flight at SIGTERM
	r          reply
	after      bool // sent after Stop returned
	start, end time.Time
}

// SIGTERM to one instance while writers insert round-robin: every
// acknowledged id is stored exactly once, nothing answers 5xx, and the
// stopped instance only refuses connections.
func testGracefulStop(t *testing.T, c *cluster) {
	p := c.createProject(t, "writes")
	// No unique constraint, so a duplicated insert would show as a second row.
	c.sql(t, 0, p.ref, "create table w (id bigint not null)")
	// Negative ids sleep a second inside the insert: requests certainly in
	// flight on instance 3 when it gets SIGTERM.
	c.sql(t, 0, p.ref, `create function slow_insert() returns trigger language plpgsql as $$
		begin if new.id < 0 then perform pg_sleep(1); end if; return new; end $$;
		create trigger slow_insert before insert on w for each row execute function slow_insert()`)
	for _, i := range []int{0, 1, 2} {
		c.must(t, http.StatusOK, i, "GET", "/p/"+p.ref+"/rest/v1/w", p.service, nil)
	}

	var (
		mu      sync.Mutex
		writes  []write
		nextID  atomic.Int64
		acked   atomic.Int64
		stopped atomic.Bool
		quit    = make(chan struct{})
		wg      sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-quit:
					return
				default:
				}
				id := int(nextID.Add(1))
				after := stopped.Load()
				start := time.Now()
				r := c.rr("POST", "/p/"+p.ref+"/rest/v1/w", p.service, map[string]string{"Prefer": "return=minimal"}, map[string]int{"id": id})
				if r.err == nil && r.status == http.StatusCreated {
					acked.Add(1)
				}
				mu.Lock()
				writes = append(writes, write{id: id, r: r, after: after, start: start, end: time.Now()})
				mu.Unlock()
			}
		})
	}
	// On an early Fatal too, the writers must not outlive the test.
	stopWriters := sync.OnceFunc(func() { close(quit); wg.Wait() })
	defer stopWriters()
	waitFor := func(n int64) {
		deadline := time.Now().Add(20 * time.Second)
		for acked.Load() < n {
			if time.Now().After(deadline) {
				t.Errorf("only %d of %d writes acknowledged after 20s", acked.Load(), n)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(150)
	const slowN = 2
	slow := make([]write, slowN)
	var slowWG sync.WaitGroup
	defer slowWG.Wait()
	for j := range slowN {
		slowWG.Go(func() {
			start := time.Now()
			r := c.do(2, "POST", "/p/"+p.ref+"/rest/v1/w", p.service, map[string]string{"Prefer": "return=minimal"}, map[string]int{"id": -1 - j})
			slow[j] = write{id: -1 - j, r: r, start: start, end: time.Now()}
		})
	}
	c.waitSleeping(t, slowN)
	stopStart := time.Now()
	if err := c.insts[2].Stop(); err != nil {
		t.Errorf("instance 3 did not stop cleanly: %v", err)
	}
	stopTook := time.Since(stopStart)
	stopped.Store(true)
	waitFor(acked.Load() + 150)
	stopWriters()
	slowWG.Wait()
	for _, w := range slow {
		if w.r.err != nil || w.r.status != http.StatusCreated {
			t.Errorf("insert in flight at SIGTERM (id %d): want 201 after the drain, got %v", w.id, w.r)
		}
	}
	writes = append(writes, slow...)

	mu.Lock()
	defer mu.Unlock()
	ackedIDs := map[int]bool{}
	var connErrs, refusedAfter, ackedOnStopped, inFlight int
	for _, w := range writes {
		switch {
		case w.r.err != nil:
			connErrs++
			if w.r.inst != 2 {
				t.Errorf("id %d: transport error from a running instance: %v", w.id, w.r)
			}
			var ne net.Error
			if errors.As(w.r.err, &ne) && ne.Timeout() {
				t.Errorf("id %d: timed out rather than refused: %v", w.id, w.r)
			}
			if w.after {
				refusedAfter++
				// Nothing listens any more: loopback refuses at once.
				if !errors.Is(w.r.err, syscall.ECONNREFUSED) {
					t.Errorf("id %d: after exit, want connection refused, got %v", w.id, w.r.err)
				}
			}
		case w.r.status == http.StatusCreated:
			ackedIDs[w.id] = true
			if w.r.inst == 2 {
				ackedOnStopped++
				// Running on instance 3 when SIGTERM arrived, answered by the drain.
				if w.start.Before(stopStart) && w.end.After(stopStart) {
					inFlight++
				}
			}
			if w.after && w.r.inst == 2 {
				t.Errorf("id %d: acknowledged by instance 3 after it had exited", w.id)
			}
		default:
			t.Errorf("id %d: want 201 or a connection error, got %v", w.id, w.r)
		}
	}
	if refusedAfter == 0 {
		t.Errorf("no request reached the stopped instance after it exited")
	}

	var rows []struct {
		ID int `json:"id"`
		N  int `json:"n"`
	}
	var res struct {
		Rows json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(c.sql(t, 0, p.ref, "select id, count(*)::int as n from w group by id"), &res); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(res.Rows, &rows); err != nil {
		t.Fatal(err)
	}
	stored := map[int]int{}
	for _, r := range rows {
		stored[r.ID] = r.N
		if r.N != 1 {
			t.Errorf("id %d stored %d times", r.ID, r.N)
		}
	}
	// A refused connection never reached a handler, so its id must be
	// absent; a reset or EOF mid-request has an unknown outcome (counted).
	var unknownStored int
	for _, w := range writes {
		if w.r.err == nil {
			continue
		}
		if errors.Is(w.r.err, syscall.ECONNREFUSED) {
			if stored[w.id] > 0 {
				t.Errorf("id %d: connection refused, yet stored", w.id)
			}
		} else if stored[w.id] > 0 {
			unknownStored++
		}
	}
	var lost []int
	for id := range ackedIDs {
		if stored[id] != 1 {
			lost = append(lost, id)
		}
	}
	slices.Sort(lost)
	if len(lost) > 0 {
		t.Errorf("%d acknowledged writes lost: %v", len(lost), lost)
	}
	t.Logf("%d writes: %d acknowledged (%d by instance 3, %d of them in flight at SIGTERM), %d connection errors (%d after it exited, %d stored anyway); %d rows stored; SIGTERM to exit %v",
		len(writes), len(ackedIDs), ackedOnStopped, inFlight, connErrs, refusedAfter, unknownStored, len(rows), stopTook.Round(time.Millisecond))
}
