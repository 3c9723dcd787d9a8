package pool

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/platform/apierror"
)

// A request that finds its project's pool full is turned away after
// AcquireWait with a 503 PL503, not queued until its deadline; a deadline
// shorter than AcquireWait still ends the wait as a deadline.
func TestAcquireWaitBounded(t *testing.T) {
	t.Parallel()
	tn := newTenant(t) // a pool of one connection
	held, err := tn.pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()

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

	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelShort()
	_, err = QueryRow(short, tn.pool, Session{Role: tn.anon, StatementTimeout: time.Second}, "select 1")
	if errors.As(err, &be) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("request deadline before AcquireWait: want the deadline, got %v", err)
	}
}
