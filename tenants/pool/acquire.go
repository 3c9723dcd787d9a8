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

// Pool is one project's connection pool. Every user of its connections
// takes one of its slots first (as many as the pool has connections), so a
// request can tell without waiting whether a connection is free, and only a
// request that must wait pays for a timer.
type Pool struct {
	pgx   *pgxpool.Pool
	slots chan struct{}
}

func newPool(p *pgxpool.Pool) *Pool {
	return &Pool{pgx: p, slots: make(chan struct{}, p.Config().MaxConns)}
}

// Close closes the pool's connections, waiting for borrowed ones.
func (p *Pool) Close() { p.pgx.Close() }

// Stat is pgxpool's statistics of the pool.
func (p *Pool) Stat() *pgxpool.Stat { return p.pgx.Stat() }

// conn is a connection borrowed with its slot.
type conn struct {
	*pgxpool.Conn
	slots chan struct{}
}

func (c conn) release() {
	c.Release()
	<-c.slots
}

// acquire takes a connection, waiting at most AcquireWait (or until ctx
// ends) for a slot. Once it holds a slot, a connection is idle or may be
// opened, so pgxpool gets the unwatched view of a request context
// (lazyctx): connecting is bounded by its deadline and ConnectTimeout.
func (p *Pool) acquire(ctx, unwatched context.Context) (conn, error) {
	select {
	case p.slots <- struct{}{}:
	default:
		t := time.NewTimer(AcquireWait)
		defer t.Stop()
		select {
		case p.slots <- struct{}{}:
		case <-t.C:
			return conn{}, &BusyError{Wait: AcquireWait, err: errors.New("every connection is in use")}
		case <-ctx.Done():
			return conn{}, ctx.Err()
		}
	}
	c, err := p.pgx.Acquire(unwatched)
	if err != nil {
		<-p.slots
		return conn{}, err
	}
	return conn{Conn: c, slots: p.slots}, nil
}
