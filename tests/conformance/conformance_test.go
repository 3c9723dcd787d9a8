// Package conformance drives a live Plinth server with the real Supabase
// clients (@supabase/postgrest-js, supabase-js) and openapi-typescript,
// through node's built-in test runner. The node tests are the *.test.mjs
// files beside this one; fixture.sql is the schema and data they expect.
package conformance

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/internal/testserver"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// ensureModules installs the locked node packages when node_modules is
// missing (make deps does the same ahead of time).
func ensureModules(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("node_modules/@supabase/postgrest-js/package.json"); err == nil {
		return
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: the node conformance suite needs node >= 20 and npm (make deps installs them)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--prefer-offline")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm ci in tests/conformance: %v\n%s", err, out)
	}
}

var summary = regexp.MustCompile(`(?m)^ℹ (tests|pass|fail|todo|skipped|cancelled) (\d+)$`)

func TestSupabaseClients(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the node conformance suite needs node >= 20 and npm (make deps installs them)")
	}
	ensureModules(t)

	ts := testserver.Start(t)
	p := ts.CreateProject(t, "conformance")
	fixture, err := os.ReadFile("fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	ts.SQL(t, p.Ref, string(fixture))

	files, err := filepath.Glob("*.test.mjs")
	if err != nil || len(files) == 0 {
		t.Fatalf("no node test files: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"--test", "--test-reporter=spec"}, files...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = append(os.Environ(),
		"PLINTH_URL="+ts.URL,
		"PLINTH_REF="+p.Ref,
		"PLINTH_ANON_KEY="+p.AnonKey,
		"PLINTH_SERVICE_KEY="+p.ServiceKey,
		"PLINTH_ADMIN_TOKEN="+testserver.AdminToken,
		"NO_COLOR=1", "FORCE_COLOR=0",
	)
	out, runErr := cmd.CombinedOutput()
	t.Logf("node --test output:\n%s", out)
	counts := map[string]int{}
	for _, m := range summary.FindAllStringSubmatch(string(out), -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	if runErr != nil {
		t.Fatalf("node --test failed (%v): %d of %d tests failed", runErr, counts["fail"], counts["tests"])
	}
	if counts["pass"] == 0 {
		t.Fatalf("node ran no passing test (summary %v)", counts)
	}
	t.Logf("node: %d tests, %d passed, %d todo, %d skipped", counts["tests"], counts["pass"], counts["todo"], counts["skipped"])
}
