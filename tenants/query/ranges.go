package query

import (
	"strconv"
	"strings"
)

// ParseRange parses a Range request header ("0-9", "10-", optionally
// "items=0-9") with its Range-Unit. ok is false when the header is absent or
// is not an items range PostgREST would read (it then ignores the header);
// a range whose end precedes its start is a PGRST103 error.
func ParseRange(value, unit string) (r Range, ok bool, err error) {
	if u := strings.TrimSpace(unit); u != "" && !strings.EqualFold(u, "items") {
		return Range{}, false, nil
	}
	v := strings.TrimSpace(value)
	v = strings.TrimPrefix(v, "items=")
	lo, hi, found := strings.Cut(v, "-")
	if !found || !allDigits(lo) || (hi != "" && !allDigits(hi)) {
		return Range{}, false, nil
	}
	first, e1 := strconv.ParseInt(lo, 10, 64)
	if e1 != nil {
		return Range{}, false, rangeError("The range boundaries are too large.")
	}
	if hi == "" {
		return Range{Offset: first, Limit: NoLimit}, true, nil
	}
	last, e2 := strconv.ParseInt(hi, 10, 64)
	if e2 != nil || last == 1<<63-1 {
		return Range{}, false, rangeError("The range boundaries are too large.")
	}
	if last < first {
		return Range{}, false, rangeError("The lower boundary must be lower than or equal to the upper boundary in the Range header.")
	}
	return Range{Offset: first, Limit: last - first + 1}, true, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// end is the exclusive end of r, or -1 for unbounded.
func (r Range) end() int64 {
	if r.Limit == NoLimit {
		return -1
	}
	if r.Offset > (1<<63-1)-r.Limit {
		return 1<<63 - 1
	}
	return r.Offset + r.Limit
}

// Intersect returns the rows both ranges cover, as PostgREST combines the
// Range header with limit/offset. Disjoint ranges give a zero Limit.
func (r Range) Intersect(o Range) Range {
	out := Range{Offset: max(r.Offset, o.Offset), Limit: NoLimit}
	e1, e2 := r.end(), o.end()
	var end int64
	switch {
	case e1 < 0 && e2 < 0:
		return out
	case e1 < 0:
		end = e2
	case e2 < 0:
		end = e1
	default:
		end = min(e1, e2)
	}
	out.Limit = max(end-out.Offset, 0)
	return out
}
