package ratelimit

import (
	"strconv"
	"strings"
	"time"

	"github.com/plinth-dev/plinth/internal/fasthdr"
)

// Header names (DESIGN.md §7.4): the IETF draft's structured fields
// (draft-ietf-httpapi-ratelimit-headers-10/11) and the de-facto trio.
const (
	HeaderPolicy     = "RateLimit-Policy"
	HeaderRateLimit  = "RateLimit"
	HeaderLimit      = "X-RateLimit-Limit"
	HeaderRemaining  = "X-RateLimit-Remaining"
	HeaderReset      = "X-RateLimit-Reset"
	HeaderRetryAfter = "Retry-After"
)

// The names as fasthttp stores them (see fasthdr.Canonical).
var (
	canonPolicy    = fasthdr.Canonical(HeaderPolicy)
	canonRateLimit = fasthdr.Canonical(HeaderRateLimit)
	canonLimit     = fasthdr.Canonical(HeaderLimit)
	canonRemaining = fasthdr.Canonical(HeaderRemaining)
	canonReset     = fasthdr.Canonical(HeaderReset)
)

// check is one policy applied to one request.
type check struct {
	policy Policy
	res    Result
}

// rendered is what one request's checks put on the response. The byte
// slices point into the caller's buffer: the response header copies them,
// so rendering allocates nothing for the usual single policy.
type rendered struct {
	policy     string // RateLimit-Policy
	rateLimit  []byte // RateLimit
	limit      string // X-RateLimit-Limit
	remaining  []byte // X-RateLimit-Remaining
	reset      []byte // X-RateLimit-Reset
	binding    Policy
	refused    bool
	retryAfter int // whole seconds, when refused
}

// render builds the headers for the checks of one request into buf. Both
// structured fields list every policy applied ("anon";q=100;w=1, ...); the
// X-RateLimit trio describes the binding one: the refusing policy that
// frees up last, or else the one with the fewest requests left.
func render(checks []check, buf []byte) rendered {
	var out rendered
	bind := -1
	rl := buf[:0]
	for i, ch := range checks {
		p := ch.policy
		if p.item == "" {
			p = p.rendered()
		}
		if i > 0 {
			rl = append(rl, ", "...)
		}
		rl = append(append(rl, p.sfName...), ";r="...)
		rl = strconv.AppendInt(rl, int64(remaining(ch.res)), 10)
		rl = append(rl, ";t="...)
		rl = strconv.AppendInt(rl, int64(ceilSeconds(ch.res.ResetAfter)), 10)
		if bind < 0 || binds(ch.res, checks[bind].res) {
			bind = i
		}
		if !ch.res.Allowed {
			out.refused = true
			out.retryAfter = max(out.retryAfter, ceilSeconds(ch.res.RetryAfter), 1)
		}
	}
	out.rateLimit = rl
	if len(checks) == 1 {
		out.policy = checks[0].policy.item // no copy for the usual single policy
	}
	if out.policy == "" {
		items := make([]string, len(checks))
		for i, ch := range checks {
			p := ch.policy
			if p.item == "" {
				p = p.rendered()
			}
			items[i] = p.item
		}
		out.policy = strings.Join(items, ", ")
	}
	if bind >= 0 {
		b := checks[bind]
		out.binding = b.policy
		out.limit = b.policy.limit
		if out.limit == "" {
			out.limit = strconv.Itoa(b.policy.Limit.Rate)
		}
		rest := rl[len(rl):]
		out.remaining = strconv.AppendInt(rest, int64(remaining(b.res)), 10)
		rest = out.remaining[len(out.remaining):]
		out.reset = strconv.AppendInt(rest, int64(ceilSeconds(b.res.ResetAfter)), 10)
	}
	return out
}

// binds reports whether a is more binding than b.
func binds(a, b Result) bool {
	switch {
	case a.Allowed != b.Allowed:
		return !a.Allowed
	case !a.Allowed:
		return a.RetryAfter > b.RetryAfter
	case a.Remaining != b.Remaining:
		return a.Remaining < b.Remaining
	}
	return a.ResetAfter > b.ResetAfter
}

func remaining(r Result) int {
	if !r.Allowed {
		return 0
	}
	return max(r.Remaining, 0)
}

// ceilSeconds rounds up to whole seconds, as Retry-After and t= require.
func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// sfString renders a structured-field String (RFC 8941 §3.3.3).
func sfString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			continue
		}
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
