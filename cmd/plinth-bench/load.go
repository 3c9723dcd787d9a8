package main

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Result is one target's measurement of one scenario at one concurrency.
type Result struct {
	Scenario    string  `json:"scenario"`
	Target      string  `json:"target"`
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	RPS         float64 `json:"rps"`
	RowsPerSec  float64 `json:"rows_per_sec,omitempty"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	// Ratios to the floors of the same scenario and concurrency.
	VsDB   float64 `json:"vs_db_floor,omitempty"`
	VsHTTP float64 `json:"vs_http_floor,omitempty"`
	// RoundsVsHTTP pairs each round's throughput with the HTTP floor's in
	// the same round; its median shrugs off drift that the totals carry.
	RoundsVsHTTP []float64 `json:"rounds_vs_http_floor,omitempty"`
	// Machine CPU while the target ran: busy share of all cores, and busy
	// time per successful request (every process on the machine).
	CPUBusy   float64 `json:"cpu_busy,omitempty"`
	CPUPerReq float64 `json:"cpu_us_per_req,omitempty"`
	// The bench process's part of it (load generator, floors, Plinth).
	SelfPerReq float64 `json:"self_us_per_req,omitempty"`
	// RedisCalls is how many rate-limit calls reached Redis while Plinth
	// served this scenario (warm-up and every round).
	RedisCalls int64 `json:"redis_calls,omitempty"`
}

// op performs one request; worker is the caller's index, i its iteration.
type op func(ctx context.Context, worker, i int) error

type sample struct {
	lat  []time.Duration
	errs int
	n    int
	cpu  cpuTimes
}

// run drives op from conc workers for d and returns latencies and errors.
// A worker starts no request after d but finishes the one in flight, and
// that one counts: cutting it off would drop the slowest requests and,
// when one request outlasts d, leave the round with no result at all.
func run(ctx context.Context, conc int, d time.Duration, f op) sample {
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var all sample
	cpu0, cpuOK := readCPU()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var s sample
			for i := 0; ctx.Err() == nil && (i == 0 || time.Now().Before(deadline)); i++ {
				t0 := time.Now()
				err := f(ctx, w, i)
				if ctx.Err() != nil {
					break // the run was cancelled: not a real result
				}
				s.lat = append(s.lat, time.Since(t0))
				s.n++
				if err != nil {
					s.errs++
				}
			}
			mu.Lock()
			all.lat = append(all.lat, s.lat...)
			all.errs += s.errs
			all.n += s.n
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	cpu1, ok := readCPU()
	if ok && cpuOK {
		all.cpu = cpu1.sub(cpu0)
	}
	return all
}

// rate is the sample's successful requests per second over d (0 for no time).
func (s sample) rate(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(s.n-s.errs) / d.Seconds()
}

// merge adds samples of the same target over interleaved rounds.
func (s *sample) merge(o sample) {
	s.lat = append(s.lat, o.lat...)
	s.errs += o.errs
	s.n += o.n
	s.cpu.busy += o.cpu.busy
	s.cpu.total += o.cpu.total
	s.cpu.self += o.cpu.self
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return float64(sorted[i].Microseconds()) / 1000
}

func summarize(scenario, target string, conc int, s sample, elapsed time.Duration, rowsPerReq int) Result {
	sort.Slice(s.lat, func(i, j int) bool { return s.lat[i] < s.lat[j] })
	r := Result{Scenario: scenario, Target: target, Concurrency: conc, Requests: s.n, Errors: s.errs,
		P50ms: percentile(s.lat, 0.5), P99ms: percentile(s.lat, 0.99)}
	r.RPS = s.rate(elapsed)
	if rowsPerReq > 1 {
		r.RowsPerSec = r.RPS * float64(rowsPerReq)
	}
	r.CPUBusy = s.cpu.busyShare()
	r.CPUPerReq, r.SelfPerReq = s.cpuPerRequest()
	return r
}

// cpuPerRequest is the machine's busy CPU time and this process's, per
// successful request, in microseconds (0 without any).
func (s sample) cpuPerRequest() (busy, self float64) {
	ok := s.n - s.errs
	if ok <= 0 {
		return 0, 0
	}
	return float64(s.cpu.busy) * 1e6 / clockTick / float64(ok), float64(s.cpu.self) * 1e6 / clockTick / float64(ok)
}
