// Package faults_test breaks what Plinth depends on while clients use it:
// tenant backends killed, Postgres and Redis stopped and restarted, the
// server process SIGTERMed and SIGKILLed under write load, and one project
// flooding the server with slow queries next to a quiet one. The tests stop
// the harness's private servers, so none of them runs in parallel.
package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/plinth-dev/plinth/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// long reports whether the long forms were asked for (make test-long).
func long() bool { return os.Getenv("PLINTH_TEST_LONG") != "" }

// outcome is one finished request as the client saw it.
type outcome struct {
	Status int // 0: transport error
	Err    error
	Code   string // the error body's code, if any
	Retry  string // Retry-After
	Body   []byte
	Hdr    http.Header
	Took   time.Duration
	Sent   time.Time
}

// client sends requests without the test helpers' t.Fatal on transport
// errors: under faults a refused connection is an outcome to count.
type client struct {
	base string
	http *http.Client
}

func newClient(base string, timeout time.Duration) *client {
	return &client{base: base, http: &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 0},
	}}
}

func (c *client) do(method, path string, headers map[string]string, body any) outcome {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(b)
	}
	o := outcome{Sent: time.Now()}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		o.Err = err
		return o
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		o.Err, o.Took = err, time.Since(o.Sent)
		return o
	}
	defer res.Body.Close()
	o.Body, o.Err = io.ReadAll(res.Body)
	o.Took = time.Since(o.Sent)
	if o.Err != nil {
		return o // a cut-off body is a transport error, whatever the status
	}
	o.Status, o.Retry, o.Hdr = res.StatusCode, res.Header.Get("Retry-After"), res.Header
	var e struct {
		Code string `json:"code"`
	}
	if res.StatusCode >= 400 && json.Unmarshal(o.Body, &e) == nil {
		o.Code = e.Code
	}
	return o
}

// Header returns a response header ("" after a transport error).
func (o outcome) Header(name string) string { return o.Hdr.Get(name) }

func (c *client) close() { c.http.CloseIdleConnections() }

// tally counts outcomes by kind for the test's report and assertions.
type tally struct {
	mu     sync.Mutex
	n      int
	status map[int]int
	codes  map[string]int // error codes of the 503s
	errs   int
	// bad keeps the first few outcomes the test did not allow.
	bad []string
}

func newTally() *tally { return &tally{status: map[int]int{}, codes: map[string]int{}} }

// add records o; allowed says whether it is acceptable.
func (t *tally) add(what string, o outcome, allowed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	if o.Status == 0 {
		t.errs++
	} else {
		t.status[o.Status]++
	}
	if o.Status == http.StatusServiceUnavailable {
		t.codes[o.Code]++
	}
	if !allowed && len(t.bad) < 10 {
		t.bad = append(t.bad, fmt.Sprintf("%s: status %d err %v body %.300s", what, o.Status, o.Err, o.Body))
	}
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]int, 0, len(t.status))
	for k := range t.status {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests:", t.n)
	for _, k := range keys {
		fmt.Fprintf(&b, " %d×%d", t.status[k], k)
	}
	if t.errs > 0 {
		fmt.Fprintf(&b, " %d×transport-error", t.errs)
	}
	if len(t.codes) > 0 {
		codes := make([]string, 0, len(t.codes))
		for c, n := range t.codes {
			codes = append(codes, fmt.Sprintf("%d×%s", n, c))
		}
		slices.Sort(codes)
		fmt.Fprintf(&b, " (503 codes: %s)", strings.Join(codes, " "))
	}
	return b.String()
}

func (t *tally) check(tb testing.TB) {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.bad) > 0 {
		tb.Errorf("unexpected outcomes (first %d):\n%s", len(t.bad), strings.Join(t.bad, "\n"))
	}
}

// clean503 is the answer a client may get while the database is away: 503
// with Retry-After and one of the unavailable/timeout codes.
func clean503(o outcome) bool {
	return o.Status == http.StatusServiceUnavailable && o.Retry != "" &&
		slices.Contains([]string{"PL503", "PL504", "57014", "57P01", "57P02", "57P03", "08006", "08000", "08003", "08001", "53300"}, o.Code)
}

// acked collects the ids whose inserts were acknowledged with 201.
type acked struct {
	mu  sync.Mutex
	ids []string
}

func (a *acked) add(id string) { a.mu.Lock(); a.ids = append(a.ids, id); a.mu.Unlock() }

func (a *acked) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.ids)
}

// verifyWrites checks that every acknowledged id is in table exactly once
// (the table has no unique constraint on id, so a replayed insert would
// show as a duplicate). It returns how many ids it checked.
func verifyWrites(t *testing.T, superURL, table string, ids []string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, superURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "select id, count(*) from "+table+" group by id")
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		count[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	missing, dup := 0, 0
	for _, id := range ids {
		switch n := count[id]; {
		case n == 0:
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged write %s is not in %s", id, table)
			}
		case n > 1:
			dup++
			if dup <= 5 {
				t.Errorf("acknowledged write %s is in %s %d times", id, table, n)
			}
		}
	}
	if missing+dup > 0 {
		t.Errorf("%d of %d acknowledged writes missing, %d duplicated", missing, len(ids), dup)
	}
	return len(ids)
}

// eventually polls cond every 50ms until it holds or d passes, and returns
// how long it took.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if cond() {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// p95 of durations.
func p95(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)*95+99)/100-1]
}
