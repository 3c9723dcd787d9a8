package devdb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// PostgresOptions configures StartPostgres.
type PostgresOptions struct {
	// Dir holds the cluster: data in Dir/data (initdb runs only when
	// Dir/data/PG_VERSION is absent, so reruns reuse it) and the server log
	// in Dir/postgres.log.
	Dir string
	// Port to listen on at 127.0.0.1; 0 picks a free one.
	Port int
	// Fast trades durability for speed (fsync, full_page_writes and
	// synchronous_commit off): for throwaway test clusters, not for dev data.
	Fast bool
	// Logf, if set, receives progress messages.
	Logf func(format string, args ...any)
}

// Postgres is a private cluster run from the system's binaries. Its methods
// are safe for concurrent use.
type Postgres struct {
	binDir  string
	dir     string
	dataDir string
	logPath string
	port    int
	fast    bool
	acct    *account // nil: run as ourselves
	logf    logger

	mu      sync.Mutex
	proc    *process // nil when stopped
	sockDir string   // unix socket dir of the running server
	tmpSock bool     // sockDir is a temp dir to remove after stop
}

// maxSocketDir keeps Dir/.s.PGSQL.NNNNN within the ~107-byte sun_path limit.
const maxSocketDir = 90

// FindPostgresBinaries returns the directory holding initdb and postgres:
// the one of initdb or pg_ctl found on PATH (symlinks resolved, as Debian
// links them from elsewhere), else the newest /usr/lib/postgresql/*/bin.
func FindPostgresBinaries() (string, error) {
	for _, name := range []string{"initdb", "pg_ctl"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if dir := filepath.Dir(p); hasServerBinaries(dir) {
			return dir, nil
		}
	}
	var dirs []string
	for _, pattern := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"} {
		m, _ := filepath.Glob(pattern)
		dirs = append(dirs, m...)
	}
	dirs = slices.DeleteFunc(dirs, func(d string) bool { return !hasServerBinaries(d) })
	if len(dirs) == 0 {
		return "", fmt.Errorf("devdb: %w on PATH or under /usr/lib/postgresql/*/bin; install them (Debian/Ubuntu: apt-get install postgresql, Fedora: dnf install postgresql-server, macOS: brew install postgresql)", ErrNoPostgres)
	}
	slices.SortFunc(dirs, func(a, b string) int { return cmp.Compare(dirVersion(b), dirVersion(a)) })
	return dirs[0], nil
}

func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// dirVersion extracts the major version from /usr/lib/postgresql/15/bin or
// /usr/pgsql-15/bin; unknown layouts sort last.
func dirVersion(binDir string) int {
	base := filepath.Base(filepath.Dir(binDir))
	base = strings.TrimPrefix(base, "pgsql-")
	v, err := strconv.Atoi(strings.SplitN(base, ".", 2)[0])
	if err != nil {
		return -1
	}
	return v
}

// binaryMajor asks postgres for its major version ("15" from
// "postgres (PostgreSQL) 15.13 (Debian ...)"); -V works even as root.
func binaryMajor(ctx context.Context, binDir string) (string, error) {
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "postgres"), "-V").Output()
	if err != nil {
		return "", fmt.Errorf("devdb: %s -V: %w", filepath.Join(binDir, "postgres"), err)
	}
	_, v, ok := strings.Cut(string(out), "(PostgreSQL) ")
	if !ok {
		return "", fmt.Errorf("devdb: unexpected postgres -V output %q", out)
	}
	v = strings.Fields(v)[0]
	major, _, _ := strings.Cut(v, ".")
	return major, nil
}

// StartPostgres initializes the cluster in opts.Dir if needed, starts it on
// 127.0.0.1 and returns once it accepts connections. The caller must Stop it.
func StartPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	if opts.Dir == "" {
		return nil, errors.New("devdb: PostgresOptions.Dir is required")
	}
	binDir, err := FindPostgresBinaries()
	if err != nil {
		return nil, err
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, fmt.Errorf("devdb: %w", err)
	}
	dir, err := prepareDir(opts.Dir, acct, logger(opts.Logf))
	if err != nil {
		return nil, err
	}
	p := &Postgres{
		binDir:  binDir,
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		logPath: filepath.Join(dir, "postgres.log"),
		fast:    opts.Fast,
		acct:    acct,
		logf:    logger(opts.Logf),
	}
	if err := p.initdb(ctx); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	port, err := withAttempts(opts.Port, func(port int) error { return p.startLocked(ctx, port) })
	if err != nil {
		return nil, err
	}
	p.port = port
	return p, nil
}

// prepareDir creates dir, resolves it to an absolute real path and, when the
// server runs as another user, hands it over and opens the way to it.
func prepareDir(dir string, acct *account, logf logger) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("devdb: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", fmt.Errorf("devdb: create %s: %w", abs, err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return "", fmt.Errorf("devdb: %w", err)
	}
	if acct != nil {
		if err := os.Chown(abs, acct.uid, acct.gid); err != nil {
			return "", fmt.Errorf("devdb: give %s to %s: %w", abs, acct.name, err)
		}
		if err := makeTraversable(acct, abs, logf); err != nil {
			return "", fmt.Errorf("devdb: %w", err)
		}
	}
	return abs, nil
}

// initdb creates the cluster once; an existing one is checked for owner and
// version so a rerun fails clearly instead of with a cryptic server error.
func (p *Postgres) initdb(ctx context.Context) error {
	versionFile := filepath.Join(p.dataDir, "PG_VERSION")
	existing, err := os.ReadFile(versionFile)
	if err == nil {
		return p.checkExisting(ctx, strings.TrimSpace(string(existing)))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("devdb: %w", err)
	}
	p.logf.printf("devdb: initializing Postgres cluster in %s", p.dataDir)
	// Leftovers of an interrupted initdb (or a data dir made by hand) must
	// belong to the server's user too.
	if err := giveTo(p.acct, p.dir); err != nil {
		return fmt.Errorf("devdb: give %s to %s: %w", p.dir, p.acct.name, err)
	}
	args := []string{"-D", p.dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"}
	if p.fast {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, filepath.Join(p.binDir, "initdb"), args...)
	cmd.Dir = p.dir
	cmd.Env = childEnv()
	cmd.SysProcAttr = sysProcAttr(p.acct, 0)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("devdb: initdb %s: %w\n%s", p.dataDir, err, strings.TrimSpace(string(out)))
	}
	// The superuser keeps trust (tools and tests connect as postgres without
	// a password); every other role signs in with its password, as in
	// production, so a wrong tenant or control password fails here too.
	hba := "local all all trust\n" +
		"host all postgres 127.0.0.1/32 trust\n" +
		"host all all 127.0.0.1/32 scram-sha-256\n"
	if err := os.WriteFile(filepath.Join(p.dataDir, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		return fmt.Errorf("devdb: %w", err)
	}
	return giveTo(p.acct, filepath.Join(p.dataDir, "pg_hba.conf"))
}

func (p *Postgres) checkExisting(ctx context.Context, dataMajor string) error {
	binMajor, err := binaryMajor(ctx, p.binDir)
	if err != nil {
		return err
	}
	if binMajor != dataMajor {
		// A system upgrade may have added a newer version beside the old one.
		alt := filepath.Join("/usr/lib/postgresql", dataMajor, "bin")
		if !hasServerBinaries(alt) {
			return fmt.Errorf("devdb: %s was created by PostgreSQL %s but the binaries in %s are PostgreSQL %s; install PostgreSQL %s or remove the directory to start afresh", p.dataDir, dataMajor, p.binDir, binMajor, dataMajor)
		}
		p.binDir = alt
	}
	if p.acct == nil {
		return nil
	}
	if mine, err := ownedBy(p.acct, p.dataDir); err != nil {
		return fmt.Errorf("devdb: %w", err)
	} else if !mine {
		if err := giveTo(p.acct, p.dataDir); err != nil {
			return fmt.Errorf("devdb: give %s to %s: %w", p.dataDir, p.acct.name, err)
		}
	}
	return nil
}

// Port returns the TCP port the cluster listens on at 127.0.0.1.
func (p *Postgres) Port() int { return p.port }

// Dir returns the cluster's directory (absolute).
func (p *Postgres) Dir() string { return p.dir }

// LogPath returns the server log file.
func (p *Postgres) LogPath() string { return p.logPath }

// URL returns a superuser (postgres, trust auth) URL for database.
func (p *Postgres) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, url.PathEscape(database))
}

// Start starts a stopped cluster again on the same port. It is a no-op when
// the cluster is running.
func (p *Postgres) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil && !p.proc.exited() {
		return nil
	}
	p.cleanupLocked()
	return p.startLocked(ctx, p.port)
}

// Stop shuts the cluster down cleanly ("fast" mode: disconnect clients,
// checkpoint) and waits; when ctx ends first it is shut down immediately.
func (p *Postgres) Stop(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return nil
	}
	err := p.proc.stop(ctx, syscall.SIGINT, syscall.SIGQUIT)
	exitErr := p.exitErrLocked()
	p.cleanupLocked()
	if err != nil {
		return fmt.Errorf("devdb: stop postgres: %w", err)
	}
	return exitErr
}

// Kill stops the cluster abruptly, like a crash ("immediate" mode: no
// checkpoint; the next Start runs crash recovery).
func (p *Postgres) Kill() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := p.proc.stop(ctx, syscall.SIGQUIT)
	p.cleanupLocked()
	if err != nil {
		return fmt.Errorf("devdb: kill postgres: %w", err)
	}
	return nil
}

// exitErrLocked reports an unclean exit of a server that was stopped cleanly
// or had already died.
func (p *Postgres) exitErrLocked() error {
	if p.proc == nil || !p.proc.exited() || p.proc.err == nil {
		return nil
	}
	return fmt.Errorf("devdb: postgres exited: %w (see %s)", p.proc.err, p.logPath)
}

func (p *Postgres) cleanupLocked() {
	p.proc = nil
	if p.tmpSock && p.sockDir != "" {
		_ = os.RemoveAll(p.sockDir)
	}
	p.sockDir, p.tmpSock = "", false
}

// socketDir picks Dir/sock, or a short temp dir when that path is too long
// for a unix socket or is awkward to pass in a setting.
func (p *Postgres) socketDir() (dir string, temp bool, err error) {
	dir = filepath.Join(p.dir, "sock")
	if len(dir) > maxSocketDir || strings.ContainsAny(dir, `, "'\`) {
		base := os.TempDir()
		if len(base) > maxSocketDir-20 {
			base = "/tmp"
		}
		if dir, err = os.MkdirTemp(base, "pgsock-"); err != nil {
			return "", false, fmt.Errorf("devdb: socket dir: %w", err)
		}
		temp = true
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, fmt.Errorf("devdb: socket dir: %w", err)
	}
	if p.acct != nil {
		if err := os.Chown(dir, p.acct.uid, p.acct.gid); err != nil {
			return "", false, fmt.Errorf("devdb: give %s to %s: %w", dir, p.acct.name, err)
		}
	}
	return dir, temp, nil
}

func (p *Postgres) startLocked(ctx context.Context, port int) (err error) {
	sockDir, tmpSock, err := p.socketDir()
	if err != nil {
		return err
	}
	p.sockDir, p.tmpSock = sockDir, tmpSock
	defer func() {
		if err != nil {
			p.cleanupLocked()
		}
	}()

	log, err := openLog(p.logPath, fmt.Sprintf("starting postgres on 127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("devdb: %w", err)
	}
	defer log.f.Close() // the child holds its own descriptor
	if p.acct != nil {
		_ = log.f.Chown(p.acct.uid, p.acct.gid)
	}

	args := []string{
		"-D", p.dataDir,
		"-c", "port=" + strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + sockDir,
		"-c", "max_connections=300",
		"-c", "logging_collector=off",
	}
	if p.fast {
		args = append(args, "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off")
	}
	cmd := exec.Command(filepath.Join(p.binDir, "postgres"), args...)
	cmd.Dir = p.dir
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = log.f, log.f
	// SIGINT is Postgres' "fast" shutdown: it still checkpoints, so dev data
	// survives a caller that dies without stopping it.
	cmd.SysProcAttr = sysProcAttr(p.acct, syscall.SIGINT)
	proc, err := startProcess(cmd)
	if err != nil {
		return fmt.Errorf("devdb: start postgres: %w", err)
	}
	if err := p.waitReady(ctx, proc); err != nil {
		if !proc.exited() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = proc.stop(stopCtx, syscall.SIGQUIT)
			cancel()
		}
		if log.contains("could not create any TCP/IP sockets", "Address already in use") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return startError(fmt.Sprintf("start postgres on port %d", port), log, err)
	}
	p.proc = proc
	p.logf.printf("devdb: postgres listening on 127.0.0.1:%d (data %s, log %s)", port, p.dataDir, p.logPath)
	return nil
}

// waitReady waits until postmaster.pid names this process and says "ready",
// which Postgres writes once it accepts connections (what pg_ctl -w checks).
// Matching the pid guards against a stale file or another cluster.
func (p *Postgres) waitReady(ctx context.Context, proc *process) error {
	pidFile := filepath.Join(p.dataDir, "postmaster.pid")
	want := strconv.Itoa(proc.cmd.Process.Pid)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(pidFile); err == nil {
			lines := strings.Split(string(b), "\n")
			if len(lines) >= 8 && strings.TrimSpace(lines[0]) == want && strings.TrimSpace(lines[7]) == "ready" {
				return nil
			}
		}
		select {
		case <-proc.done:
			return fmt.Errorf("postgres exited: %w", exitErr(proc.err))
		case <-ctx.Done():
			return fmt.Errorf("waiting for postgres: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// exitErr turns a clean exit during startup into an error too.
func exitErr(err error) error {
	if err == nil {
		return errors.New("exit status 0")
	}
	return err
}
