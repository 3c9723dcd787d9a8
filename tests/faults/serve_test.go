package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/internal/testserver"
)

// served is a `plinth serve` process with one project whose items table
// writers insert into.
type served struct {
	db     *testenv.DB
	bin    string
	inst   *testenv.Instance
	c      *client
	ref    string
	schema string
	key    string
}

func (s *served) env() map[string]string {
	return map[string]string{
		"PLINTH_DATABASE_URL":  s.db.URL,
		"PLINTH_TENANT_PREFIX": s.db.Prefix,
		"PLINTH_SECRET_KEY":    "faults-secret-key-0123456789abcdef",
		"PLINTH_ADMIN_TOKEN":   testserver.AdminToken,
		"PLINTH_LOG_FORMAT":    "json",
		// Write load from a tight loop must not meet the platform default limit.
		"PLINTH_RATE_LIMIT_DEFAULT": "1000000/1s",
	}
}

// start runs a (new) instance on the same database.
func (s *served) start(t *testing.T) {
	t.Helper()
	s.inst = testenv.StartServe(t, s.bin, s.env())
	if s.c != nil {
		s.c.close()
	}
	s.c = newClient(s.inst.URL, 30*time.Second)
}

func serveProject(t *testing.T, sql string) *served {
	t.Helper()
	s := &served{db: testenv.NewDatabase(t), bin: testenv.BuildPlinth(t)}
	s.start(t)
	t.Cleanup(func() { s.c.close() })
	admin := map[string]string{"Authorization": "Bearer " + testserver.AdminToken}
	o := s.c.do("POST", "/admin/v1/projects", admin, map[string]string{"ref": "writes", "name": "writes"})
	var out struct {
		Schema  string            `json:"schema"`
		APIKeys map[string]string `json:"api_keys"`
	}
	if o.Status != http.StatusCreated || json.Unmarshal(o.Body, &out) != nil {
		t.Fatalf("create project: %d %v %s", o.Status, o.Err, o.Body)
	}
	s.ref, s.schema, s.key = "writes", out.Schema, out.APIKeys["service_role"]
	if o := s.c.do("POST", "/admin/v1/projects/writes/sql", admin, map[string]string{"query": sql}); o.Status != http.StatusOK {
		t.Fatalf("setup sql: %d %v %s", o.Status, o.Err, o.Body)
	}
	return s
}

// writer inserts rows with client-chosen ids until stop is closed or it has
// seen the server gone for a while, recording acknowledged ids.
type writerLog struct {
	ack        acked
	tl         *tally
	preSignal  atomic.Int64 // transport errors of requests sent before the signal
	signalled  atomic.Int64 // unix nanos of the signal; 0 before
	afterFired atomic.Int64
}

func (w *writerLog) run(s *served, writers int, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	h := map[string]string{"apikey": s.key, "Prefer": "return=minimal"}
	for n := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%d", n, i)
				o := s.c.do("POST", "/p/"+s.ref+"/rest/v1/items", h, map[string]string{"id": id})
				sig := w.signalled.Load()
				before := sig == 0 || o.Sent.UnixNano() < sig
				switch {
				case o.Status == http.StatusCreated:
					w.ack.add(id)
					w.tl.add(id, o, true)
				case o.Status == 0:
					if before {
						w.preSignal.Add(1)
					} else {
						w.afterFired.Add(1)
						time.Sleep(10 * time.Millisecond) // the server is gone: don't spin
					}
					w.tl.add(id, o, true)
				default:
					w.tl.add(id, o, clean503(o))
				}
			}
		})
	}
	return &wg
}

const writesSQL = itemsSQL + `;
create function slow_insert(id text) returns void language sql as $$
  insert into items (id) values (slow_insert.id);
  select pg_sleep(1);
$$`

// TestServeSIGTERM sends SIGTERM to `plinth serve` under write load. What is
// asserted: (1) requests the server was executing when the signal came (slow
// inserts seen running in pg_stat_activity) all complete with 2xx; (2) the
// process exits cleanly; (3) every write acknowledged with 201 is stored
// exactly once; (4) no answer is a 5xx other than a clean 503; (5) a request
// sent before the signal may fail at the transport level only if the server
// had not read it yet, when it closed that keep-alive connection: at most
// one per client connection.
func TestServeSIGTERM(t *testing.T) {
	const writers, slow = 4, 4
	s := serveProject(t, writesSQL)
	w := &writerLog{tl: newTally()}
	stop := make(chan struct{})
	wg := w.run(s, writers, stop)
	time.Sleep(500 * time.Millisecond)

	// Slow requests the server is in the middle of when SIGTERM arrives.
	h := map[string]string{"apikey": s.key}
	slowOut := make([]outcome, slow)
	var sw sync.WaitGroup
	for i := range slow {
		sw.Go(func() {
			slowOut[i] = s.c.do("POST", "/p/"+s.ref+"/rest/v1/rpc/slow_insert", h, map[string]string{"id": fmt.Sprintf("slow-%d", i)})
		})
	}
	super, err := pgx.Connect(context.Background(), s.db.SuperURL)
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close(context.Background())
	eventually(t, 10*time.Second, "slow inserts running", func() bool {
		var n int
		err := super.QueryRow(context.Background(),
			"select count(*) from pg_stat_activity where usename = $1 and state = 'active' and query like '%slow_insert%'",
			s.schema+"_login").Scan(&n)
		return err == nil && n == slow
	})
	w.signalled.Store(time.Now().UnixNano())
	if err := s.inst.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.inst.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("plinth serve did not exit within 30s of SIGTERM")
	}
	drained := time.Since(time.Unix(0, w.signalled.Load()))
	close(stop)
	wg.Wait()
	sw.Wait()
	if err := s.inst.Stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	for i, o := range slowOut {
		if o.Status/100 != 2 {
			t.Errorf("in-flight slow insert %d: %d %v %s", i, o.Status, o.Err, o.Body)
		} else {
			w.ack.add(fmt.Sprintf("slow-%d", i))
		}
	}
	w.tl.check(t)
	if n := w.preSignal.Load(); n > writers {
		t.Errorf("%d requests sent before SIGTERM failed at the transport level; at most %d (one per connection) may", n, writers)
	}
	n := verifyWrites(t, s.db.SuperURL, s.schema+".items", w.ack.list())
	t.Logf("SIGTERM: %s; %d in-flight slow inserts completed; drained and exited in %v; %d pre-signal transport errors; %d acknowledged writes verified",
		w.tl, slow, drained.Round(time.Millisecond), w.preSignal.Load(), n)
}

// TestServeSIGKILL kills `plinth serve` outright under write load: every
// write acknowledged with 201 is stored exactly once, and a new instance on
// the same database serves at once.
func TestServeSIGKILL(t *testing.T) {
	const writers = 4
	s := serveProject(t, itemsSQL)
	w := &writerLog{tl: newTally()}
	stop := make(chan struct{})
	wg := w.run(s, writers, stop)
	time.Sleep(time.Second)
	w.signalled.Store(time.Now().UnixNano())
	if err := s.inst.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // writers see the server gone
	close(stop)
	wg.Wait()
	w.tl.check(t)
	if w.ack.list() == nil {
		t.Fatal("no write was acknowledged before the kill")
	}
	n := verifyWrites(t, s.db.SuperURL, s.schema+".items", w.ack.list())

	// Recovery: a fresh instance (as a supervisor would start) serves the
	// project; nothing the killed one held blocks it.
	s.start(t)
	h := map[string]string{"apikey": s.key}
	if o := s.c.do("POST", "/p/"+s.ref+"/rest/v1/items", h, map[string]string{"id": "after-kill"}); o.Status != http.StatusCreated {
		t.Fatalf("insert on the restarted instance: %d %v %s", o.Status, o.Err, o.Body)
	}
	verifyWrites(t, s.db.SuperURL, s.schema+".items", append(w.ack.list(), "after-kill"))
	t.Logf("SIGKILL: %s; %d acknowledged writes verified; restarted instance serves", w.tl, n+1)
}
