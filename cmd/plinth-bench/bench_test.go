package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBenchRun runs the whole tool briefly against its own Postgres, Redis
// and Plinth: every scenario must answer without errors on every target,
// Plinth's answers must equal the floor's, and the report, the tenant-scale
// figures and the chart must carry the numbers.
func TestBenchRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Postgres, Redis and Plinth")
	}
	dir := t.TempDir()
	o := options{
		duration: 150 * time.Millisecond, rounds: 2, concurrency: []int{4}, pool: 2, tenants: 3, settleMax: 2 * time.Second,
		jsonOut: filepath.Join(dir, "bench.json"), svgOut: filepath.Join(dir, "bench.svg"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := bench(ctx, o, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(o.jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Features.Rules || !rep.Features.Limits || !rep.Features.Auth {
		t.Errorf("features %+v: every one should be on", rep.Features)
	}
	want := []string{"get-by-pk", "list-20", "owner-only", "embed-1-n", "insert-1", "bulk-1000", "count-exact", "count-estimated"}
	targets := []string{"db-floor", "http-floor", "http-floor+tx", "plinth"}
	if len(rep.Results) != len(want)*len(targets) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(want)*len(targets))
	}
	rows := map[string]int{}
	for _, s := range scenarios("p_bench", &benchUser{}) {
		rows[s.Name] = s.Rows
	}
	for i, r := range rep.Results {
		if r.Scenario != want[i/len(targets)] || r.Target != targets[i%len(targets)] {
			t.Errorf("result %d is %s/%s", i, r.Scenario, r.Target)
		}
		if r.Requests == 0 || r.Errors != 0 || r.RPS <= 0 || r.VsHTTP <= 0 || r.VsDB <= 0 {
			t.Errorf("%s/%s: %d requests, %d errors, %.0f req/s, ratios %.2f %.2f", r.Scenario, r.Target, r.Requests, r.Errors, r.RPS, r.VsHTTP, r.VsDB)
		}
		// Every round finishes at least one request per worker, however
		// slow (count-exact under -race), so each round has a ratio.
		if len(r.RoundsVsHTTP) != 2 || r.RoundsVsHTTP[0] <= 0 || r.RoundsVsHTTP[1] <= 0 {
			t.Errorf("%s/%s: per-round ratios %v, want two, both above zero", r.Scenario, r.Target, r.RoundsVsHTTP)
		}
		if n := rows[r.Scenario]; n > 1 && r.RowsPerSec != r.RPS*float64(n) {
			t.Errorf("%s/%s: %.0f rows/s at %.0f req/s", r.Scenario, r.Target, r.RowsPerSec, r.RPS)
		}
	}
	sc := rep.Scale
	if sc == nil {
		t.Fatal("no tenant-scale figures")
	}
	if sc.Projects != 3 || sc.TenantsTouched != 3 || sc.ProvisionMsPerProj <= 0 || sc.HotAloneRPS <= 0 || sc.HotWithAllRPS <= 0 ||
		sc.FloorAloneRPS <= 0 || sc.FloorWithAllRPS <= 0 || sc.ColdFirstP50ms <= 0 || sc.ColdFirstP99ms < sc.ColdFirstP50ms || sc.CatalogMiB <= 0 {
		t.Errorf("tenant scale: %+v", *sc)
	}
	svg, err := os.ReadFile(o.svgOut)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(svg), "<svg") {
		t.Errorf("chart does not start with <svg: %.80s", svg)
	}
	for _, s := range want {
		if !strings.Contains(string(svg), s) {
			t.Errorf("chart lacks scenario %s", s)
		}
	}
}

// TestSameAnswersRefusesDifferentWork: a target answering other JSON than
// the floor stops the run, whatever the key order or spacing.
func TestSameAnswersRefusesDifferentWork(t *testing.T) {
	serve := func(body func(r *http.Request) string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, body(r))
		}))
	}
	floor := serve(func(r *http.Request) string { return `[{"id":` + r.URL.Query().Get("i") + `,"t":"a"}]` })
	defer floor.Close()
	same := serve(func(r *http.Request) string {
		return `[ {"t": "a", "id": ` + strings.TrimPrefix(r.URL.Path, "/items/") + `} ]`
	})
	defer same.Close()
	other := serve(func(r *http.Request) string { return `[{"id":1,"t":"b"}]` })
	defer other.Close()

	s := Scenario{Name: "one", Method: "GET", Path: func(i int) string { return "/items/" + strconv.Itoa(i) }}
	write := Scenario{Name: "write", Method: "POST", Path: func(int) string { return "/x" }}
	ctx := context.Background()
	if err := sameAnswers(ctx, http.DefaultClient, floor.URL, same.URL, nil, []Scenario{s, write}); err != nil {
		t.Errorf("equal JSON refused: %v", err)
	}
	err := sameAnswers(ctx, http.DefaultClient, floor.URL, other.URL, nil, []Scenario{s})
	if err == nil || !strings.Contains(err.Error(), "one (request 0)") {
		t.Errorf("different answers: got %v", err)
	}
}

// TestPairedRatios: each round's ratio comes from that round alone, so a
// machine slowing down between rounds moves both sides together.
func TestPairedRatios(t *testing.T) {
	rounds := [][]float64{{1000, 800}, {500, 410}, {0, 5}, {2000, 1500}}
	got := pairedRatios(rounds, 1, 0)
	want := []float64{0.8, 0.82, 0.75}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if d := got[i] - want[i]; d > 1e-9 || d < -1e-9 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if med, lo, hi := spread(got); med != got[0] || lo != got[2] || hi != got[1] {
		t.Errorf("spread %v = %v %v %v", got, med, lo, hi)
	}
	if med, _, _ := spread([]float64{0.7, 0.9}); med < 0.8-1e-9 || med > 0.8+1e-9 {
		t.Errorf("median of two = %v, want their mean", med)
	}
}

// TestRoundOrder: every round measures each target once, and over the
// rounds no target follows the same neighbour most of the time.
func TestRoundOrder(t *testing.T) {
	for _, n := range []int{3, 4} {
		checkRoundOrder(t, n, 4*n)
	}
}

func checkRoundOrder(t *testing.T, n, rounds int) {
	follows := map[[2]int]int{} // {target, predecessor} → times
	followed := map[int]int{}
	prev := -1
	for r := 0; r < rounds; r++ {
		seen := map[int]bool{}
		for i := 0; i < n; i++ {
			ti := roundOrder(r, i, n)
			if ti < 0 || ti >= n || seen[ti] {
				t.Fatalf("round %d: target %d out of range or twice", r, ti)
			}
			seen[ti] = true
			if prev >= 0 && prev != ti {
				follows[[2]int{ti, prev}]++
				followed[ti]++
			}
			prev = ti
		}
	}
	for k, times := range follows {
		if share := float64(times) / float64(followed[k[0]]); share > 0.6 {
			t.Errorf("%d targets: target %d follows target %d in %.0f%% of its runs", n, k[0], k[1], share*100)
		}
	}
}
