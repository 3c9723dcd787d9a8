package ratelimit

import (
	"strconv"
	"strings"
	"time"
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

// check is one policy applied to one request.
type check struct {
	policy Policy
	res    Result
}

// rendered is what one request's checks put on the response.
type rendered struct {
	policy, rateLimit string    // RateLimit-Policy, RateLimit
	trio              [3]string // X-RateLimit-Limit, -Remaining, -Reset
	binding           Policy
	refused           bool
	retryAfter        int // whole seconds, when refused
}

// render builds the headers for the checks of one request. Both structured
// fields list every policy applied ("anon";q=100;w=1, ...); the X-RateLimit
// trio describes the binding one: the refusing policy that frees up last,
// or else the one with the fewest requests left.
func render(checks []check) rendered {
	var out rendered
	var pb, lb strings.Builder
	bind := -1
	for i, ch := range checks {
		if i > 0 {
			pb.WriteString(", ")
			lb.WriteString(", ")
		}
		name := sfString(ch.policy.Name)
		pb.WriteString(name)
		pb.WriteString(";q=")
		pb.WriteString(strconv.Itoa(ch.policy.Limit.Rate))
		pb.WriteString(";w=")
		pb.WriteString(strconv.Itoa(int(ch.policy.Limit.Period / time.Second)))
		lb.WriteString(name)
		lb.WriteString(";r=")
		lb.WriteString(strconv.Itoa(remaining(ch.res)))
		lb.WriteString(";t=")
		lb.WriteString(strconv.Itoa(ceilSeconds(ch.res.ResetAfter)))
		if bind < 0 || binds(ch.res, checks[bind].res) {
			bind = i
		}
		if !ch.res.Allowed {
			out.refused = true
			out.retryAfter = max(out.retryAfter, ceilSeconds(ch.res.RetryAfter), 1)
		}
	}
	out.policy, out.rateLimit = pb.String(), lb.String()
	if bind >= 0 {
		b := checks[bind]
		out.binding = b.policy
		out.trio = [3]string{strconv.Itoa(b.policy.Limit.Rate), strconv.Itoa(remaining(b.res)), strconv.Itoa(ceilSeconds(b.res.ResetAfter))}
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
