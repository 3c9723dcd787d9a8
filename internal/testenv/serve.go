package testenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/platform/devdb"
)

// modulePath identifies the repository root among nested modules.
const modulePath = "github.com/plinth-dev/plinth"

// readyTimeout bounds how long StartServe waits for /readyz.
const readyTimeout = 60 * time.Second

type build struct {
	once sync.Once
	path string
	err  error
}

// BuildPlinth builds ./cmd/plinth once per test process (with -race when the
// tests are) and returns the binary's path.
func BuildPlinth(tb testing.TB) string {
	tb.Helper()
	return buildPackage(tb, "./cmd/plinth")
}

// buildPackage builds the main package pkg (relative to the module root)
// once per test process.
func buildPackage(tb testing.TB, pkg string) string {
	tb.Helper()
	h.buildMu.Lock()
	if h.builds == nil {
		h.builds = map[string]*build{}
	}
	b := h.builds[pkg]
	if b == nil {
		b = &build{}
		h.builds[pkg] = b
	}
	h.buildMu.Unlock()
	b.once.Do(func() { b.path, b.err = goBuild(pkg) })
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.path
}

func goBuild(pkg string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	work, err := workDir()
	if err != nil {
		return "", err
	}
	out := filepath.Join(work, "bin", strings.ReplaceAll(strings.Trim(pkg, "./"), "/", "_"), filepath.Base(pkg))
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, pkg)
	// `go test` puts its own GOROOT/bin first on PATH, so this is the same go.
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testenv: go %s (in %s): %w\n%s", strings.Join(args, " "), root, err, b)
	}
	return out, nil
}

// moduleRoot walks up from the working directory to the go.mod of this
// module (not a nested module's).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testenv: %w", err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && declaresModule(b, modulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("testenv: no go.mod of module %s above the working directory", modulePath)
		}
		dir = parent
	}
}

func declaresModule(gomod []byte, path string) bool {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module"); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`) == path
		}
	}
	return false
}

// Instance is a running `plinth serve`.
type Instance struct {
	URL  string // http://127.0.0.1:port
	Addr string // 127.0.0.1:port
	Cmd  *exec.Cmd

	logs    *lockedBuffer
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done
	killed  atomic.Bool
}

// StartServe runs `bin serve` with env over a minimal base (PATH, HOME) and
// PLINTH_LISTEN on a free port (unless env sets it), waits until /readyz
// answers 200, and stops it at cleanup. When the test failed, cleanup logs
// the server's output; a data race reported by the server fails the test.
func StartServe(tb testing.TB, bin string, env map[string]string) *Instance {
	tb.Helper()
	listen, fixed := env["PLINTH_LISTEN"]
	attempts := 5
	if fixed {
		attempts = 1
	}
	for attempt := 1; ; attempt++ {
		addr := listen
		if !fixed {
			port, err := devdb.FreePort()
			if err != nil {
				tb.Fatalf("testenv: %v", err)
			}
			addr = fmt.Sprintf("127.0.0.1:%d", port)
		}
		inst, err := startInstance(bin, addr, env)
		if err == nil {
			tb.Cleanup(func() { inst.cleanup(tb) })
			return inst
		}
		// The free port was taken before the server bound it: try another.
		if attempt < attempts && strings.Contains(strings.ToLower(inst.Logs()), "address already in use") {
			continue
		}
		tb.Fatal(err)
	}
}

func startInstance(bin, addr string, env map[string]string) (*Instance, error) {
	vars := map[string]string{}
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	for k, v := range env {
		vars[k] = v
	}
	vars["PLINTH_LISTEN"] = addr
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	cmd := exec.Command(bin, "serve")
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+vars[k])
	}
	inst := &Instance{
		URL:  "http://" + addr,
		Addr: addr,
		Cmd:  cmd,
		logs: &lockedBuffer{},
		done: make(chan struct{}),
	}
	cmd.Stdout, cmd.Stderr = inst.logs, inst.logs
	cmd.SysProcAttr = serveProcAttr()
	if err := cmd.Start(); err != nil {
		close(inst.done)
		return inst, fmt.Errorf("testenv: start %s serve: %w", bin, err)
	}
	go func() {
		inst.waitErr = cmd.Wait()
		close(inst.done)
	}()
	if err := inst.waitReady(); err != nil {
		_ = inst.Kill()
		return inst, fmt.Errorf("testenv: %s serve on %s: %w; output:\n%s", bin, addr, err, tail(inst.Logs(), 60))
	}
	return inst, nil
}

func (i *Instance) waitReady() error {
	// No keep-alive: idle polling connections would linger into shutdown.
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error // what the latest poll saw; every poll sets it
	for {
		resp, err := client.Get(i.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("GET /readyz: %s", resp.Status)
		} else {
			last = err
		}
		select {
		case <-i.done:
			return fmt.Errorf("exited before ready: %v", i.waitErr)
		case <-deadline.C:
			return fmt.Errorf("not ready after %v (last: %v)", readyTimeout, last)
		case <-tick.C:
		}
	}
}

// Stop sends SIGTERM and waits up to 30s for a graceful exit, then kills.
// It reports an unclean exit; after Kill it returns nil.
func (i *Instance) Stop() error {
	select {
	case <-i.done:
		return i.exitErr()
	default:
	}
	_ = i.Cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case <-i.done:
		return i.exitErr()
	case <-t.C:
	}
	_ = i.Kill()
	return errors.New("testenv: plinth serve did not exit within 30s of SIGTERM; killed")
}

// Kill kills the server at once (SIGKILL) and waits for it to be gone.
func (i *Instance) Kill() error {
	i.killed.Store(true)
	err := i.Cmd.Process.Kill()
	<-i.done
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// Done is closed when the server process has exited.
func (i *Instance) Done() <-chan struct{} { return i.done }

// Logs returns the server's stdout and stderr so far.
func (i *Instance) Logs() string { return i.logs.String() }

func (i *Instance) exitErr() error {
	if i.waitErr == nil || i.killed.Load() {
		return nil
	}
	return fmt.Errorf("testenv: plinth serve exited: %w", i.waitErr)
}

func (i *Instance) cleanup(tb testing.TB) {
	if err := i.Stop(); err != nil {
		tb.Errorf("%v\noutput:\n%s", err, tail(i.Logs(), 60))
	}
	logs := i.Logs()
	if j := strings.Index(logs, "WARNING: DATA RACE"); j >= 0 {
		tb.Errorf("testenv: plinth serve on %s reported a data race:\n%s", i.Addr, logs[j:])
	} else if tb.Failed() {
		tb.Logf("testenv: output of plinth serve on %s:\n%s", i.Addr, tail(logs, 200))
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lockedBuffer collects a child's output while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
