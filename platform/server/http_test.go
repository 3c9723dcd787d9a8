package server_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/plinth-dev/plinth/internal/testserver"
)

func TestCORS(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	p := ts.CreateProject(t, "cors")
	ts.SQL(t, p.Ref, "create table t (id int)")
	preflight := map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "apikey, authorization"}

	// Default: any origin, preflight needs no key.
	res := ts.Do(t, "OPTIONS", "/p/cors/rest/v1/t", preflight, nil)
	if res.Status != 204 || res.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "apikey") {
		t.Fatalf("default preflight: %d %v", res.Status, res.Header)
	}
	res = ts.Rest(t, p, p.AnonKey, "GET", "/t", map[string]string{"Origin": "https://x.test"}, nil)
	if res.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "Content-Range") {
		t.Fatalf("simple request CORS headers: %v", res.Header)
	}

	// An allow-list.
	if res := ts.Admin(t, "PATCH", "/projects/cors/settings", map[string]any{"cors_origins": []string{"https://app.example.com"}}); res.Status != 200 {
		t.Fatalf("patch settings: %d %s", res.Status, res.Body)
	}
	res = ts.Do(t, "OPTIONS", "/p/cors/rest/v1/t", preflight, nil)
	if res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("allowed origin: %v", res.Header)
	}
	preflight["Origin"] = "https://evil.example.com"
	res = ts.Do(t, "OPTIONS", "/p/cors/rest/v1/t", preflight, nil)
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("disallowed origin got CORS headers: %v", res.Header)
	}
	// The admin API is same-origin only.
	res = ts.Do(t, "OPTIONS", "/admin/v1/projects", preflight, nil)
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("admin API answered CORS: %v", res.Header)
	}
	// Bad settings are refused and change nothing.
	assertError(t, ts.Admin(t, "PATCH", "/projects/cors/settings", map[string]any{"cors_origins": []string{"javascript:alert(1)"}}), 400, "PL400")
	assertError(t, ts.Admin(t, "PATCH", "/projects/cors/settings", map[string]any{"max_rows": 0}), 400, "PL400")
	assertError(t, ts.Admin(t, "PATCH", "/projects/cors/settings", map[string]any{"nope": 1}), 400, "PGRST102")
	assertError(t, ts.Admin(t, "PATCH", "/projects/cors/settings", "{not json"), 400, "PGRST102")
	var st struct {
		CORSOrigins []string `json:"cors_origins"`
		MaxRows     *int     `json:"max_rows"`
	}
	ts.Admin(t, "GET", "/projects/cors/settings", nil).JSON(t, &st)
	if len(st.CORSOrigins) != 1 || st.CORSOrigins[0] != "https://app.example.com" || st.MaxRows != nil {
		t.Fatalf("settings changed by bad input: %+v", st)
	}
}

func TestErrorShapesAndStatus(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	p := ts.CreateProject(t, "errs")
	ts.SQL(t, p.Ref, "create table t (id int, name text); insert into t select g, 'n' || g from generate_series(1, 30) g")
	k := p.ServiceKey
	cases := []struct {
		name, path string
		status     int
		code       string
	}{
		{"unknown table", "/nope", 404, "PGRST205"},
		{"unknown column in select", "/t?select=zzz", 400, "42703"},
		{"unknown column in filter", "/t?zzz=eq.1", 400, "42703"},
		{"malformed filter", "/t?id=eq", 400, "PGRST100"},
		{"unknown operator", "/t?id=foo.1", 400, "PGRST100"},
		{"bad value for type", "/t?id=eq.abc", 400, "22P02"},
		{"bad limit", "/t?limit=-5", 416, "PGRST103"},
		{"bad cast", "/t?select=id::int;drop", 400, "PGRST100"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertError(t, ts.Rest(t, p, k, "GET", c.path, nil, nil), c.status, c.code)
		})
	}
	assertError(t, ts.Do(t, "GET", "/p/no-such-project/rest/v1/t", map[string]string{"apikey": k}, nil), 404, "PL404")
	assertError(t, ts.Do(t, "GET", "/p/BAD/rest/v1/t", nil, nil), 404, "PL404")

	// max_rows caps every response.
	ts.Admin(t, "PATCH", "/projects/errs/settings", map[string]any{"max_rows": 7})
	res := ts.Rest(t, p, k, "GET", "/t?order=id", nil, nil)
	if res.Status != 200 || strings.Count(string(res.Body), `"id"`) != 7 || res.Header.Get("Content-Range") != "0-6/*" {
		t.Fatalf("max_rows: %d %s %v", res.Status, res.Body, res.Header.Get("Content-Range"))
	}
	res = ts.Rest(t, p, k, "GET", "/t?select=id,label:name&id=gte.10&order=id.desc&limit=2&offset=1", nil, nil)
	if string(res.Body) != `[{"id":29,"label":"n29"}, `+"\n"+` {"id":28,"label":"n28"}]` || res.Header.Get("Content-Range") != "1-2/*" {
		t.Fatalf("filtered read: %s %s", res.Body, res.Header.Get("Content-Range"))
	}
	if res := ts.Rest(t, p, k, "HEAD", "/t", nil, nil); res.Status != 200 || len(res.Body) != 0 {
		t.Fatalf("HEAD: %d %q", res.Status, res.Body)
	}
	// A request id comes back, and a sane incoming one is kept.
	res = ts.Rest(t, p, k, "GET", "/t?limit=1", map[string]string{"X-Request-Id": "trace-123"}, nil)
	if res.Header.Get("X-Request-Id") != "trace-123" {
		t.Fatalf("request id: %v", res.Header)
	}
	// Oversized headers and bodies get clean 431/413.
	big := strings.Repeat("a", 64*1024)
	res = ts.Rest(t, p, k, "GET", "/t", map[string]string{"X-Big": big}, nil)
	if res.Status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("big header: %d %s", res.Status, res.Body)
	}
	// The server answers an oversized declared body before reading it, so
	// speak raw HTTP rather than race a client still uploading.
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /p/errs/rest/v1/t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n[", 64<<20)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("big body: %d", resp.StatusCode)
	}
}

func TestOpsEndpoints(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	if res := ts.Do(t, "GET", "/healthz", nil, nil); res.Status != 200 {
		t.Fatalf("healthz: %d", res.Status)
	}
	res := ts.Do(t, "GET", "/readyz", nil, nil)
	if res.Status != 200 || !strings.Contains(string(res.Body), `"postgres":"ok"`) {
		t.Fatalf("readyz: %d %s", res.Status, res.Body)
	}
	ts.Do(t, "GET", "/p/nope/rest/v1/x", nil, nil)
	res = ts.Do(t, "GET", "/metrics", nil, nil)
	if !strings.Contains(string(res.Body), `plinth_http_requests_total{class="rest",status="404"}`) || !strings.Contains(string(res.Body), "plinth_tenant_pools") {
		t.Fatalf("metrics missing series:\n%s", res.Body)
	}
}

func TestAdminSQLAndAudit(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	ts.CreateProject(t, "sqlp")
	rows := ts.SQL(t, "sqlp", "select 1 as n, 'x' as s, true as b, '{\"a\":1}'::jsonb as j, null as z, current_user as who")
	if len(rows) != 1 || rows[0]["n"] != float64(1) || rows[0]["s"] != "x" || rows[0]["b"] != true || rows[0]["z"] != nil {
		t.Fatalf("rows: %v", rows)
	}
	if rows[0]["who"] != ts.DB.Prefix+"sqlp_owner" {
		t.Fatalf("admin SQL ran as %v", rows[0]["who"])
	}
	if j, _ := rows[0]["j"].(map[string]any); j["a"] != float64(1) {
		t.Fatalf("jsonb not inline: %v", rows[0]["j"])
	}
	res := ts.Admin(t, "POST", "/projects/sqlp/sql", map[string]string{"query": "select 1;\nselec 1"})
	assertError(t, res, 400, "42601")
	if !strings.Contains(string(res.Body), "position") {
		t.Fatalf("no position in SQL error: %s", res.Body)
	}
	// A failed script leaves nothing behind.
	ts.Admin(t, "POST", "/projects/sqlp/sql", map[string]string{"query": "create table half (id int); select 1/0"})
	if rows := ts.SQL(t, "sqlp", "select count(*) as n from pg_tables where tablename = 'half'"); rows[0]["n"] != float64(0) {
		t.Fatal("failed script left a table behind")
	}
	var audit []struct{ Action, Actor string }
	ts.Admin(t, "GET", "/projects/sqlp/audit", nil).JSON(t, &audit)
	if len(audit) < 2 || audit[len(audit)-1].Action != "project.create" || audit[0].Action != "sql.run" || audit[0].Actor != "token" {
		t.Fatalf("audit: %+v", audit)
	}
}

// An answer sent before the request was read in full (here 431 for an
// oversized header) reaches the client: the server's close must not reset
// the connection under the bytes the client is still sending. Many clients
// at once, since a reset loses the race only now and then.
func TestOversizedHeaderAnsweredNotReset(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	p := ts.CreateProject(t, "bighdr")
	ts.SQL(t, p.Ref, "create table t (id int)")
	big := strings.Repeat("a", 64*1024)
	var wg sync.WaitGroup
	errs := make(chan string, 800)
	for range 8 {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			for range 100 {
				req, _ := http.NewRequest("GET", ts.URL+"/p/bighdr/rest/v1/t", nil)
				req.Header.Set("apikey", p.ServiceKey)
				req.Header.Set("X-Big", big)
				res, err := client.Do(req)
				if err != nil {
					errs <- err.Error()
					continue
				}
				_ = res.Body.Close()
				if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
					errs <- res.Status
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	var got []string
	for e := range errs {
		got = append(got, e)
	}
	if len(got) > 0 {
		t.Fatalf("%d of 800 oversized requests got no 431, first: %s", len(got), got[0])
	}
}
