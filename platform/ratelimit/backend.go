package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limit is a GCRA limit: Rate events per Period on average, up to Burst at
// once.
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// Result is the outcome of one check.
type Result struct {
	Allowed   bool
	Remaining int // requests that could be sent right now
	// RetryAfter is how long until a refused request would pass (0 when
	// allowed).
	RetryAfter time.Duration
	// ResetAfter is how long until the bucket is full again.
	ResetAfter time.Duration
}

// Backend runs GCRA checks. Redis makes limits global across instances; the
// in-process Memory backend holds them for one instance.
type Backend interface {
	Allow(ctx context.Context, key string, l Limit) (Result, error)
}

// Redis is a Backend on redis_rate's Lua GCRA: one atomic round trip per
// check, shared by every instance using the same Redis.
type Redis struct{ l *redis_rate.Limiter }

// NewRedis wraps a go-redis client. Its timeouts decide how long a check
// may take when Redis is unreachable, so keep them short.
func NewRedis(c *redis.Client) *Redis { return &Redis{l: redis_rate.NewLimiter(c)} }

// Allow implements Backend.
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	res, err := r.l.Allow(ctx, key, redis_rate.Limit{Rate: l.Rate, Period: l.Period, Burst: l.Burst})
	if err != nil {
		return Result{}, fmt.Errorf("redis rate limit: %w", err)
	}
	out := Result{Allowed: res.Allowed > 0, ResetAfter: max(res.ResetAfter, 0)}
	if !out.Allowed {
		out.RetryAfter = max(res.RetryAfter, 0)
		return out, nil
	}
	// The script truncates remaining = diff/emission, and float error in
	// diff (e.g. 39.99999994s for 40s) costs a request now and then; derive
	// it again from the reset time with a tolerance.
	emission := l.Period.Seconds() / float64(l.Rate)
	out.Remaining = max(remainingOf(emission*float64(l.Burst)-out.ResetAfter.Seconds(), emission), res.Remaining)
	return out, nil
}

// Memory is an in-process GCRA with the same arithmetic as redis_rate's Lua
// script, for single-instance installs without Redis. State is sharded to
// keep lock contention low and swept lazily, so idle keys cost nothing for
// long.
type Memory struct {
	seed   maphash.Seed
	start  time.Time
	now    func() time.Duration // since start; tests move it by hand
	shards [64]memShard
}

type memShard struct {
	mu        sync.Mutex
	tat       map[string]float64 // theoretical arrival time, seconds since start
	lastSweep float64
}

// sweepEvery bounds how often a shard drops keys whose bucket is full again.
const sweepEvery = 10.0 // seconds

// NewMemory makes an in-process backend.
func NewMemory() *Memory {
	m := &Memory{seed: maphash.MakeSeed(), start: time.Now()}
	m.now = func() time.Duration { return time.Since(m.start) }
	for i := range m.shards {
		m.shards[i].tat = map[string]float64{}
	}
	return m
}

// Allow implements Backend. It never fails.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (Result, error) {
	if l.Rate <= 0 || l.Burst <= 0 || l.Period <= 0 {
		return Result{}, errors.New("memory rate limit: invalid limit")
	}
	now := m.now().Seconds()
	sh := &m.shards[maphash.String(m.seed, key)%uint64(len(m.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if now-sh.lastSweep > sweepEvery {
		for k, t := range sh.tat {
			if t <= now {
				delete(sh.tat, k)
			}
		}
		sh.lastSweep = now
	}
	emission := l.Period.Seconds() / float64(l.Rate)
	tat, ok := sh.tat[key]
	if !ok || tat < now {
		tat = now
	}
	newTat := tat + emission
	diff := now - (newTat - emission*float64(l.Burst))
	// A nanosecond of slack: (now+x)-x is not always now in floating point,
	// and a burst of 1 would then refuse a fresh key.
	if diff < -1e-9 {
		return Result{RetryAfter: seconds(-diff), ResetAfter: seconds(tat - now)}, nil
	}
	sh.tat[key] = newTat
	return Result{Allowed: true, Remaining: remainingOf(diff, emission), ResetAfter: seconds(newTat - now)}, nil
}

// remainingOf is how many emission intervals fit in diff, tolerating float
// error a hair below a whole number.
func remainingOf(diff, emission float64) int {
	return max(int(math.Floor(diff/emission+1e-6)), 0)
}

// seconds converts, rounded to microseconds as Redis' clock is.
func seconds(f float64) time.Duration { return time.Duration(math.Round(f*1e6)) * time.Microsecond }

// breaker stops a dead backend from costing every request a timeout: after
// a failure, checks fail fast for cooldown; then one request probes while
// the others keep failing fast, and a success closes the breaker.
type breaker struct {
	cooldown  time.Duration
	openUntil atomic.Int64 // unix nanos; 0 = closed
}

// errBreakerOpen is what fast-failed checks report.
var errBreakerOpen = errors.New("rate limiter backend unavailable (recent failure, retrying shortly)")

func (b *breaker) allow() bool {
	until := b.openUntil.Load()
	if until == 0 {
		return true
	}
	now := time.Now().UnixNano()
	if now < until {
		return false
	}
	// Half-open: whoever moves the deadline probes.
	return b.openUntil.CompareAndSwap(until, now+int64(b.cooldown))
}

// record notes a check's outcome and reports whether a success closed an
// open breaker (the backend is back).
func (b *breaker) record(failed bool) (recovered bool) {
	if failed {
		b.openUntil.Store(time.Now().Add(b.cooldown).UnixNano())
		return false
	}
	return b.openUntil.Load() != 0 && b.openUntil.Swap(0) != 0
}
