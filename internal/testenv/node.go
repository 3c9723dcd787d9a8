package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NodeTest is a suite for node's built-in test runner in a directory with
// its own locked npm packages (the Supabase-client and browser suites).
type NodeTest struct {
	Dir     string        // holds package.json, package-lock.json and the files
	Files   []string      // test files, relative to Dir
	Module  string        // a package the suite needs, looked for in Dir/node_modules
	Env     []string      // added to the environment
	Timeout time.Duration // for install and run each; default 5 minutes
}

var nodeSummary = regexp.MustCompile(`(?m)^ℹ (tests|pass|fail|todo|skipped|cancelled) (\d+)$`)

// Run skips when node is not installed, installs the locked packages with
// npm ci when Module is missing (scripts/deps.sh does it ahead of time),
// runs the files and fails unless they pass with at least one test. The
// summary and each test's line go to the test log.
func (n NodeTest) Run(t testing.TB) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (make deps installs node >= 20 and npm)")
	}
	if n.Timeout == 0 {
		n.Timeout = 5 * time.Minute
	}
	if _, err := os.Stat(filepath.Join(n.Dir, "node_modules", n.Module, "package.json")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Skipf("%s is not installed in %s and npm is missing (make deps installs both)", n.Module, n.Dir)
		}
		ctx, cancel := context.WithTimeout(context.Background(), n.Timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--prefer-offline")
		cmd.Dir = n.Dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", n.Dir, err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"--test", "--test-reporter=spec"}, n.Files...)...)
	cmd.Dir = n.Dir
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1", "FORCE_COLOR=0"), n.Env...)
	out, runErr := cmd.CombinedOutput()
	counts := map[string]int{}
	for _, m := range nodeSummary.FindAllStringSubmatch(string(out), -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	if runErr != nil {
		t.Fatalf("node --test in %s failed (%v): %d of %d tests failed\n%s", n.Dir, runErr, counts["fail"], counts["tests"], out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "✔") || strings.Contains(line, "TODO") || strings.HasPrefix(line, "ℹ") {
			t.Log(line)
		}
	}
	if counts["pass"] == 0 {
		t.Fatalf("node ran no passing test in %s (summary %v)\n%s", n.Dir, counts, out)
	}
}
