package usage

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/platform/store"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// setup migrates a fresh database and adds projects (metadata rows only).
func setup(t *testing.T, refs ...string) *pgxpool.Pool {
	t.Helper()
	db := testenv.NewDatabase(t)
	ctx := context.Background()
	if err := store.Migrate(ctx, db.URL, nil); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	for _, ref := range refs {
		if _, err := pool.Exec(ctx, `insert into plinth.projects (ref, name, schema_name, login_role, login_secret)
			values ($1, $1, 's_' || $1, 'l_' || $1, '\x00')`, ref); err != nil {
			t.Fatal(err)
		}
	}
	return pool
}

func newCounter(pool *pgxpool.Pool, now *time.Time) *Counter {
	c := New(pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.now = func() time.Time { return *now }
	return c
}

func TestCountFlushAndRead(t *testing.T) {
	t.Parallel()
	pool := setup(t, "alpha", "beta")
	ctx := context.Background()
	now := time.Date(2030, 1, 2, 3, 4, 30, 0, time.UTC)
	a, b := newCounter(pool, &now), newCounter(pool, &now) // two instances

	for _, st := range []int{200, 201, 404, 429, 429, 500, 503} {
		a.Record("alpha", st)
	}
	b.Record("alpha", 200)
	b.Record("beta", 200)
	// Before any flush an instance sees its own counts only.
	series, err := a.Series(ctx, "alpha", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 3 || !series[2].Minute.Equal(time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC)) {
		t.Fatalf("series shape: %+v", series)
	}
	if got, want := series[2].Counts, (Counts{Requests: 7, ClientErrors: 1, Errors: 2, RateLimited: 2}); got != want {
		t.Fatalf("unflushed: %+v, want %+v", got, want)
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// The next minute on instance a, then a second flush adds to the rows.
	now = now.Add(time.Minute)
	a.Record("alpha", 200)
	a.Record("alpha", 200)
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	a.Record("alpha", 418) // pending, still counted by a's reads
	series, err = b.Series(ctx, "alpha", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := series[1].Counts; got != (Counts{Requests: 8, ClientErrors: 1, Errors: 2, RateLimited: 2}) {
		t.Fatalf("minute 1 seen from b: %+v", got)
	}
	if got := series[2].Counts; got != (Counts{Requests: 2}) {
		t.Fatalf("minute 2 seen from b: %+v", got)
	}
	if series[0].Counts != (Counts{}) {
		t.Fatalf("empty minute not zero: %+v", series[0])
	}
	series, _ = a.Series(ctx, "alpha", 3)
	if got := Total(series); got != (Counts{Requests: 11, ClientErrors: 2, Errors: 2, RateLimited: 2}) {
		t.Fatalf("total seen from a: %+v", got)
	}
	// Projects are separate.
	series, _ = a.Series(ctx, "beta", 3)
	if got := Total(series); got != (Counts{Requests: 1}) {
		t.Fatalf("beta: %+v", got)
	}
	// A window that ends before the data has none of it.
	now = now.Add(10 * time.Minute)
	series, _ = a.Series(ctx, "alpha", 5)
	if got := Total(series); got != (Counts{}) {
		t.Fatalf("later window: %+v", got)
	}
}

func TestFlushFailureKeepsCounts(t *testing.T) {
	t.Parallel()
	pool := setup(t, "alpha")
	ctx := context.Background()
	now := time.Date(2030, 1, 2, 3, 4, 30, 0, time.UTC)
	c := newCounter(pool, &now)
	c.Record("alpha", 200)
	c.Record("gone", 200) // a project deleted meanwhile is skipped, not an error
	// A cancelled context makes the flush fail: the counts must survive.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Flush(cctx); err == nil {
		t.Fatal("flush with a cancelled context succeeded")
	}
	c.Record("alpha", 500)
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var req, errs int64
	if err := pool.QueryRow(ctx, `select requests, errors from plinth.usage_minutes where project_ref = 'alpha'`).Scan(&req, &errs); err != nil {
		t.Fatal(err)
	}
	if req != 2 || errs != 1 {
		t.Fatalf("after retry: %d requests, %d errors; want 2, 1", req, errs)
	}
	// Rows past retention are purged on a later flush.
	now = now.Add(Retention + 2*time.Hour)
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `select count(*) from plinth.usage_minutes`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d rows past retention kept", n)
	}
}
