// Package usage counts each project's data and auth requests per minute for
// the dashboard's charts. Every instance counts in memory and adds its counts
// to Postgres every few seconds (one upsert per flush), so the charts show
// the traffic of all instances; reads add this instance's unflushed counts.
package usage

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Retention is how long per-minute rows are kept; MaxMinutes is the longest
// window a read may ask for.
const (
	Retention  = 7 * 24 * time.Hour
	MaxMinutes = int(Retention / time.Minute)
)

// Counts are one project's requests in one minute.
type Counts struct {
	Requests     int64 `json:"requests"`
	ClientErrors int64 `json:"client_errors"` // 4xx other than 429
	Errors       int64 `json:"errors"`        // 5xx
	RateLimited  int64 `json:"rate_limited"`  // 429
}

func (c *Counts) add(o Counts) {
	c.Requests += o.Requests
	c.ClientErrors += o.ClientErrors
	c.Errors += o.Errors
	c.RateLimited += o.RateLimited
}

// Minute is one point of a series.
type Minute struct {
	Minute time.Time `json:"minute"`
	Counts
}

type bucket struct {
	ref    string
	minute int64 // unix seconds of the minute's start
}

// Counter counts requests and flushes them to Postgres.
type Counter struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	pending map[bucket]*Counts

	flushMu    sync.Mutex // one flush at a time, so failed counts merge back in order
	lastPurged time.Time
}

// New makes a Counter writing through pool (the control plane's).
func New(pool *pgxpool.Pool, log *slog.Logger) *Counter {
	return &Counter{pool: pool, log: log, now: time.Now, pending: map[bucket]*Counts{}}
}

// Record counts one finished request of project ref with its status.
func (c *Counter) Record(ref string, status int) {
	var d Counts
	d.Requests = 1
	switch {
	case status == http.StatusTooManyRequests:
		d.RateLimited = 1
	case status >= 500:
		d.Errors = 1
	case status >= 400:
		d.ClientErrors = 1
	}
	b := bucket{ref: ref, minute: c.now().Unix() / 60 * 60}
	c.mu.Lock()
	if p := c.pending[b]; p != nil {
		p.add(d)
	} else {
		nd := d // only a new entry escapes to the heap
		c.pending[b] = &nd
	}
	c.mu.Unlock()
}

// Run flushes every interval until ctx ends. Call Flush once more at
// shutdown, before the pool closes.
func (c *Counter) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := c.Flush(fctx); err != nil && ctx.Err() == nil {
				c.log.Warn("usage: flush failed; counts kept for the next try", "err", err)
			}
			cancel()
		}
	}
}

// Flush adds the pending counts to Postgres in one statement. On failure
// they stay pending (minutes older than the retention are dropped).
func (c *Counter) Flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	batch := c.pending
	c.pending = map[bucket]*Counts{}
	c.mu.Unlock()
	if len(batch) == 0 {
		return c.purgeOld(ctx)
	}
	n := len(batch)
	refs, minutes := make([]string, 0, n), make([]time.Time, 0, n)
	req, cli, srv, lim := make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	for b, v := range batch {
		refs, minutes = append(refs, b.ref), append(minutes, time.Unix(b.minute, 0).UTC())
		req, cli, srv, lim = append(req, v.Requests), append(cli, v.ClientErrors), append(srv, v.Errors), append(lim, v.RateLimited)
	}
	// The join skips projects deleted meanwhile; their rows went with them.
	_, err := c.pool.Exec(ctx, `insert into plinth.usage_minutes as u (project_ref, minute, requests, client_errors, errors, rate_limited)
		select b.ref, b.minute, b.requests, b.client_errors, b.errors, b.rate_limited
		from unnest($1::text[], $2::timestamptz[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
			as b(ref, minute, requests, client_errors, errors, rate_limited)
		join plinth.projects p on p.ref = b.ref
		order by b.ref, b.minute
		on conflict (project_ref, minute) do update set
			requests = u.requests + excluded.requests,
			client_errors = u.client_errors + excluded.client_errors,
			errors = u.errors + excluded.errors,
			rate_limited = u.rate_limited + excluded.rate_limited`,
		refs, minutes, req, cli, srv, lim)
	if err != nil {
		c.restore(batch)
		return fmt.Errorf("flush usage: %w", err)
	}
	return c.purgeOld(ctx)
}

// restore merges an unflushed batch back, dropping what is past retention so
// a long database outage cannot grow memory without bound.
func (c *Counter) restore(batch map[bucket]*Counts) {
	oldest := c.now().Add(-Retention).Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	for b, v := range batch {
		if b.minute < oldest {
			continue
		}
		if p := c.pending[b]; p != nil {
			p.add(*v)
		} else {
			c.pending[b] = v
		}
	}
}

// purgeOld deletes rows past retention, at most hourly.
func (c *Counter) purgeOld(ctx context.Context) error {
	now := c.now()
	if now.Sub(c.lastPurged) < time.Hour {
		return nil
	}
	if _, err := c.pool.Exec(ctx, `delete from plinth.usage_minutes where minute < $1`, now.Add(-Retention)); err != nil {
		return fmt.Errorf("purge usage: %w", err)
	}
	c.lastPurged = now
	return nil
}

// Series returns the last minutes minutes of project ref, oldest first, one
// point per minute (zeros included), the current minute last.
func (c *Counter) Series(ctx context.Context, ref string, minutes int) ([]Minute, error) {
	end := c.now().Unix() / 60 * 60
	start := end - int64(minutes-1)*60
	out := make([]Minute, minutes)
	for i := range out {
		out[i].Minute = time.Unix(start+int64(i)*60, 0).UTC()
	}
	rows, err := c.pool.Query(ctx, `select minute, requests, client_errors, errors, rate_limited
		from plinth.usage_minutes where project_ref = $1 and minute >= $2 and minute <= $3`,
		ref, time.Unix(start, 0), time.Unix(end, 0))
	if err != nil {
		return nil, fmt.Errorf("read usage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m time.Time
		var v Counts
		if err := rows.Scan(&m, &v.Requests, &v.ClientErrors, &v.Errors, &v.RateLimited); err != nil {
			return nil, fmt.Errorf("read usage: %w", err)
		}
		if i := (m.Unix() - start) / 60; i >= 0 && i < int64(minutes) {
			out[i].add(v)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read usage: %w", err)
	}
	// Not yet flushed here: this instance's own recent requests.
	c.mu.Lock()
	for b, v := range c.pending {
		if i := (b.minute - start) / 60; b.ref == ref && b.minute >= start && i < int64(minutes) {
			out[i].add(*v)
		}
	}
	c.mu.Unlock()
	return out, nil
}

// Total sums a series.
func Total(series []Minute) Counts {
	var t Counts
	for _, m := range series {
		t.add(m.Counts)
	}
	return t
}
