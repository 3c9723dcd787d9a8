// Package devdb runs private Postgres and Redis servers from the system's
// binaries. `plinth dev` uses it for a zero-setup local stack and the test
// harness (internal/testenv) uses it for throwaway per-process servers.
//
// Servers are started as direct children (not daemonized) in their own
// process group, so a Ctrl-C in the terminal does not reach them before the
// caller shuts them down gracefully; on Linux they are also told to shut down
// when their parent dies, so a crashed or killed caller does not leave them
// running.
package devdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ErrNoPostgres reports that no PostgreSQL server binaries were found.
var ErrNoPostgres = errors.New("PostgreSQL server binaries (initdb, postgres) not found")

// ErrNoRedis reports that no redis-server binary was found.
var ErrNoRedis = errors.New("redis-server not found")

// errPortInUse marks a start that failed only because the port was taken,
// which is worth retrying on another port when the caller let us pick one.
var errPortInUse = errors.New("port already in use")

// startAttempts bounds retries of a start whose freshly chosen port was
// grabbed by someone else between FreePort and the server's bind.
const startAttempts = 5

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before it is used; starters retry on that.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("devdb: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// account is the unprivileged user a server runs as when we are root.
type account struct {
	name     string
	uid, gid int
}

// process is a started child together with its exit status.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done is closed
}

func startProcess(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal ignores "already finished": the caller waits on done anyway.
func (p *process) signal(sig os.Signal) {
	_ = p.cmd.Process.Signal(sig)
}

// waitFor waits up to d for the process to exit and reports whether it did.
func (p *process) waitFor(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	}
}

// stop sends sig and waits for exit until ctx ends; then it escalates through
// the given signals, giving each a few seconds, and finally SIGKILL.
func (p *process) stop(ctx context.Context, sig os.Signal, escalate ...os.Signal) error {
	p.signal(sig)
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		if p.exited() {
			return nil
		}
	}
	for _, s := range escalate {
		p.signal(s)
		if p.waitFor(10 * time.Second) {
			return fmt.Errorf("did not stop in time, forced with %v: %w", s, ctx.Err())
		}
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("did not stop in time, killed: %w", ctx.Err())
}

// logFile is a server's append-only log; offset marks where the current run
// began so failure messages show this run's lines only.
type logFile struct {
	path   string
	f      *os.File
	offset int64
}

func openLog(path, banner string) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat log: %w", err)
	}
	fmt.Fprintf(f, "--- devdb %s: %s\n", time.Now().Format(time.RFC3339), banner)
	return &logFile{path: path, f: f, offset: fi.Size()}, nil
}

// tail returns up to the last 40 lines written since the log was opened.
func (l *logFile) tail() string {
	f, err := os.Open(l.path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const maxBytes = 16 << 10
	start := l.offset
	if fi, err := f.Stat(); err == nil && fi.Size()-start > maxBytes {
		start = fi.Size() - maxBytes
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

func (l *logFile) contains(substrs ...string) bool {
	t := strings.ToLower(l.tail())
	for _, s := range substrs {
		if strings.Contains(t, strings.ToLower(s)) {
			return true
		}
	}
	return false
}

// startError describes a failed start with the server's own words.
func startError(what string, l *logFile, err error) error {
	tail := l.tail()
	if tail == "" {
		return fmt.Errorf("devdb: %s: %w (log %s is empty)", what, err, l.path)
	}
	return fmt.Errorf("devdb: %s: %w; last lines of %s:\n%s", what, err, l.path, tail)
}

// childEnv is the environment minus variables that would redirect libpq-style
// tools (PGDATA, PGPORT, PGHOST, ...) away from the cluster we manage.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// withAttempts runs start with a fresh free port until it does not fail with
// errPortInUse; a fixed port is tried once.
func withAttempts(fixed int, start func(port int) error) (int, error) {
	attempts := startAttempts
	if fixed != 0 {
		attempts = 1
	}
	var err error
	for range attempts {
		port := fixed
		if port == 0 {
			if port, err = FreePort(); err != nil {
				return 0, err
			}
		}
		if err = start(port); err == nil {
			return port, nil
		}
		if !errors.Is(err, errPortInUse) {
			return 0, err
		}
	}
	return 0, err
}

// logger adapts an optional Logf.
type logger func(format string, args ...any)

func (l logger) printf(format string, args ...any) {
	if l != nil {
		l(format, args...)
	}
}
