package ratelimit_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/config"
	"github.com/plinth-dev/plinth/platform/ratelimit"
)

// BenchmarkCheck is the limiter's own cost per check: one Redis round trip
// (EVALSHA of the GCRA script on loopback) or the in-process GCRA.
func BenchmarkCheck(b *testing.B) {
	opt, err := redis.ParseURL(testenv.RedisURL(b))
	if err != nil {
		b.Fatal(err)
	}
	rc := redis.NewClient(opt)
	defer rc.Close()
	lim := ratelimit.Limit{Rate: 1 << 30, Period: time.Second, Burst: 1 << 30}
	for _, bc := range []struct {
		name string
		be   ratelimit.Backend
	}{{"redis", ratelimit.NewRedis(rc)}, {"memory", ratelimit.NewMemory()}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				if _, err := bc.be.Allow(ctx, "bench:serial", lim); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"-parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					if _, err := bc.be.Allow(ctx, "bench:parallel", lim); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkRequest is a whole data API request (service key, one-row
// table) over loopback HTTP to three servers: limiter off, in process, and
// on Redis. Requests to the three alternate, so load from elsewhere on the
// machine hits all three alike; the medians' differences are what rate
// limiting adds to a request.
func BenchmarkRequest(b *testing.B) {
	huge := config.RateSpec{Rate: config.MaxRate, Period: time.Second, Burst: config.MaxBurst}
	variants := []struct {
		name string
		opt  testserver.Option
	}{
		{"off", func(c *config.Config) { c.RateLimitDefault = config.RateSpec{} }},
		{"memory", func(c *config.Config) { c.RateLimitDefault = huge }},
		{"redis", func(c *config.Config) { c.RateLimitDefault = huge; c.RedisURL = testenv.RedisURL(b) }},
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	reqs := make([]*http.Request, len(variants))
	for i, v := range variants {
		ts := testserver.Start(b, v.opt)
		p := ts.CreateProject(b, "bench")
		ts.SQL(b, "bench", "create table items (id int primary key); insert into items values (1)")
		reqs[i], _ = http.NewRequest("GET", ts.URL+"/p/bench/rest/v1/items?select=id", nil)
		reqs[i].Header.Set("apikey", p.ServiceKey)
	}
	do := func(req *http.Request) time.Duration {
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
		return time.Since(start)
	}
	for _, r := range reqs {
		do(r) // warm: pools, schema cache, rules cache
	}
	took := make([][]time.Duration, len(variants))
	b.ResetTimer()
	for b.Loop() {
		for i, r := range reqs {
			took[i] = append(took[i], do(r))
		}
	}
	for i, v := range variants {
		d := took[i]
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds()), v.name+"-median-µs")
	}
}
