package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseRateSpec(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]RateSpec{
		"1000/1s":         {Rate: 1000, Period: time.Second, Burst: 1000},
		"30/5m":           {Rate: 30, Period: 5 * time.Minute, Burst: 30},
		"100/s,burst=200": {Rate: 100, Period: time.Second, Burst: 200},
		"off":             {},
	} {
		got, err := ParseRateSpec(in)
		if err != nil || got != want {
			t.Errorf("ParseRateSpec(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "100", "0/1s", "x/1s", "10/0s", "10/1500ms", "10/25h", "10/1s,burst=0", "10/1s,b=2"} {
		if _, err := ParseRateSpec(bad); err == nil {
			t.Errorf("ParseRateSpec(%q) accepted", bad)
		}
	}
}

func TestRateLimitVars(t *testing.T) {
	t.Parallel()
	c, err := Load(func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimitDefault.String() != "1000/1s" || c.RateLimitSignin.String() != "30/5m" || c.RateLimitRefresh.Rate != 150 || c.RateLimitOTP.Rate != 30 {
		t.Fatalf("defaults: %+v %+v %+v %+v", c.RateLimitDefault, c.RateLimitSignin, c.RateLimitRefresh, c.RateLimitOTP)
	}
	env := map[string]string{"PLINTH_RATE_LIMIT_DEFAULT": "off", "PLINTH_RATE_LIMIT_SIGNIN": "5/1m,burst=2"}
	c, err = Load(func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.RateLimitDefault.Off() || c.RateLimitSignin != (RateSpec{Rate: 5, Period: time.Minute, Burst: 2}) {
		t.Fatalf("from env: %+v %+v", c.RateLimitDefault, c.RateLimitSignin)
	}
	env["PLINTH_RATE_LIMIT_OTP"] = "lots"
	if _, err := Load(func(k string) string { return env[k] }, nil); err == nil || !strings.Contains(err.Error(), "PLINTH_RATE_LIMIT_OTP") {
		t.Fatalf("bad value: %v", err)
	}
}
