package fasthdr

import (
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestSet(t *testing.T) {
	var r fasthttp.Response
	Set(&r.Header, "Content-Range", "0-9/*")
	if Canonical("RateLimit-Policy") != "Ratelimit-Policy" || Canonical("x-request-id") != "X-Request-Id" {
		t.Fatalf("canonical forms: %q %q", Canonical("RateLimit-Policy"), Canonical("x-request-id"))
	}
	Set(&r.Header, Canonical("RateLimit-Policy"), `"anon";q=100;w=1`)
	SetBytes(&r.Header, Canonical("RateLimit"), []byte(`"anon";r=99;t=1`))
	Set(&r.Header, "Content-Type", "application/json; charset=utf-8")
	Set(&r.Header, "Content-Range", "0-0/*") // replaces
	if got := string(r.Header.ContentType()); got != "application/json; charset=utf-8" {
		t.Errorf("content type %q", got)
	}
	raw := r.Header.String()
	for _, want := range []string{"Content-Range: 0-0/*\r\n", `Ratelimit-Policy: "anon";q=100;w=1` + "\r\n", `Ratelimit: "anon";r=99;t=1` + "\r\n"} {
		if !strings.Contains(raw, want) {
			t.Errorf("missing %q in\n%s", want, raw)
		}
	}
	if strings.Count(raw, "Content-Range") != 1 {
		t.Errorf("Content-Range set twice:\n%s", raw)
	}
	// Case-insensitive reads still find them.
	if string(r.Header.Peek("ratelimit-policy")) != `"anon";q=100;w=1` {
		t.Errorf("peek by another case: %q", r.Header.Peek("ratelimit-policy"))
	}
}
