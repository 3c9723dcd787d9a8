package plinth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy bounds automatic retries. Only idempotent methods (GET, HEAD,
// PUT, DELETE, OPTIONS) are retried, and only after a transport error or a
// 503/429 answer; Retry-After is honoured when the server sends it.
type RetryPolicy struct {
	MaxAttempts int           // total tries including the first; 1 disables retries
	BaseDelay   time.Duration // first backoff when the server gives no Retry-After
	MaxDelay    time.Duration // a longer Retry-After is not waited for: the error is returned
}

// DefaultRetry is three tries, 200ms then 400ms backoff, at most 10s waits.
func DefaultRetry() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, BaseDelay: 200 * time.Millisecond, MaxDelay: 10 * time.Second}
}

// transport sends requests with headers and the retry policy.
type transport struct {
	hc    *http.Client
	retry RetryPolicy
	// now and sleep are swapped in tests.
	sleep func(ctx context.Context, d time.Duration) error
}

func newTransport(hc *http.Client, rp RetryPolicy) *transport {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	if rp.MaxAttempts < 1 {
		rp.MaxAttempts = 1
	}
	return &transport{hc: hc, retry: rp, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// idempotent reports whether a method may be sent twice safely.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// rawResponse is a finished exchange with its body read.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends method url with header and body, retrying where safe. A non-2xx
// answer is returned as an *Error (with the response still available).
func (t *transport) do(ctx context.Context, method, url string, header http.Header, body []byte) (*rawResponse, error) {
	var lastErr error
	for attempt := 1; ; attempt++ {
		res, err := t.once(ctx, method, url, header, body, attempt)
		if err == nil && res.Status < 400 {
			return res, nil
		}
		if err == nil {
			lastErr = parseError(res.Status, res.Body)
		} else {
			lastErr = err
		}
		if ctx.Err() != nil || attempt >= t.retry.MaxAttempts || !idempotent(method) {
			return res, lastErr
		}
		var wait time.Duration
		switch {
		case err != nil:
			wait = t.backoff(attempt)
		case res.Status == http.StatusServiceUnavailable || res.Status == http.StatusTooManyRequests:
			var ok bool
			if wait, ok = retryAfter(res.Header.Get("Retry-After"), time.Now()); !ok {
				wait = t.backoff(attempt)
			}
		default:
			return res, lastErr
		}
		if t.retry.MaxDelay > 0 && wait > t.retry.MaxDelay {
			return res, lastErr
		}
		if err := t.sleep(ctx, wait); err != nil {
			return res, lastErr
		}
	}
}

func (t *transport) once(ctx context.Context, method, url string, header http.Header, body []byte, attempt int) (*rawResponse, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if attempt > 1 {
		req.Header.Set("X-Retry-Count", strconv.Itoa(attempt-1))
	}
	res, err := t.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &rawResponse{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}

func (t *transport) backoff(attempt int) time.Duration {
	d := t.retry.BaseDelay << (attempt - 1)
	if d <= 0 {
		d = 100 * time.Millisecond
	}
	// Jitter spreads clients that failed together.
	return d/2 + rand.N(d/2+1)
}

// retryAfter parses Retry-After: whole seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// ErrNoSession is returned by auth calls that need a signed-in user when there is none.
var ErrNoSession = errors.New("plinth: no session (sign in first)")
