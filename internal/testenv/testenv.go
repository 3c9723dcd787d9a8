// Package testenv is the test harness of every Plinth test package: private
// Postgres and Redis servers per test process (started lazily, stopped at
// exit), fresh databases and tenant prefixes per test, and a built
// `plinth serve` to run black-box tests against.
//
// Every test package that uses it calls it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
//
// PLINTH_TEST_DATABASE_URL (a superuser URL) and PLINTH_TEST_REDIS_URL point
// the tests at existing servers instead; several packages can then share one
// cluster because every database and role name is unique.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/platform/devdb"
)

// Environment variables that select external servers.
const (
	EnvDatabaseURL = "PLINTH_TEST_DATABASE_URL"
	EnvRedisURL    = "PLINTH_TEST_REDIS_URL"
)

// startTimeout bounds starting a private server (initdb included).
const startTimeout = 2 * time.Minute

// h is the per-test-process harness. It is the package's only global state:
// one set of servers per test binary is the point of the package.
var h harness

type harness struct {
	workOnce sync.Once
	work     string   // temp dir of this process: servers, binaries
	workLock *os.File // held while the process lives; see sweepStale
	workErr  error

	pgOnce sync.Once
	pg     *devdb.Postgres // nil when external
	pgURL  string          // superuser URL for database "postgres"
	pgErr  error

	redisOnce sync.Once
	redis     *devdb.Redis // nil when external
	redisURL  string
	redisErr  error

	buildMu sync.Mutex
	builds  map[string]*build

	shutdownOnce sync.Once
}

// Main runs the tests and then stops the private servers and removes their
// files. A SIGINT or SIGTERM does the same cleanup before exiting.
func Main(m *testing.M) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig, ok := <-sigs
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "testenv: %v: stopping private servers\n", sig)
		shutdown()
		os.Exit(130)
	}()
	code := m.Run()
	signal.Stop(sigs)
	close(sigs)
	shutdown()
	return code
}

// shutdown stops what was started; errors are reported, not fatal, because
// the test results are already in.
func shutdown() {
	h.shutdownOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Mark the servers as started so a late lazy start cannot race us.
		h.pgOnce.Do(func() { h.pgErr = errors.New("testenv: shut down") })
		h.redisOnce.Do(func() { h.redisErr = errors.New("testenv: shut down") })
		h.workOnce.Do(func() { h.workErr = errors.New("testenv: shut down") })
		if h.pg != nil {
			if err := h.pg.Stop(ctx); err != nil {
				fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
			}
		}
		if h.redis != nil {
			if err := h.redis.Stop(ctx); err != nil {
				fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
			}
		}
		if h.work != "" {
			if err := os.RemoveAll(h.work); err != nil {
				fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
			}
			if h.workLock != nil {
				h.workLock.Close()
			}
		}
	})
}

// workDir returns this process's temp dir, creating it on first use after
// removing those of test processes that died without cleaning up.
func workDir() (string, error) {
	h.workOnce.Do(func() {
		sweepStale()
		dir, err := os.MkdirTemp("", workPrefix+"*")
		if err != nil {
			h.workErr = fmt.Errorf("testenv: %w", err)
			return
		}
		// Traversable, so a server running as another user (Postgres when
		// we are root) reaches its own dir inside without further changes.
		err = os.Chmod(dir, 0o711)
		var lock *os.File
		if err == nil {
			lock, err = lockDir(dir)
		}
		if err != nil {
			_ = os.RemoveAll(dir)
			h.workErr = fmt.Errorf("testenv: %w", err)
			return
		}
		h.work, h.workLock = dir, lock
	})
	return h.work, h.workErr
}

// workPrefix names the per-process temp dirs, so stale ones can be found.
const workPrefix = "plinth-testenv-"

// sweepStale removes work dirs whose owning process is gone (their lock is
// free). Its servers are gone too: they are told to stop when it dies.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), workPrefix+"*"))
	for _, d := range dirs {
		if abandoned(d) {
			_ = os.RemoveAll(d)
		}
	}
}

func logf(format string, args ...any) {
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

func startPostgres() {
	if u := os.Getenv(EnvDatabaseURL); u != "" {
		h.pgURL, h.pgErr = withDatabase(u, "postgres")
		if h.pgErr != nil {
			h.pgErr = fmt.Errorf("testenv: %s: %w", EnvDatabaseURL, h.pgErr)
		}
		return
	}
	work, err := workDir()
	if err != nil {
		h.pgErr = err
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	pg, err := devdb.StartPostgres(ctx, devdb.PostgresOptions{
		Dir:  filepath.Join(work, "pg"),
		Fast: true,
		Logf: logf,
	})
	if err != nil {
		if errors.Is(err, devdb.ErrNoPostgres) {
			err = fmt.Errorf("%w (or set %s to a superuser URL of an existing cluster)", err, EnvDatabaseURL)
		}
		h.pgErr = fmt.Errorf("testenv: %w", err)
		return
	}
	h.pg, h.pgURL = pg, pg.URL("postgres")
}

func ensurePostgres(tb testing.TB) {
	tb.Helper()
	h.pgOnce.Do(startPostgres)
	if h.pgErr != nil {
		tb.Fatal(h.pgErr)
	}
}

// SuperURL returns a superuser URL for database "postgres" of the test
// cluster (the private one, or the one of PLINTH_TEST_DATABASE_URL).
func SuperURL(tb testing.TB) string {
	tb.Helper()
	ensurePostgres(tb)
	return h.pgURL
}

// Postgres returns the private cluster so fault tests can Stop, Start or
// Kill it; it is nil when PLINTH_TEST_DATABASE_URL is used, and such tests
// must then t.Skip. The cluster is shared by the whole test process: tests
// that stop it must not run in parallel with others. Cleanup starts it again
// if the test left it stopped.
func Postgres(tb testing.TB) *devdb.Postgres {
	tb.Helper()
	ensurePostgres(tb)
	if h.pg != nil {
		tb.Cleanup(func() { restart(tb, "postgres", h.pg.Start) })
	}
	return h.pg
}

// restart brings a server a test stopped back for the tests after it.
func restart(tb testing.TB, what string, start func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := start(ctx); err != nil {
		tb.Errorf("testenv: restart private %s after the test: %v", what, err)
	}
}

func startRedis() {
	if u := os.Getenv(EnvRedisURL); u != "" {
		h.redisURL = u
		return
	}
	work, err := workDir()
	if err != nil {
		h.redisErr = err
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	r, err := devdb.StartRedis(ctx, devdb.RedisOptions{Dir: filepath.Join(work, "redis"), Logf: logf})
	if err != nil {
		if errors.Is(err, devdb.ErrNoRedis) {
			err = fmt.Errorf("%w (or set %s)", err, EnvRedisURL)
		}
		h.redisErr = fmt.Errorf("testenv: %w", err)
		return
	}
	h.redis, h.redisURL = r, r.URL()
}

func ensureRedis(tb testing.TB) {
	tb.Helper()
	h.redisOnce.Do(startRedis)
	if h.redisErr != nil {
		tb.Fatal(h.redisErr)
	}
}

// RedisURL returns the URL of the test Redis (private, or
// PLINTH_TEST_REDIS_URL).
func RedisURL(tb testing.TB) string {
	tb.Helper()
	ensureRedis(tb)
	return h.redisURL
}

// Redis returns the private Redis so fault tests can Stop and Start it; nil
// when PLINTH_TEST_REDIS_URL is used. Cleanup starts it again if the test
// left it stopped.
func Redis(tb testing.TB) *devdb.Redis {
	tb.Helper()
	ensureRedis(tb)
	if h.redis != nil {
		tb.Cleanup(func() { restart(tb, "redis", h.redis.Start) })
	}
	return h.redis
}

// withDatabase returns the Postgres URL u pointing at database db.
func withDatabase(u, db string) (string, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return "", errors.New("not a URL") // url errors would echo a password
	}
	if pu.Scheme != "postgres" && pu.Scheme != "postgresql" {
		return "", fmt.Errorf("want a postgres:// URL, got scheme %q", pu.Scheme)
	}
	pu.Path, pu.RawPath = "/"+db, ""
	return pu.String(), nil
}
