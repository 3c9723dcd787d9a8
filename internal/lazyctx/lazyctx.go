// Package lazyctx provides a deadline context that starts no timer until
// something waits on it. Every data request carries a deadline, but on the
// usual path nothing ever waits on it (caches answer, a pooled connection
// is free, the query is bounded by its connection's I/O deadline), and a
// timer per request, with the cancellation plumbing around it, is a
// measurable share of a small request's cost.
package lazyctx

import (
	"context"
	"sync"
	"time"
)

// Context ends at its deadline or when its parent ends. Done and Err arm a
// real timer on first use; Deadline and Value never do.
type Context struct {
	parent   context.Context
	deadline time.Time

	once   sync.Once
	armed  context.Context
	cancel context.CancelFunc
}

// WithTimeout returns a Context ending after d (or with parent, if that is
// sooner), and its cancel function, to be called as for context.WithTimeout.
func WithTimeout(parent context.Context, d time.Duration) (*Context, context.CancelFunc) {
	deadline := time.Now().Add(d)
	if pd, ok := parent.Deadline(); ok && pd.Before(deadline) {
		deadline = pd
	}
	c := &Context{parent: parent, deadline: deadline}
	return c, c.release
}

func (c *Context) arm() context.Context {
	c.once.Do(func() { c.armed, c.cancel = context.WithDeadline(c.parent, c.deadline) })
	return c.armed
}

func (c *Context) release() {
	// Cancelled before anything waited: end as a cancelled context does,
	// without ever having started a timer.
	c.once.Do(func() { c.armed = canceled{c.parent} })
	if c.cancel != nil {
		c.cancel()
	}
}

// canceled is a context that has ended by cancellation.
type canceled struct{ context.Context }

func (canceled) Done() <-chan struct{} { return closedChan }
func (canceled) Err() error            { return context.Canceled }

var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Deadline returns the deadline without arming the timer.
func (c *Context) Deadline() (time.Time, bool) { return c.deadline, true }

// Done arms the timer and returns the channel closed when c ends.
func (c *Context) Done() <-chan struct{} { return c.arm().Done() }

// Err arms the timer and says why c ended, if it has.
func (c *Context) Err() error { return c.arm().Err() }

// Value is the parent's.
func (c *Context) Value(key any) any { return c.parent.Value(key) }

// Unwatched returns a view of ctx for code that bounds its own waits by
// the deadline (an I/O deadline, a dial timeout): it has ctx's deadline and
// values but no Done channel, so nothing arms a timer through it. ok is
// false, and ctx is returned, unless ctx is a Context whose parent can never
// be cancelled, which makes the deadline its only way to end.
func Unwatched(ctx context.Context) (context.Context, bool) {
	c, ok := ctx.(*Context)
	if !ok || c.parent.Done() != nil {
		return ctx, false
	}
	return unwatched{c}, true
}

type unwatched struct{ c *Context }

func (u unwatched) Deadline() (time.Time, bool) { return u.c.deadline, true }
func (u unwatched) Done() <-chan struct{}       { return nil }
func (u unwatched) Err() error                  { return nil }
func (u unwatched) Value(key any) any           { return u.c.parent.Value(key) }
