// Package testserver runs an in-process Plinth server on a real loopback
// listener against the test harness's database, with helpers to create
// projects and call the admin API. Tests of every layer share it.
package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/platform/config"
	"github.com/plinth-dev/plinth/platform/server"
)

// AdminToken is the static admin token of test servers.
const AdminToken = "test-admin-token-0123456789"

// TS is a running test server.
type TS struct {
	URL    string
	Srv    *server.Server
	Cfg    config.Config
	DB     *testenv.DB
	Logs   *LogBuffer
	client *http.Client
}

// LogBuffer collects the server's log output (tests scan it for secrets).
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Option adjusts the config before start.
type Option func(*config.Config)

// Start runs a server on a fresh database of the harness.
func Start(t testing.TB, opts ...Option) *TS {
	t.Helper()
	return StartOn(t, testenv.NewDatabase(t), opts...)
}

// StartOn runs another server on an existing database (multi-instance tests).
func StartOn(t testing.TB, db *testenv.DB, opts ...Option) *TS {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DatabaseURL = db.URL
	cfg.TenantPrefix = db.Prefix
	cfg.SecretKey = "test-secret-key-0123456789abcdef"
	cfg.AdminToken = AdminToken
	cfg.ShutdownTimeout = 5 * time.Second
	for _, o := range opts {
		o(&cfg)
	}
	logs := &LogBuffer{}
	// Tests log every request (they scan logs for secrets),
	// and every statement taken from a template is checked against a fresh
	// build, but benchmarks measure what production runs.
	level := slog.LevelDebug
	cfg.VerifyTemplates = true
	if _, bench := t.(*testing.B); bench {
		level, cfg.VerifyTemplates = slog.LevelInfo, false
	}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("start server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	ts := &TS{URL: "http://" + ln.Addr().String(), Srv: srv, Cfg: cfg, DB: db, Logs: logs, client: &http.Client{Timeout: 30 * time.Second}}
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("server did not stop")
		}
		srv.Close()
	})
	srv.WaitListening(10 * time.Second)
	return ts
}

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Do sends a request. body may be nil, a string, []byte or any JSON value.
func (ts *TS) Do(t testing.TB, method, path string, headers map[string]string, body any) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := ts.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Admin calls the admin API with the static token.
func (ts *TS) Admin(t testing.TB, method, path string, body any) *Response {
	t.Helper()
	return ts.Do(t, method, "/admin/v1"+path, map[string]string{"Authorization": "Bearer " + AdminToken}, body)
}

// Project is a created project with its keys.
type Project struct {
	Ref        string
	Schema     string
	AnonKey    string
	ServiceKey string
}

// CreateProject provisions a project through the admin API.
func (ts *TS) CreateProject(t testing.TB, ref string) *Project {
	t.Helper()
	res := ts.Admin(t, "POST", "/projects", map[string]string{"ref": ref, "name": ref})
	if res.Status != http.StatusCreated {
		t.Fatalf("create project %s: %d %s", ref, res.Status, res.Body)
	}
	var out struct {
		Schema  string            `json:"schema"`
		APIKeys map[string]string `json:"api_keys"`
	}
	res.JSON(t, &out)
	return &Project{Ref: ref, Schema: out.Schema, AnonKey: out.APIKeys["anon"], ServiceKey: out.APIKeys["service_role"]}
}

// SQL runs admin SQL in a project and fails the test on error.
func (ts *TS) SQL(t testing.TB, ref, query string) []map[string]any {
	t.Helper()
	res := ts.Admin(t, "POST", "/projects/"+ref+"/sql", map[string]string{"query": query})
	if res.Status != http.StatusOK {
		t.Fatalf("sql in %s: %d %s\n%s", ref, res.Status, res.Body, query)
	}
	var out struct {
		Rows []map[string]any `json:"rows"`
	}
	res.JSON(t, &out)
	return out.Rows
}

// Rest calls a project's data API with a key.
func (ts *TS) Rest(t testing.TB, p *Project, key, method, path string, headers map[string]string, body any) *Response {
	t.Helper()
	h := map[string]string{"apikey": key}
	for k, v := range headers {
		h[k] = v
	}
	return ts.Do(t, method, "/p/"+p.Ref+"/rest/v1"+path, h, body)
}
