package pool

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/internal/lazyctx"
	"github.com/plinth-dev/plinth/platform/apierror"
)

// A request that finds its project's pool full is turned away after
// AcquireWait with a 503 PL503, not queued until its deadline; a deadline
// shorter than AcquireWait still ends the wait as a deadline.
func TestAcquireWaitBounded(t *testing.T) {
	t.Parallel()
	tn := newTenant(t) // a pool of one connection
	held, err := tn.pool.acquire(context.Background(), context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer held.release()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err = QueryRow(ctx, tn.pool, Session{Role: tn.anon, StatementTimeout: time.Second}, "select 1")
	took := time.Since(start)
	var be *BusyError
	if !errors.As(err, &be) {
		t.Fatalf("full pool: want *BusyError, got %v", err)
	}
	if took < AcquireWait || took > AcquireWait+5*time.Second {
		t.Errorf("full pool: answered after %v, want about %v", took, AcquireWait)
	}
	if ae := apierror.From(err, true); ae.Status != http.StatusServiceUnavailable || ae.Code != "PL503" || ae.Details == nil {
		t.Errorf("full pool maps to %d %s %v", ae.Status, ae.Code, ae.Details)
	}

	for name, short := range map[string]func() (context.Context, context.CancelFunc){
		"context": func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		},
		"request": func() (context.Context, context.CancelFunc) {
			return lazyctx.WithTimeout(context.Background(), 100*time.Millisecond)
		},
	} {
		ctx, cancel := short()
		_, err = QueryRow(ctx, tn.pool, Session{Role: tn.anon, StatementTimeout: time.Second}, "select 1")
		cancel()
		if errors.As(err, &be) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s deadline before AcquireWait: want the deadline, got %v", name, err)
		}
	}
}

// A request context is not watched by pgx: the connection's I/O deadline
// ends a statement that outlives the request's deadline, the answer is the
// deadline (PL504), and the pool serves the next request on a fresh
// connection.
func TestRequestDeadlineEndsQuery(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	slow := func(arg string) error {
		ctx, cancel := lazyctx.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := QueryRow(ctx, tn.pool, Session{Role: tn.anon, StatementTimeout: 10 * time.Second}, "select pg_sleep($1::float8)", arg)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("slow statement answered after %v, want about the 300ms deadline", took)
		}
		return err
	}
	// Unprepared (through pgx's pipeline), then prepared (the direct
	// protocol path, once the connection has seen the statement twice).
	for i, arg := range []string{"5", "0", "0", "0", "5"} {
		err := slow(arg)
		if arg == "0" {
			if err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
			continue
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call %d: want the deadline, got %v", i, err)
		}
		if ae := apierror.From(err, true); ae.Code != apierror.CodeTimeout {
			t.Errorf("deadline maps to %d %s", ae.Status, ae.Code)
		}
	}
	next, cancelNext := lazyctx.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelNext()
	row, err := QueryRow(next, tn.pool, Session{Role: tn.anon, StatementTimeout: time.Second}, "select 41 + 1")
	if err != nil || len(row) != 1 || string(row[0]) != "42" {
		t.Fatalf("next request: %q %v", row, err)
	}
	// The deadline was lifted from the (pool's only) connection afterwards:
	// it stays usable past that request's deadline.
	time.Sleep(400 * time.Millisecond)
	again, cancelAgain := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelAgain()
	if _, err := QueryRow(again, tn.pool, Session{Role: tn.anon, StatementTimeout: time.Second}, "select 1"); err != nil {
		t.Fatalf("connection after a request's deadline passed: %v", err)
	}
}
