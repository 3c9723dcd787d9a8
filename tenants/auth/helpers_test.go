package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/config"
	"github.com/plinth-dev/plinth/platform/seal"
	"github.com/plinth-dev/plinth/tenants/auth"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// start runs a test server without the per-IP sign-in and refresh limits:
// these tests sign in far more often than a person would (TestAuthRateLimited
// checks that the limits apply).
func start(t *testing.T) *testserver.TS {
	t.Helper()
	return testserver.Start(t, noAuthLimits)
}

func noAuthLimits(c *config.Config) {
	c.RateLimitSignin, c.RateLimitRefresh = config.RateSpec{}, config.RateSpec{}
}

// apiVersion is what auth-js sends in X-Supabase-Api-Version.
const apiVersion = "2024-01-01"

// client calls one project's auth API with its anon key, as auth-js does.
type client struct {
	ts *testserver.TS
	p  *testserver.Project
}

func newClient(t *testing.T, ts *testserver.TS, ref string) *client {
	t.Helper()
	return &client{ts: ts, p: ts.CreateProject(t, ref)}
}

func (c *client) do(t *testing.T, method, path, bearer string, body any) *testserver.Response {
	t.Helper()
	h := map[string]string{"apikey": c.p.AnonKey, "X-Supabase-Api-Version": apiVersion}
	if bearer != "" {
		h["Authorization"] = "Bearer " + bearer
	}
	return c.ts.Do(t, method, "/p/"+c.p.Ref+"/auth/v1"+path, h, body)
}

// rest calls the project's data API with the anon key and a user token.
func (c *client) rest(t *testing.T, path, bearer string) *testserver.Response {
	t.Helper()
	h := map[string]string{}
	if bearer != "" {
		h["Authorization"] = "Bearer " + bearer
	}
	return c.ts.Rest(t, c.p, c.p.AnonKey, http.MethodGet, path, h, nil)
}

type session struct {
	AccessToken  string         `json:"access_token"`
	TokenType    string         `json:"token_type"`
	ExpiresIn    int            `json:"expires_in"`
	ExpiresAt    int64          `json:"expires_at"`
	RefreshToken string         `json:"refresh_token"`
	User         map[string]any `json:"user"`
}

func (s *session) userID() string { return s.User["id"].(string) }

func (c *client) signUp(t *testing.T, email, password string) *session {
	t.Helper()
	res := c.do(t, "POST", "/signup", "", map[string]any{"email": email, "password": password})
	return decodeSession(t, res)
}

func (c *client) signIn(t *testing.T, email, password string) *session {
	t.Helper()
	res := c.do(t, "POST", "/token?grant_type=password", "", map[string]any{"email": email, "password": password})
	return decodeSession(t, res)
}

func (c *client) refresh(t *testing.T, token string) *testserver.Response {
	t.Helper()
	return c.do(t, "POST", "/token?grant_type=refresh_token", "", map[string]any{"refresh_token": token})
}

func decodeSession(t *testing.T, res *testserver.Response) *session {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("want a session, got %d %s", res.Status, res.Body)
	}
	var s session
	res.JSON(t, &s)
	if s.AccessToken == "" || s.RefreshToken == "" || s.User == nil {
		t.Fatalf("incomplete session: %s", res.Body)
	}
	return &s
}

// authError asserts GoTrue's error shape, with both the 2024-01-01 fields
// and the legacy ones, and returns the body.
func authError(t *testing.T, res *testserver.Response, status int, code string) map[string]any {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
	}
	var e map[string]any
	if err := json.Unmarshal(res.Body, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", res.Body)
	}
	if e["code"] != code || e["error_code"] != code {
		t.Fatalf("code %v / error_code %v, want %s: %s", e["code"], e["error_code"], code, res.Body)
	}
	if m, _ := e["message"].(string); m == "" || e["msg"] != m {
		t.Fatalf("message/msg missing: %s", res.Body)
	}
	return e
}

// restError asserts PostgREST's error shape.
func restError(t *testing.T, res *testserver.Response, status int, code string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
	}
	var e map[string]any
	if err := json.Unmarshal(res.Body, &e); err != nil || (code != "" && e["code"] != code) {
		t.Fatalf("want code %s: %s", code, res.Body)
	}
}

// signingKey reads a project's active key the way the server does, with the
// test server's secret: tests use it to mint tokens the server would never
// issue (expired ones, tampered ones re-signed).
func signingKey(t *testing.T, ts *testserver.TS, ref string) *auth.SigningKey {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, ts.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	sealer, err := seal.New(ts.Cfg.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	k, err := auth.NewKeys(pool, sealer, 10, time.Minute).Signing(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// superQuery runs a query as superuser on the test database.
func superQuery[T any](t *testing.T, ts *testserver.TS, sql string, args ...any) T {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ts.DB.SuperURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v T
	if err := conn.QueryRow(ctx, sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// patchAuth changes a project's auth settings through the admin API.
func patchAuth(t *testing.T, ts *testserver.TS, ref string, auth map[string]any) {
	t.Helper()
	if res := ts.Admin(t, "PATCH", "/projects/"+ref+"/settings", map[string]any{"auth": auth}); res.Status != http.StatusOK {
		t.Fatalf("patch settings: %d %s", res.Status, res.Body)
	}
}
