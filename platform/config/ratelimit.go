package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RateSpec is a platform default rate limit: Rate requests per Period with
// up to Burst at once. The zero value means "no limit".
type RateSpec struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// Off reports whether the spec disables the limit.
func (r RateSpec) Off() bool { return r.Rate == 0 }

func (r RateSpec) String() string {
	if r.Off() {
		return "off"
	}
	var period string
	switch {
	case r.Period%time.Hour == 0:
		period = strconv.Itoa(int(r.Period/time.Hour)) + "h"
	case r.Period%time.Minute == 0:
		period = strconv.Itoa(int(r.Period/time.Minute)) + "m"
	default:
		period = strconv.Itoa(int(r.Period/time.Second)) + "s"
	}
	s := strconv.Itoa(r.Rate) + "/" + period
	if r.Burst != r.Rate {
		s += ",burst=" + strconv.Itoa(r.Burst)
	}
	return s
}

// Bounds of a rate limit, shared with the admin API's validation: beyond
// them a "limit" protects nothing, and periods over a day keep counters
// alive for too long.
const (
	MaxRate   = 1_000_000
	MaxBurst  = 1_000_000
	MaxPeriod = 24 * time.Hour
)

// ParseRateSpec reads "RATE/PERIOD[,burst=N]" or "off": "1000/1s",
// "30/5m", "100/1s,burst=200". PERIOD is a Go duration of whole seconds; a
// bare unit ("100/s") means one of it. Burst defaults to RATE.
func ParseRateSpec(s string) (RateSpec, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return RateSpec{}, nil
	}
	main, burstPart, hasBurst := strings.Cut(s, ",")
	rateStr, periodStr, ok := strings.Cut(main, "/")
	if !ok {
		return RateSpec{}, fmt.Errorf("want RATE/PERIOD[,burst=N] like 1000/1s, or off; got %q", s)
	}
	rate, err := strconv.Atoi(strings.TrimSpace(rateStr))
	if err != nil || rate < 1 || rate > MaxRate {
		return RateSpec{}, fmt.Errorf("rate in %q must be an integer from 1 to %d", s, MaxRate)
	}
	periodStr = strings.TrimSpace(periodStr)
	if periodStr == "s" || periodStr == "m" || periodStr == "h" {
		periodStr = "1" + periodStr
	}
	period, err := time.ParseDuration(periodStr)
	if err != nil || period < time.Second || period > MaxPeriod || period%time.Second != 0 {
		return RateSpec{}, fmt.Errorf("period in %q must be whole seconds from 1s to 24h, like 1s, 5m or 1h", s)
	}
	burst := rate
	if hasBurst {
		v, ok := strings.CutPrefix(strings.TrimSpace(burstPart), "burst=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 1 || n > MaxBurst {
			return RateSpec{}, fmt.Errorf("burst in %q must be burst=N with N from 1 to %d", s, MaxBurst)
		}
		burst = n
	}
	return RateSpec{Rate: rate, Period: period, Burst: burst}, nil
}

func rateVar(field func(*Config) *RateSpec) func(*Config, string) error {
	return func(c *Config, v string) error {
		r, err := ParseRateSpec(v)
		if err != nil {
			return err
		}
		*field(c) = r
		return nil
	}
}
