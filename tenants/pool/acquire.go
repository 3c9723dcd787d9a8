package pool

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// AcquireWait bounds how long a request waits for a free connection of its
// project's pool, apart from the statement timeout. A project that floods
// the server with slow queries fills only its own pool; its further requests
// then fail fast with a clear 503 instead of queueing until their deadline
// (statement timeout + 2s), and the flood stays cheap for everyone else.
const AcquireWait = 2 * time.Second

// BusyError says a project's pool had no free connection within
// AcquireWait. It carries its HTTP answer (apierror.ClientError): 503, so
// clients retry after the Retry-After the error handler adds.
type BusyError struct {
	Wait time.Duration
	err  error
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("tenant pool: no free connection within %v: %v", e.Wait, e.err)
}
func (e *BusyError) Unwrap() error { return e.err }

// Status is the HTTP status of the error.
func (e *BusyError) Status() int { return http.StatusServiceUnavailable }

// Fields are the error body's code, message, details and hint.
func (e *BusyError) Fields() (code, message, details, hint string) {
	return "PL503", "Too many concurrent requests for this project",
		fmt.Sprintf("All of the project's database connections stayed busy for %v.", e.Wait),
		"Retry shortly; long-running queries hold connections until their statement timeout."
}

// acquire takes a connection from p, waiting at most AcquireWait (or ctx).
func acquire(ctx context.Context, p *pgxpool.Pool) (*pgxpool.Conn, error) {
	wctx, cancel := context.WithTimeout(ctx, AcquireWait)
	defer cancel()
	c, err := p.Acquire(wctx)
	if err != nil && ctx.Err() == nil && errors.Is(wctx.Err(), context.DeadlineExceeded) {
		return nil, &BusyError{Wait: AcquireWait, err: err}
	}
	return c, err
}
