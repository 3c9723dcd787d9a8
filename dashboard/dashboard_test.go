package dashboard

import (
	"compress/gzip"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func testApp(t *testing.T) (*fiber.App, *Handler) {
	t.Helper()
	h, err := New("/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	h.Register(app)
	return app, h
}

func get(t *testing.T, app *fiber.App, path string, headers ...string) (int, map[string]string, string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		body = zr
	}
	b, _ := io.ReadAll(body)
	h := map[string]string{}
	for k := range res.Header {
		h[k] = res.Header.Get(k)
	}
	return res.StatusCode, h, string(b)
}

func TestServesAppWithSecurityHeaders(t *testing.T) {
	t.Parallel()
	app, h := testApp(t)

	if code, hdr, _ := get(t, app, "/dashboard"); code != 301 || hdr["Location"] != "/dashboard/" {
		t.Fatalf("/dashboard: %d %v", code, hdr)
	}
	code, hdr, body := get(t, app, "/dashboard/")
	if code != 200 || !strings.Contains(body, `<div id="app">`) || hdr["Cache-Control"] != "no-cache" {
		t.Fatalf("index: %d %v %.80s", code, hdr, body)
	}
	for k, v := range map[string]string{
		"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
	} {
		if hdr[k] != v {
			t.Errorf("%s = %q, want %q", k, hdr[k], v)
		}
	}
	csp := hdr["Content-Security-Policy"]
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	// The built index has no inline script the CSP would block.
	if strings.Contains(body, "<script>") || strings.Contains(body, "<script type=\"module\">") {
		t.Errorf("index.html has an inline script: %s", body)
	}

	// Deep links get the app (the client router shows the page).
	if code, _, b := get(t, app, "/dashboard/p/demo/sql"); code != 200 || b != body {
		t.Fatalf("deep link: %d", code)
	}
	// Missing files are 404, never the app as HTML.
	if code, _, _ := get(t, app, "/dashboard/assets/index-missing.js"); code != 404 {
		t.Fatalf("missing asset: %d", code)
	}

	// Hashed assets: long-lived cache, gzip when accepted, ETag revalidation.
	var js string
	for name := range h.files {
		if strings.HasPrefix(name, "assets/") && strings.HasSuffix(name, ".js") {
			js = name
		}
	}
	if js == "" {
		t.Fatal("no built script under dist/assets")
	}
	code, hdr, plain := get(t, app, "/dashboard/"+js)
	if code != 200 || hdr["Cache-Control"] != "public, max-age=31536000, immutable" || !strings.Contains(hdr["Content-Type"], "javascript") {
		t.Fatalf("asset: %d %v", code, hdr)
	}
	code, hdr, unzipped := get(t, app, "/dashboard/"+js, "Accept-Encoding", "br, gzip;q=0.8")
	if code != 200 || hdr["Content-Encoding"] != "gzip" || unzipped != plain {
		t.Fatalf("gzip asset: %d %v same=%v", code, hdr, unzipped == plain)
	}
	if _, hdr, _ := get(t, app, "/dashboard/"+js, "Accept-Encoding", "gzip;q=0"); hdr["Content-Encoding"] != "" {
		t.Fatalf("gzip;q=0 still compressed: %v", hdr)
	}
	if code, _, _ := get(t, app, "/dashboard/"+js, "If-None-Match", hdr["Etag"]); code != 304 {
		t.Fatalf("revalidation: %d", code)
	}
}
