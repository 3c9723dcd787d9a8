package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
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

// Redis is a Backend on redis_rate's Lua GCRA, shared by every instance
// using the same Redis. A Redis round trip costs far more machine time than
// the check itself, so two things keep hot keys off the wire, neither of
// which can let more requests through than the limit allows:
//
//   - Combining: checks of a key that arrive while a call for that key is in
//     flight wait for it, then go to Redis together as one script call that
//     allows as many of them as the bucket holds, in order: the outcome they
//     would have had one after another.
//   - Reservation: a key this instance sees often takes a few more requests
//     from the bucket than it needs right now and spends them locally for a
//     short while. Reserved requests are already counted in Redis, so every
//     instance together still never exceeds the limit. What is unused when a
//     reservation expires is lost, which can only make a limit stricter, so
//     a reservation is at most 1/16 of the burst and at most what the bucket
//     regains in that time: limits that refill slower than 20 requests a
//     second are never reserved and stay exact.
type Redis struct {
	rdb    redis.Scripter
	l      *redis_rate.Limiter
	now    func() time.Time
	shards [32]redisShard
	calls  atomic.Int64
}

type redisShard struct {
	mu        sync.Mutex
	keys      map[string]*redisKey
	lastSweep time.Time
}

// redisKey is one key's local state: the reservation it holds, the call in
// flight and who waits for it, and how busy the key is here.
type redisKey struct {
	tokens    int       // reserved requests left
	expires   time.Time // when the reserved ones are dropped
	remaining int       // the bucket's remaining count when they were reserved
	resetAt   time.Time // when the bucket is full again, as of that call

	busy    bool
	waiting []*waiter

	windowStart time.Time
	seen        int     // checks in the current window
	perSecond   float64 // checks per second in the last full window
	lastUse     time.Time
}

// waiter is one check queued behind the call in flight.
type waiter struct {
	done chan struct{}
	res  Result
	err  error
	// batch, when set on wake-up, makes this waiter run the next call for
	// everyone in it (itself first).
	batch []*waiter
}

const (
	// reserveFor is how long reserved requests stay usable.
	reserveFor = 100 * time.Millisecond
	// reserveShare caps a reservation at burst/reserveShare requests.
	reserveShare = 16
	// rateWindow is how often a key's request rate is re-estimated.
	rateWindow = 100 * time.Millisecond
	// minRateSpan is the shortest span a rate is estimated over.
	minRateSpan = 10 * time.Millisecond
	// redisKeyIdle is how long an unused key's local state is kept.
	redisKeyIdle = 10 * time.Second
)

// NewRedis wraps a go-redis client. Its timeouts decide how long a check
// may take when Redis is unreachable, so keep them short.
func NewRedis(c *redis.Client) *Redis {
	r := &Redis{rdb: c, l: redis_rate.NewLimiter(c), now: time.Now}
	for i := range r.shards {
		r.shards[i].keys = map[string]*redisKey{}
	}
	return r
}

// Calls is how many script calls reached Redis (each answers one check or
// more).
func (r *Redis) Calls() int64 { return r.calls.Load() }

func (r *Redis) shard(key string) *redisShard {
	return &r.shards[maphash.String(redisSeed, key)%uint64(len(r.shards))]
}

var redisSeed = maphash.MakeSeed()

// Allow implements Backend.
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	sh := r.shard(key)
	now := r.now()
	sh.mu.Lock()
	k := sh.key(key, now)
	k.count(now)
	if res, ok := k.take(now); ok {
		sh.mu.Unlock()
		return res, nil
	}
	self := &waiter{}
	if k.busy {
		self.done = make(chan struct{})
		k.waiting = append(k.waiting, self)
		sh.mu.Unlock()
		<-self.done
		if self.batch != nil {
			r.run(ctx, sh, key, l, self.batch)
		}
		return self.res, self.err
	}
	k.busy = true
	sh.mu.Unlock()
	r.run(ctx, sh, key, l, []*waiter{self})
	return self.res, self.err
}

// key returns key's state, sweeping long-idle keys now and then.
func (sh *redisShard) key(key string, now time.Time) *redisKey {
	if now.Sub(sh.lastSweep) > redisKeyIdle {
		for name, k := range sh.keys {
			if !k.busy && now.Sub(k.lastUse) > redisKeyIdle {
				delete(sh.keys, name)
			}
		}
		sh.lastSweep = now
	}
	k := sh.keys[key]
	if k == nil {
		k = &redisKey{windowStart: now}
		sh.keys[key] = k
	}
	k.lastUse = now
	return k
}

// count notes a check for the key's rate estimate.
func (k *redisKey) count(now time.Time) {
	if d := now.Sub(k.windowStart); d >= rateWindow {
		k.perSecond = 0
		if d < 2*rateWindow {
			k.perSecond = float64(k.seen) / d.Seconds()
		}
		k.windowStart, k.seen = now, 0
	}
	k.seen++
}

// take answers a check from the reservation, if one is left.
func (k *redisKey) take(now time.Time) (Result, bool) {
	if k.tokens == 0 {
		return Result{}, false
	}
	if !now.Before(k.expires) {
		k.tokens = 0
		return Result{}, false
	}
	k.tokens--
	return Result{Allowed: true, Remaining: k.remaining + k.tokens, ResetAfter: max(k.resetAt.Sub(now), 0)}, true
}

// reserve is how many requests beyond need the next call should take: what
// the key's rate says it will use within reserveFor, but never more than
// burst/reserveShare nor what the bucket regains in reserveFor, so an
// unused reservation costs the client at most that much refill time.
func (k *redisKey) reserve(need int, l Limit, now time.Time) int {
	ceiling := min(l.Burst/reserveShare, int(float64(l.Rate)*reserveFor.Seconds()/l.Period.Seconds()))
	if ceiling < 2 {
		return 0
	}
	perSecond := k.perSecond
	if k.seen >= 2 {
		// The current window counts too, so a burst is seen before its
		// window closes (over at least minRateSpan, not to overrate two
		// requests arriving together).
		perSecond = max(perSecond, float64(k.seen)/max(now.Sub(k.windowStart), minRateSpan).Seconds())
	}
	want := int(perSecond * reserveFor.Seconds())
	return max(min(want, ceiling)-need, 0)
}

// run answers batch (batch[0] is the caller) with one call, keeps what it
// reserved, answers from it whoever queued meanwhile, and hands the rest to
// the first of them, so no request runs more than its own call.
func (r *Redis) run(ctx context.Context, sh *redisShard, key string, l Limit, batch []*waiter) {
	// The call may answer other requests too: one client going away must
	// not cancel it (go-redis's own timeouts bound it).
	ctx = context.WithoutCancel(ctx)
	sh.mu.Lock()
	extra := sh.keys[key].reserve(len(batch), l, r.now())
	sh.mu.Unlock()

	r.calls.Add(1)
	var leftover int
	var res Result
	if len(batch) == 1 && extra == 0 {
		batch[0].res, batch[0].err = r.allowOne(ctx, key, l)
	} else {
		leftover, res = r.allowSeq(ctx, key, l, batch, extra)
	}

	now := r.now()
	sh.mu.Lock()
	k := sh.keys[key]
	if leftover > 0 {
		k.tokens, k.expires = leftover, now.Add(reserveFor)
		k.remaining, k.resetAt = res.Remaining, now.Add(res.ResetAfter)
	}
	// A failed call fails the checks queued behind it too: another call
	// now would only wait out the same timeout (the breaker takes over).
	failed := batch[0].err
	var next []*waiter
	for _, w := range k.waiting {
		if failed != nil {
			w.err = failed
			close(w.done)
			continue
		}
		if res, ok := k.take(now); ok {
			w.res = res
			close(w.done)
			continue
		}
		next = append(next, w)
	}
	k.waiting = nil
	if len(next) > 0 {
		next[0].batch = next
	} else {
		k.busy = false
	}
	sh.mu.Unlock()
	if len(next) > 0 {
		close(next[0].done)
	}
	for _, w := range batch[1:] {
		close(w.done)
	}
}

func (r *Redis) allowOne(ctx context.Context, key string, l Limit) (Result, error) {
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

// allowSeqScript is redis_rate's GCRA (same key, same stored arrival time,
// same arithmetic) for n requests at once: it allows as many as fit, in
// order, and reports what the last allowed one and the first refused one
// would have seen. redis_rate's AllowAtMost is close, but it consumes a
// fraction of a request when the bucket holds less than n and truncates
// float error in the count; this tolerates it as our other paths do.
var allowSeqScript = redis.NewScript(`
redis.replicate_commands()
local key = KEYS[1]
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local emission = period / rate
local burst_offset = emission * burst
local now = redis.call("TIME")
now = (now[1] - 1483228800) + (now[2] / 1000000)
local tat = redis.call("GET", key)
if not tat then tat = now else tat = tonumber(tat) end
tat = math.max(tat, now)
local fit = math.floor((now - (tat - burst_offset)) / emission + 1e-6)
if fit < 0 then fit = 0 end
local allowed = math.min(n, fit)
local new_tat = tat + allowed * emission
local reset_after = new_tat - now
if allowed > 0 and reset_after > 0 then
  redis.call("SET", key, new_tat, "EX", math.ceil(reset_after))
end
local retry_after = -1
if allowed < n then
  retry_after = math.max(new_tat + emission - burst_offset - now, 0)
end
return {allowed, fit - allowed, tostring(retry_after), tostring(reset_after)}
`)

// redisRatePrefix is where redis_rate keeps a key's state; allowSeqScript
// uses the same keys.
const redisRatePrefix = "rate:"

// allowSeq asks for len(batch)+extra requests, answers the batch in order
// and returns how many of the extra it got, with what the last of them
// would see.
func (r *Redis) allowSeq(ctx context.Context, key string, l Limit, batch []*waiter, extra int) (int, Result) {
	n := len(batch) + extra
	v, err := allowSeqScript.Run(ctx, r.rdb, []string{redisRatePrefix + key}, l.Burst, l.Rate, l.Period.Seconds(), n).Slice()
	var allowed, remaining int64
	var retry, reset float64
	if err == nil {
		err = parseSeq(v, &allowed, &remaining, &retry, &reset)
	}
	if err != nil {
		err = fmt.Errorf("redis rate limit: %w", err)
		for _, w := range batch {
			w.err = err
		}
		return 0, Result{}
	}
	emission := l.Period.Seconds() / float64(l.Rate)
	// after(j) is what the j-th allowed request sees: the ones after it
	// are still in the bucket.
	after := func(j int64) Result {
		later := float64(allowed - 1 - j)
		return Result{Allowed: true, Remaining: int(remaining) + int(later), ResetAfter: seconds(max(reset-later*emission, 0))}
	}
	for i, w := range batch {
		if int64(i) < allowed {
			w.res = after(int64(i))
		} else {
			w.res = Result{RetryAfter: seconds(retry), ResetAfter: seconds(reset)}
		}
	}
	leftover := max(allowed-int64(len(batch)), 0)
	return int(leftover), Result{Remaining: int(remaining), ResetAfter: seconds(reset)}
}

func parseSeq(v []any, allowed, remaining *int64, retry, reset *float64) error {
	if len(v) != 4 {
		return fmt.Errorf("unexpected script reply %v", v)
	}
	a, ok1 := v[0].(int64)
	rem, ok2 := v[1].(int64)
	rs, ok3 := v[2].(string)
	rt, ok4 := v[3].(string)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return fmt.Errorf("unexpected script reply %v", v)
	}
	var err error
	if *retry, err = strconv.ParseFloat(rs, 64); err != nil {
		return err
	}
	if *reset, err = strconv.ParseFloat(rt, 64); err != nil {
		return err
	}
	*allowed, *remaining = a, rem
	return nil
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
