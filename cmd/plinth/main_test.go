package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/platform/devdb"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func TestHelpExplainsEveryVariable(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"serve", "--help"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, v := range []string{"PLINTH_DATABASE_URL", "PLINTH_REDIS_URL", "PLINTH_LISTEN", "PLINTH_ADMIN_TOKEN", "PLINTH_ADMIN_EMAIL",
		"PLINTH_ADMIN_PASSWORD", "PLINTH_SECRET_KEY", "PLINTH_BASE_DOMAIN", "PLINTH_LOG_FORMAT", "PLINTH_PUBLIC_URL",
		"PLINTH_TENANT_PREFIX", "PLINTH_RATE_LIMIT_FAIL", "PLINTH_TRUSTED_PROXIES", "PLINTH_MAX_ROWS",
		"PLINTH_TENANT_POOL_MAX", "PLINTH_TOTAL_CONNS_MAX", "-database-url", "-tenant-pool-max"} {
		if !strings.Contains(errb.String(), v) {
			t.Errorf("serve --help does not mention %s", v)
		}
	}
	out.Reset()
	if code := run([]string{"--help"}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "migrate up|status") {
		t.Fatalf("top-level help: %d %s", code, out.String())
	}
	if code := run([]string{"bogus"}, nil, &out, &errb); code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
	t.Setenv("PLINTH_LISTEN", "not-an-address")
	if code := run([]string{"serve"}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "PLINTH_LISTEN") {
		t.Fatalf("bad env accepted: %d %s", code, errb.String())
	}
}

// Two instances started at the same moment on an empty database both come
// up: the platform migrations serialise on an advisory lock.
func TestConcurrentStartOnEmptyDatabase(t *testing.T) {
	bin := testenv.BuildPlinth(t)
	db := testenv.NewDatabase(t)
	env := map[string]string{
		"PLINTH_DATABASE_URL": db.URL, "PLINTH_TENANT_PREFIX": db.Prefix,
		"PLINTH_SECRET_KEY": "concurrent-start-secret-0123456789", "PLINTH_ADMIN_TOKEN": "tok-0123456789",
	}
	urls := make(chan string, 3)
	t.Run("start", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				inst := testenv.StartServe(t, bin, env)
				req, _ := http.NewRequest("GET", inst.URL+"/admin/v1/projects", nil)
				req.Header.Set("Authorization", "Bearer tok-0123456789")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Fatalf("instance %d: %d", i, res.StatusCode)
				}
				urls <- inst.URL
			})
		}
	})
	if len(urls) != 3 {
		t.Fatalf("%d of 3 instances came up", len(urls))
	}
}

// `plinth dev` with no database brings up a private Postgres, seeds the demo
// project, and the curl example it prints returns the demo rows.
func TestDevPrintsWorkingExample(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private Postgres")
	}
	if _, err := devdb.FindPostgresBinaries(); err != nil {
		t.Skip(err)
	}
	bin := testenv.BuildPlinth(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	port, err := devdb.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	example := runDevOnce(t, bin, dir, port)
	// A rerun reuses .plinth/ and prints the same keys.
	if again := runDevOnce(t, bin, dir, port); again != example {
		t.Fatalf("rerun printed a different example:\n%s\n%s", example, again)
	}
}

var curlLine = regexp.MustCompile(`curl '([^']+)' -H 'apikey: ([^']+)'`)

func runDevOnce(t *testing.T, bin, dir string, port int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "dev")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, fmt.Sprintf("PLINTH_LISTEN=127.0.0.1:%d", port)}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var m []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m = curlLine.FindStringSubmatch(sc.Text()); m != nil {
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	if m == nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("no curl example printed; stderr:\n%s", stderr.String())
	}
	req, _ := http.NewRequest("GET", m[1], nil)
	req.Header.Set("apikey", m[2])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "Read the Plinth README") {
		t.Fatalf("example returned %d %s", res.StatusCode, body)
	}
	// Ctrl-C stops the server and its Postgres cleanly.
	_ = cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("dev exited with %v; stderr:\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), m[2]) {
		t.Fatal("the service key was logged")
	}
	return m[0]
}
