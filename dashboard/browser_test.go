package dashboard_test

import (
	"context"
	"os"
	"path/filepath"
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

	testenv.NodeTest{
		Dir: dir, Files: []string{"dashboard.test.mjs"}, Module: "playwright-core", Timeout: 4 * time.Minute,
		Env: []string{
			"PLINTH_URL=" + ts.URL,
			"PLINTH_ADMIN_TOKEN=" + testserver.AdminToken,
			"PLINTH_ADMIN_EMAIL=admin@example.com", "PLINTH_ADMIN_PASSWORD=admin-password",
			"PLINTH_ARTIFACTS=" + artifacts, "CHROMIUM=" + chromium,
		},
	}.Run(t)
}
