package devdb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// RedisOptions configures StartRedis.
type RedisOptions struct {
	// Dir is the server's working directory; its log goes to Dir/redis.log.
	// Nothing is persisted (no RDB snapshots, no AOF).
	Dir string
	// Port to listen on at 127.0.0.1; 0 picks a free one.
	Port int
	// Logf, if set, receives progress messages.
	Logf func(format string, args ...any)
}

// Redis is a private redis-server. Its methods are safe for concurrent use.
type Redis struct {
	bin     string
	dir     string
	logPath string
	port    int
	logf    logger

	mu   sync.Mutex
	proc *process // nil when stopped
}

func findRedis() (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/bin/redis-server", "/usr/local/bin/redis-server", "/opt/homebrew/bin/redis-server"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("devdb: %w on PATH; install it (Debian/Ubuntu: apt-get install redis-server, macOS: brew install redis)", ErrNoRedis)
}

// StartRedis starts redis-server on 127.0.0.1 and returns once it answers.
// The caller must Stop it.
func StartRedis(ctx context.Context, opts RedisOptions) (*Redis, error) {
	if opts.Dir == "" {
		return nil, errors.New("devdb: RedisOptions.Dir is required")
	}
	bin, err := findRedis()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("devdb: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devdb: create %s: %w", dir, err)
	}
	r := &Redis{bin: bin, dir: dir, logPath: filepath.Join(dir, "redis.log"), logf: logger(opts.Logf)}
	r.mu.Lock()
	defer r.mu.Unlock()
	port, err := withAttempts(opts.Port, func(port int) error { return r.startLocked(ctx, port) })
	if err != nil {
		return nil, err
	}
	r.port = port
	return r, nil
}

// URL returns redis://127.0.0.1:PORT/0.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// Port returns the TCP port the server listens on at 127.0.0.1.
func (r *Redis) Port() int { return r.port }

// LogPath returns the server log file.
func (r *Redis) LogPath() string { return r.logPath }

// Start starts a stopped server again on the same port (empty: nothing is
// persisted). It is a no-op when the server is running.
func (r *Redis) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil && !r.proc.exited() {
		return nil
	}
	r.proc = nil
	return r.startLocked(ctx, r.port)
}

// Stop shuts the server down and waits; when ctx ends first it is killed.
func (r *Redis) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc == nil {
		return nil
	}
	proc := r.proc
	r.proc = nil
	if err := proc.stop(ctx, syscall.SIGTERM); err != nil {
		return fmt.Errorf("devdb: stop redis: %w", err)
	}
	return nil
}

func (r *Redis) startLocked(ctx context.Context, port int) error {
	log, err := openLog(r.logPath, fmt.Sprintf("starting redis-server on 127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("devdb: %w", err)
	}
	defer log.f.Close() // the child holds its own descriptor
	cmd := exec.Command(r.bin,
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--dir", r.dir,
	)
	cmd.Dir = r.dir
	cmd.Stdout, cmd.Stderr = log.f, log.f
	cmd.SysProcAttr = sysProcAttr(nil, syscall.SIGTERM)
	proc, err := startProcess(cmd)
	if err != nil {
		return fmt.Errorf("devdb: start redis-server: %w", err)
	}
	if err := waitRedis(ctx, proc, port); err != nil {
		if !proc.exited() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = proc.stop(stopCtx, syscall.SIGKILL)
			cancel()
		}
		if log.contains("Address already in use") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return startError(fmt.Sprintf("start redis-server on port %d", port), log, err)
	}
	r.proc = proc
	r.logf.printf("devdb: redis-server listening on 127.0.0.1:%d (log %s)", port, r.logPath)
	return nil
}

// waitRedis polls until the server on port answers and is this process (its
// INFO process_id), not another redis that owns the port.
func waitRedis(ctx context.Context, proc *process, port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// Abandon a probe as soon as the process exits: whoever else holds the
	// port may accept the connection and never answer.
	probeCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-proc.done:
			cancel()
		case <-probeCtx.Done():
		}
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if pid, err := redisPID(probeCtx, addr); err == nil && pid == proc.cmd.Process.Pid {
			return nil
		}
		select {
		case <-proc.done:
			return fmt.Errorf("redis-server exited: %w", exitErr(proc.err))
		case <-ctx.Done():
			return fmt.Errorf("waiting for redis-server: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// redisPID asks the server at addr for its process id over raw RESP, which
// keeps polling free of client-library retries and logging.
func redisPID(ctx context.Context, addr string) (int, error) {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(conn, "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"); err != nil {
		return 0, err
	}
	br := bufio.NewReader(conn)
	head, err := br.ReadString('\n')
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(head, "$") {
		return 0, fmt.Errorf("unexpected reply %q", strings.TrimSpace(head))
	}
	n, err := strconv.Atoi(strings.TrimSpace(head[1:]))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("unexpected reply %q", strings.TrimSpace(head))
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("no process_id in INFO server")
}
