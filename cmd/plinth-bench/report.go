package main

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is everything one run measured.
type Report struct {
	Machine  string    `json:"machine"`
	Started  time.Time `json:"started"`
	Features Features  `json:"features"`
	Results  []Result  `json:"results"`
	Scale    *Scale    `json:"tenant_scale,omitempty"`
}

func machine() string {
	return fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
}

func printResults(w io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttarget\tconc\treq/s\trows/s\tp50 ms\tp99 ms\terrors\tvs db\tvs http\tby round\tcpu\tcpu µs/req\tof it go\t")
	for _, r := range rs {
		rows := ""
		if r.RowsPerSec > 0 {
			rows = fmt.Sprintf("%.0f", r.RowsPerSec)
		}
		byRound := ""
		if len(r.RoundsVsHTTP) > 1 {
			med, lo, hi := spread(r.RoundsVsHTTP)
			byRound = fmt.Sprintf("%.2f (%.2f–%.2f)", med, lo, hi)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%s\t%.2f\t%.2f\t%d\t%.2f\t%.2f\t%s\t%.0f%%\t%.0f\t%.0f\t\n", r.Scenario, r.Target, r.Concurrency, r.RPS, rows, r.P50ms, r.P99ms, r.Errors, r.VsDB, r.VsHTTP, byRound, r.CPUBusy*100, r.CPUPerReq, r.SelfPerReq)
	}
	tw.Flush()
	for _, r := range rs {
		if r.Target == "plinth" && r.RedisCalls > 0 {
			fmt.Fprintf(w, "  %s: %d rate-limit calls reached Redis (%.0f requests each)\n", r.Scenario, r.RedisCalls, float64(r.Requests)/float64(r.RedisCalls))
		}
	}
}

func (rep *Report) write(stdout io.Writer, o options) error {
	fmt.Fprintf(stdout, "\nplinth-bench on %s (rules: %v, rate limits: %v, auth: %v)\n\n", rep.Machine, rep.Features.Rules, rep.Features.Limits, rep.Features.Auth)
	printResults(stdout, rep.Results)
	if rep.Scale != nil {
		rep.Scale.print(stdout)
	}
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if o.jsonOut == "-" {
			fmt.Fprintln(stdout, string(b))
		} else if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	if o.svgOut != "" {
		if err := os.WriteFile(o.svgOut, []byte(rep.svg()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

var targetColors = map[string]string{"db-floor": "#9aa5b1", "http-floor": "#5b8def", "http-floor+tx": "#2f5fb3", "plinth": "#e8590c"}
var targetOrder = []string{"db-floor", "http-floor", "http-floor+tx", "plinth"}

// svg draws grouped bars: throughput (req/s, or rows/s for bulk) by
// scenario and concurrency, one bar per target, scaled per group so every
// scenario is readable; labels give the absolute numbers.
func (rep *Report) svg() string {
	type group struct {
		label string
		vals  map[string]float64
	}
	var groups []group
	idx := map[string]int{}
	for _, r := range rep.Results {
		key := fmt.Sprintf("%s c=%d", r.Scenario, r.Concurrency)
		i, ok := idx[key]
		if !ok {
			i = len(groups)
			idx[key] = i
			groups = append(groups, group{label: key, vals: map[string]float64{}})
		}
		v := r.RPS
		if r.RowsPerSec > 0 {
			v = r.RowsPerSec
		}
		groups[i].vals[r.Target] = v
	}
	const gw, bh, left, top = 180, 220, 40, 50
	width := left*2 + gw*len(groups)
	height := top + bh + 90
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="20" font-size="14">plinth-bench: throughput by scenario (bar height relative within each group; label = req/s, rows/s for bulk)</text>`, left)
	for li, t := range targetOrder {
		fmt.Fprintf(&b, `<rect x="%d" y="30" width="10" height="10" fill="%s"/><text x="%d" y="39">%s</text>`, left+li*130, targetColors[t], left+li*130+14, t)
	}
	for gi, g := range groups {
		maxv := 0.0
		for _, v := range g.vals {
			maxv = max(maxv, v)
		}
		x0 := left + gi*gw
		for ti, t := range targetOrder {
			v := g.vals[t]
			h := 0.0
			if maxv > 0 {
				h = v / maxv * bh
			}
			x := x0 + 10 + ti*40
			y := float64(top+bh) - h
			fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="34" height="%.1f" fill="%s"/>`, x, y+10, h, targetColors[t])
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="9" text-anchor="middle">%s</text>`, x+17, y+6, short(v))
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, x0+gw/2, top+bh+30, html.EscapeString(g.label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func short(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
