package adminapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/ratelimit"
	"github.com/plinth-dev/plinth/platform/store"
)

// Brute-force limits of admin sign-in: failures are counted per email and
// per client IP in a fixed window; once a counter reaches its limit, sign-in
// for that email (or from that IP) answers 429 without checking the
// password until the window ends. The IP limit is higher because several
// admins may share an office NAT.
const (
	SignInFailuresPerEmail = 10
	SignInFailuresPerIP    = 50
	SignInWindow           = 15 * time.Minute
)

// Lockout counts failed admin sign-ins. With Redis the counters are shared
// by every instance; without it (or while Redis is down) each instance
// counts on its own, which still bounds guessing per instance.
type Lockout struct {
	redis     *redis.Client
	namespace string
	trusted   []netip.Prefix

	mu  sync.Mutex
	mem map[string]*failures
}

type failures struct {
	n     int
	until time.Time
}

// NewLockout makes a Lockout; rdb may be nil. namespace keeps instances of
// different deployments (and test databases) apart in one Redis.
func NewLockout(rdb *redis.Client, namespace string, trusted []netip.Prefix) *Lockout {
	return &Lockout{redis: rdb, namespace: namespace, trusted: trusted, mem: map[string]*failures{}}
}

// subjects are the counters a sign-in attempt touches, with their limits.
func (l *Lockout) subjects(c *fiber.Ctx, email string) [2]struct {
	key string
	max int
} {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	var xff []string
	for _, v := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		xff = append(xff, string(v))
	}
	ip := peer.Unmap()
	if len(l.trusted) > 0 {
		ip = ratelimit.ClientIP(peer, xff, l.trusted)
	}
	// The email is hashed so that keys in Redis do not list admin accounts.
	sum := sha256.Sum256([]byte(store.NormalizeEmail(email)))
	prefix := "plinth:" + l.namespace + ":signin:"
	return [2]struct {
		key string
		max int
	}{
		{prefix + "e:" + hex.EncodeToString(sum[:16]), SignInFailuresPerEmail},
		{prefix + "ip:" + ip.String(), SignInFailuresPerIP},
	}
}

// check refuses with 429 and Retry-After when a counter is at its limit.
func (l *Lockout) check(c *fiber.Ctx, email string) error {
	subjects := l.subjects(c, email)
	counts, ttls := l.get(c.UserContext(), subjects[0].key, subjects[1].key)
	var wait time.Duration
	for i, s := range subjects {
		if counts[i] >= s.max && ttls[i] > wait {
			wait = ttls[i]
		}
	}
	if wait <= 0 {
		return nil
	}
	secs := int((wait + time.Second - 1) / time.Second)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
	return apierror.Newf(http.StatusTooManyRequests, apierror.CodeRateLimited, "Too many failed sign-in attempts").
		WithHint("Retry after " + strconv.Itoa(secs) + " seconds.")
}

// fail counts one failed attempt against the email and the IP.
func (l *Lockout) fail(c *fiber.Ctx, email string) {
	s := l.subjects(c, email)
	l.incr(c.UserContext(), s[0].key, s[1].key)
}

// succeed clears the email's counter: whoever signed in knows the password,
// so earlier typos should not lock the account. The IP counter stays.
func (l *Lockout) succeed(c *fiber.Ctx, email string) {
	key := l.subjects(c, email)[0].key
	if l.redis != nil {
		_ = l.redis.Del(c.UserContext(), key).Err()
	}
	l.mu.Lock()
	delete(l.mem, key)
	l.mu.Unlock()
}

// get reads counters and their remaining windows, in one Redis round trip
// (falling back to this instance's memory when Redis fails).
func (l *Lockout) get(ctx context.Context, keys ...string) ([]int, []time.Duration) {
	counts, ttls := make([]int, len(keys)), make([]time.Duration, len(keys))
	if l.redis != nil {
		pipe := l.redis.Pipeline()
		gets := make([]*redis.StringCmd, len(keys))
		pttls := make([]*redis.DurationCmd, len(keys))
		for i, k := range keys {
			gets[i], pttls[i] = pipe.Get(ctx, k), pipe.PTTL(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err == nil || errors.Is(err, redis.Nil) {
			for i := range keys {
				counts[i], _ = gets[i].Int()
				ttls[i] = pttls[i].Val()
			}
			return counts, ttls
		}
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, k := range keys {
		if f := l.mem[k]; f != nil && now.Before(f.until) {
			counts[i], ttls[i] = f.n, f.until.Sub(now)
		}
	}
	return counts, ttls
}

// incr counts a failure on each key, starting its window on the first.
func (l *Lockout) incr(ctx context.Context, keys ...string) {
	if l.redis != nil {
		pipe := l.redis.TxPipeline()
		for _, k := range keys {
			pipe.Incr(ctx, k)
			pipe.ExpireNX(ctx, k, SignInWindow)
		}
		if _, err := pipe.Exec(ctx); err == nil {
			return
		}
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.mem) > 100_000 { // bound memory under a spray of emails
		for k, f := range l.mem {
			if now.After(f.until) {
				delete(l.mem, k)
			}
		}
	}
	for _, k := range keys {
		f := l.mem[k]
		if f == nil || now.After(f.until) {
			f = &failures{until: now.Add(SignInWindow)}
			l.mem[k] = f
		}
		f.n++
	}
}
