package plinth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// flaky answers status for the first n requests, then 200 [].
func flaky(t *testing.T, n int32, status int, retryAfter string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"code":"PL503","message":"busy","details":null,"hint":"later"}`))
			return
		}
		_, _ = w.Write([]byte(`[]`))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func noSleep(c *Client) *[]time.Duration {
	var waits []time.Duration
	c.t.sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return ctx.Err() }
	return &waits
}

func TestRetryIdempotentOn503HonoursRetryAfter(t *testing.T) {
	t.Parallel()
	srv, calls := flaky(t, 2, http.StatusServiceUnavailable, "2")
	c := New(srv.URL, "demo", "k")
	waits := noSleep(c)
	if _, err := c.From("t").Select("*").Execute(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d calls, want 3", calls.Load())
	}
	if len(*waits) != 2 || (*waits)[0] != 2*time.Second {
		t.Fatalf("waits %v, want two of 2s (Retry-After)", *waits)
	}
}

func TestRetryBoundedAndTyped(t *testing.T) {
	t.Parallel()
	srv, calls := flaky(t, 100, http.StatusTooManyRequests, "")
	c := New(srv.URL, "demo", "k")
	noSleep(c)
	_, err := c.From("t").Select("*").Execute(context.Background(), nil)
	var e *Error
	if !errors.As(err, &e) || e.Status != 429 || e.Code != "PL503" || e.Hint != "later" || e.Details != "" {
		t.Fatalf("err = %#v", err)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d calls, want 3 (DefaultRetry)", calls.Load())
	}
}

func TestNoRetryForWrites(t *testing.T) {
	t.Parallel()
	srv, calls := flaky(t, 1, http.StatusServiceUnavailable, "0")
	c := New(srv.URL, "demo", "k")
	noSleep(c)
	_, err := c.From("t").Insert(map[string]int{"a": 1}).Execute(context.Background(), nil)
	if StatusOf(err) != 503 || calls.Load() != 1 {
		t.Fatalf("POST: err %v after %d calls; want one call and the 503", err, calls.Load())
	}
	srv2, calls2 := flaky(t, 1, http.StatusServiceUnavailable, "0")
	c2 := New(srv2.URL, "demo", "k")
	noSleep(c2)
	if _, err := c2.From("t").Update(map[string]int{"a": 1}).Eq("id", 1).Execute(context.Background(), nil); StatusOf(err) != 503 || calls2.Load() != 1 {
		t.Fatalf("PATCH retried: %v, %d calls", err, calls2.Load())
	}
}

func TestRetryAfterTooLongIsNotWaited(t *testing.T) {
	t.Parallel()
	srv, calls := flaky(t, 1, http.StatusServiceUnavailable, "3600")
	c := New(srv.URL, "demo", "k")
	waits := noSleep(c)
	if _, err := c.From("t").Select("*").Execute(context.Background(), nil); StatusOf(err) != 503 {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 1 || len(*waits) != 0 {
		t.Fatalf("%d calls, waits %v", calls.Load(), *waits)
	}
}

func TestNoRetryOn4xx(t *testing.T) {
	t.Parallel()
	srv, calls := flaky(t, 1, http.StatusBadRequest, "")
	c := New(srv.URL, "demo", "k")
	noSleep(c)
	if _, err := c.From("t").Select("*").Execute(context.Background(), nil); StatusOf(err) != 400 || calls.Load() != 1 {
		t.Fatalf("err %v, %d calls", err, calls.Load())
	}
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{"0": 0, "7": 7 * time.Second, "Wed, 01 Jan 2025 00:00:05 GMT": 5 * time.Second, "Tue, 31 Dec 2024 00:00:00 GMT": 0} {
		if got, ok := retryAfter(in, now); !ok || got != want {
			t.Errorf("retryAfter(%q) = %v %v, want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "soon", "-1"} {
		if _, ok := retryAfter(bad, now); ok {
			t.Errorf("retryAfter(%q) accepted", bad)
		}
	}
}

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	e := parseError(422, []byte(`{"code":422,"error_code":"user_already_exists","msg":"User already registered"}`))
	if e.Code != "user_already_exists" || e.Message != "User already registered" {
		t.Errorf("GoTrue shape: %#v", e)
	}
	e = parseError(409, []byte(`{"code":"23505","message":"duplicate key","details":"Key (id)=(1) already exists.","hint":null}`))
	if e.Code != "23505" || e.Details != "Key (id)=(1) already exists." || e.Hint != "" {
		t.Errorf("PostgREST shape: %#v", e)
	}
	if got := e.Error(); got != "plinth: 409 23505: duplicate key (Key (id)=(1) already exists.)" {
		t.Errorf("Error() = %q", got)
	}
	e = parseError(502, []byte("<html>bad gateway</html>"))
	if e.Message != "<html>bad gateway</html>" || e.Code != "" {
		t.Errorf("non-JSON: %#v", e)
	}
	if CodeOf(context.Canceled) != "" || StatusOf(nil) != 0 {
		t.Error("non-API errors must have no code or status")
	}
}

func TestMaybeSingleAndCount(t *testing.T) {
	t.Parallel()
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Range", "0-1/42")
		_, _ = w.Write([]byte(body.Load().(string)))
	}))
	defer srv.Close()
	c := New(srv.URL, "demo", "k")
	ctx := context.Background()

	body.Store(`[{"id":1},{"id":2}]`)
	var one struct{ ID int }
	_, err := c.From("t").Select("*").MaybeSingle().Execute(ctx, &one)
	if StatusOf(err) != 406 || CodeOf(err) != "PGRST116" {
		t.Fatalf("two rows: %v", err)
	}
	body.Store(`[{"id":7}]`)
	if _, err := c.From("t").Select("*").MaybeSingle().Execute(ctx, &one); err != nil || one.ID != 7 {
		t.Fatalf("one row: %v %+v", err, one)
	}
	body.Store(`[]`)
	var none *struct{ ID int }
	if _, err := c.From("t").Select("*").MaybeSingle().Execute(ctx, &none); err != nil || none != nil {
		t.Fatalf("no row: %v %+v", err, none)
	}
	res, err := c.From("t").Select("*", WithCount(CountExact)).Execute(ctx, nil)
	if err != nil || res.Count != 42 {
		t.Fatalf("count: %v %+v", err, res)
	}
	res, _ = c.From("t").Select("*").Execute(ctx, nil)
	if res.Count != -1 {
		t.Fatalf("count without WithCount = %d", res.Count)
	}
}

func TestAuthTokenUsedOnLaterRequests(t *testing.T) {
	t.Parallel()
	var seen atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Get("Authorization") + "|" + r.Header.Get("apikey"))
		_, _ = w.Write([]byte(`[]`))
	}))
	defer srv.Close()
	c := New(srv.URL, "demo", "anon-key")
	var events []AuthEvent
	unsub := c.Auth().OnAuthStateChange(func(e AuthEvent, _ *Session) { events = append(events, e) })
	ctx := context.Background()
	_, _ = c.From("t").Select("*").Execute(ctx, nil)
	if got := seen.Load(); got != "Bearer anon-key|anon-key" {
		t.Fatalf("anonymous request sent %v", got)
	}
	c.Auth().SetSession(&Session{AccessToken: "user-jwt", ExpiresIn: 60})
	_, _ = c.From("t").Select("*").Execute(ctx, nil)
	if got := seen.Load(); got != "Bearer user-jwt|anon-key" {
		t.Fatalf("signed-in request sent %v", got)
	}
	if s := c.Auth().Session(); s.ExpiresAt == 0 {
		t.Fatal("ExpiresAt not derived from ExpiresIn")
	}
	unsub()
	c.Auth().SetSession(nil)
	if len(events) != 1 || events[0] != SignedIn {
		t.Fatalf("events %v", events)
	}
}
