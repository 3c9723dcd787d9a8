package dashboard_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/password"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestBrowser drives the embedded dashboard in Debian's Chromium through
// playwright-core (dashboard/e2e, run with node's test runner) against an
// in-process server. Screenshots of each flow go to dashboard/e2e/artifacts
// (or PLINTH_ARTIFACTS).
func TestBrowser(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; `make deps` installs what the browser tests need")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("%s is missing; `make deps` installs Debian's chromium", chromium)
	}
	dir, err := filepath.Abs("e2e")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Skip("npm is not installed")
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in dashboard/e2e: %v\n%s", err, out)
		}
	}

	ts := testserver.Start(t)
	// The platform admin the browser signs in as; the viewer's account is
	// made in the dashboard itself. Cheap hashing: the cost does not change
	// what the browser sees.
	h, err := password.Hash("admin-password", password.Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Srv.Store().CreateAdmin(context.Background(), "admin@example.com", h, true); err != nil {
		t.Fatal(err)
	}
	artifacts := os.Getenv("PLINTH_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(dir, "artifacts")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "dashboard.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"PLINTH_URL="+ts.URL,
		"PLINTH_ADMIN_TOKEN="+testserver.AdminToken,
		"PLINTH_ADMIN_EMAIL=admin@example.com", "PLINTH_ADMIN_PASSWORD=admin-password",
		"PLINTH_ARTIFACTS="+artifacts, "CHROMIUM="+chromium,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("browser tests failed: %v\n%s", err, out)
	}
	// Keep the per-flow summary (and any todo) visible in -v runs.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "✔") || strings.Contains(line, "TODO") || strings.HasPrefix(line, "ℹ") {
			t.Log(line)
		}
	}
}
