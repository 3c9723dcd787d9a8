package faults_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/config"
	"github.com/plinth-dev/plinth/tenants/pool"
)

// TestNoisyNeighbour has project A flood the server with slow queries
// (pg_sleep holds connections, not CPU), far more at once than its pool
// holds, while project B does light reads. B keeps succeeding with latency
// near its quiet value; A gets clean 503s within its time bound, never a
// hang. Not a speed measurement: the bound on B is generous.
func TestNoisyNeighbour(t *testing.T) {
	const poolMax, flooders = 2, 16
	// Long enough that a request queueing for A's pool until its deadline
	// (statement timeout + 2s) would be told apart from one turned away
	// after pool.AcquireWait.
	timeout := 2 * time.Second
	ts := testserver.Start(t, func(c *config.Config) {
		c.StatementTimeout = timeout
		c.TenantPoolMax = poolMax
		c.TotalConnsMax = 8
		c.RateLimitDefault = config.RateSpec{Rate: 1_000_000, Period: time.Second, Burst: 1_000_000}
	})
	a := ts.CreateProject(t, "noisy")
	ts.SQL(t, a.Ref, `create function slow() returns void language sql as $$ select pg_sleep(30) $$`)
	b := ts.CreateProject(t, "quiet")
	ts.SQL(t, b.Ref, itemsSQL)

	c := newClient(ts.URL, 30*time.Second)
	defer c.close()
	hb := map[string]string{"apikey": b.ServiceKey}
	readB := func() outcome { return c.do("GET", "/p/"+b.Ref+"/rest/v1/items?select=id&limit=5", hb, nil) }
	n := 40
	if long() {
		n = 400
	}
	sample := func(what string) []time.Duration {
		var ds []time.Duration
		for range n {
			o := readB()
			if o.Status != http.StatusOK {
				t.Fatalf("%s: project B read: %d %v %s", what, o.Status, o.Err, o.Body)
			}
			ds = append(ds, o.Took)
		}
		return ds
	}
	readB() // warm B's caches and pool
	quiet := p95(sample("quiet"))

	// The flood: every flooder calls slow() again as soon as it is answered.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tl := newTally()
	var mu sync.Mutex
	var slowestBusy, slowest time.Duration
	const slack = 1500 * time.Millisecond // for a loaded machine
	ha := map[string]string{"apikey": a.ServiceKey}
	var wg sync.WaitGroup
	for range flooders {
		wg.Go(func() {
			for ctx.Err() == nil {
				o := c.do("POST", "/p/"+a.Ref+"/rest/v1/rpc/slow", ha, map[string]any{})
				ok := clean503(o)
				switch o.Code {
				case "PL503": // turned away: A's pool stayed full
					ok = ok && o.Took < pool.AcquireWait+slack
				default: // waited, then ran into statement_timeout or the deadline
					ok = ok && o.Took < timeout+2*time.Second+slack
				}
				tl.add("noisy rpc", o, ok)
				mu.Lock()
				slowest = max(slowest, o.Took)
				if o.Code == "PL503" {
					slowestBusy = max(slowestBusy, o.Took)
				}
				mu.Unlock()
			}
		})
	}
	// Let the flood fill A's pool and queue before measuring B.
	time.Sleep(300 * time.Millisecond)
	floodStart := time.Now()
	busy := p95(sample("during the flood"))
	// Keep flooding until the first slow queries have hit statement_timeout.
	time.Sleep(timeout + slack - time.Since(floodStart))
	cancel()
	wg.Wait()
	tl.check(t)
	if tl.codes["PL503"] == 0 || tl.codes["57014"] == 0 {
		t.Errorf("want both pool-busy (PL503) and statement-timeout (57014) answers for the noisy project: %s", tl)
	}
	limit := max(10*quiet, 200*time.Millisecond)
	if busy > limit {
		t.Errorf("project B p95 during the flood %v, quiet %v: above the bound %v", busy, quiet, limit)
	}
	t.Logf("noisy neighbour: %d flooders on a pool of %d; A %s, slowest answer %v, slowest PL503 %v; B p95 quiet %v, during the flood %v (bound %v), %d reads each",
		flooders, poolMax, tl, slowest.Round(time.Millisecond), slowestBusy.Round(time.Millisecond), quiet.Round(time.Microsecond), busy.Round(time.Microsecond), limit, n)
}
