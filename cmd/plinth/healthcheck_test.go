package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestProbeURL(t *testing.T) {
	t.Parallel()
	for listen, want := range map[string]string{
		"0.0.0.0:8080":   "http://127.0.0.1:8080/healthz",
		":9000":          "http://127.0.0.1:9000/healthz",
		"[::]:8080":      "http://127.0.0.1:8080/healthz",
		"127.0.0.2:8080": "http://127.0.0.2:8080/healthz",
		"[::1]:8080":     "http://[::1]:8080/healthz",
	} {
		if got, err := probeURL(listen, "/healthz"); err != nil || got != want {
			t.Errorf("probeURL(%q) = %q, %v; want %q", listen, got, err, want)
		}
	}
	if _, err := probeURL("8080", "/healthz"); err == nil {
		t.Error("a listen address without a port was accepted")
	}
}

// The container HEALTHCHECK runs `plinth healthcheck`: it must pass only on a
// 200 from the probe path it was asked for.
func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	var ready atomic.Int32 // the handler runs on the server's goroutines
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte(`{"status":"ok"}`))
		case "/readyz":
			ready.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"unavailable"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())

	var out, errb bytes.Buffer
	// A wildcard listen address is probed on loopback, as inside a container.
	if code := run([]string{"healthcheck", "--listen", "0.0.0.0:" + port}, nil, &out, &errb); code != 0 {
		t.Fatalf("healthy server: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"ok"`) {
		t.Errorf("healthcheck printed %q", out.String())
	}

	errb.Reset()
	if code := run([]string{"healthcheck", "--ready", "--listen", "127.0.0.1:" + port}, nil, &out, &errb); code != 1 || ready.Load() != 1 {
		t.Fatalf("unready server: exit %d after %d /readyz calls: %s", code, ready.Load(), errb.String())
	}
	if !strings.Contains(errb.String(), "503") {
		t.Errorf("the failure does not say what the server answered: %s", errb.String())
	}

	// Nothing listening: a clear failure, quickly.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	errb.Reset()
	if code := run([]string{"healthcheck", "--listen", closed, "--timeout", "1s"}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "healthcheck") {
		t.Fatalf("no server: exit %d: %s", code, errb.String())
	}
}
