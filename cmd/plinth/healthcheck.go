package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// cmdHealthcheck asks the server on PLINTH_LISTEN for /healthz (or /readyz
// with --ready) and fails unless it answers 200. Container images without a
// shell or curl (distroless, scratch) use it as their HEALTHCHECK, so it needs
// nothing but this binary and the same environment as `plinth serve`.
func cmdHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var ready bool
	var timeout time.Duration
	cfg, _, err := loadConfig("healthcheck", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&ready, "ready", false, "probe /readyz (Postgres and Redis reachable) instead of /healthz")
		fs.DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	})
	if err != nil {
		return err
	}
	path := "/healthz"
	if ready {
		path = "/readyz"
	}
	u, err := probeURL(cfg.Listen, path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: %s %s", u, resp.Status, body)
	}
	fmt.Fprintf(stdout, "%s\n", body)
	return nil
}

// probeURL turns a listen address into one this process can dial: a wildcard
// host (":8080", "0.0.0.0:8080", "[::]:8080") means loopback.
func probeURL(listen, path string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("PLINTH_LISTEN: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}
