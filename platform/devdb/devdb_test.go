package devdb_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/platform/devdb"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func startPostgres(t *testing.T, opts devdb.PostgresOptions) *devdb.Postgres {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	pg, err := devdb.StartPostgres(ctxT(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pg.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return pg
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctxT(t), url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func count(t *testing.T, pg *devdb.Postgres) int {
	t.Helper()
	conn := connect(t, pg.URL("postgres"))
	var n int
	if err := conn.QueryRow(ctxT(t), "SELECT count(*) FROM kept").Scan(&n); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	return n
}

func TestFindPostgresBinaries(t *testing.T) {
	dir, err := devdb.FindPostgresBinaries()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestFreePort(t *testing.T) {
	port, err := devdb.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("port %d not free: %v", port, err)
	}
	l.Close()
}

// TestPostgresLifecycle covers what `plinth dev` and fault tests rely on:
// durable data across Stop/Start and Kill/Start on the same port, and reuse
// of an existing cluster by a later StartPostgres.
func TestPostgresLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pg")
	pg := startPostgres(t, devdb.PostgresOptions{Dir: dir})
	port := pg.Port()
	if port == 0 {
		t.Fatal("port 0")
	}
	if want := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port); pg.URL("postgres") != want {
		t.Errorf("URL = %q, want %q", pg.URL("postgres"), want)
	}

	conn := connect(t, pg.URL("postgres"))
	var listen, socketDir string
	if err := conn.QueryRow(ctxT(t), "SELECT current_setting('listen_addresses'), current_setting('unix_socket_directories')").Scan(&listen, &socketDir); err != nil {
		t.Fatal(err)
	}
	if listen != "127.0.0.1" || socketDir != filepath.Join(pg.Dir(), "sock") {
		t.Errorf("listen_addresses=%q unix_socket_directories=%q", listen, socketDir)
	}
	if _, err := conn.Exec(ctxT(t), "CREATE TABLE kept (v int); INSERT INTO kept VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())

	if err := pg.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if c, err := pgx.Connect(ctxT(t), pg.URL("postgres")); err == nil {
		c.Close(context.Background())
		t.Fatal("connected to a stopped cluster")
	}
	if err := pg.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if pg.Port() != port {
		t.Fatalf("port changed from %d to %d", port, pg.Port())
	}
	if n := count(t, pg); n != 1 {
		t.Fatalf("after restart: %d rows, want 1", n)
	}

	conn = connect(t, pg.URL("postgres"))
	if _, err := conn.Exec(ctxT(t), "INSERT INTO kept VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Ping(ctxT(t)); err == nil {
		t.Fatal("connection survived Kill")
	}
	if err := pg.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pg); n != 2 {
		t.Fatalf("after kill and crash recovery: %d rows, want 2", n)
	}
	if err := pg.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}

	// A rerun (as `plinth dev` does) reuses the cluster, on a new free port.
	again := startPostgres(t, devdb.PostgresOptions{Dir: dir})
	if n := count(t, again); n != 2 {
		t.Fatalf("reused cluster: %d rows, want 2", n)
	}
}

// TestPostgresUnprivileged checks that root hands the cluster to another
// user, as Postgres refuses to run as root.
func TestPostgresUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 || runtime.GOOS != "linux" {
		t.Skip("needs root on Linux")
	}
	pg := startPostgres(t, devdb.PostgresOptions{Dir: t.TempDir(), Fast: true})
	conn := connect(t, pg.URL("postgres"))
	var pid int
	if err := conn.QueryRow(ctxT(t), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid == 0 {
		t.Fatal("backend runs as root")
	}
}

// TestPostgresLongDir: unix socket paths are limited to ~107 bytes, so a deep
// Dir must fall back to a short temp socket dir, removed at Stop.
func TestPostgresLongDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	pg := startPostgres(t, devdb.PostgresOptions{Dir: dir, Fast: true})
	conn := connect(t, pg.URL("postgres"))
	var socketDir string
	if err := conn.QueryRow(ctxT(t), "SELECT current_setting('unix_socket_directories')").Scan(&socketDir); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	if len(socketDir) > 90 || strings.HasPrefix(socketDir, dir) {
		t.Fatalf("socket dir %q not short", socketDir)
	}
	if err := pg.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(socketDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp socket dir %s left behind: %v", socketDir, err)
	}
}

// TestPostgresParallel: clusters started at once get their own ports.
func TestPostgresParallel(t *testing.T) {
	const n = 3
	pgs := make([]*devdb.Postgres, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			pg, err := devdb.StartPostgres(ctxT(t), devdb.PostgresOptions{Dir: t.TempDir(), Fast: true})
			if err != nil {
				t.Error(err)
				return
			}
			pgs[i] = pg
			t.Cleanup(func() { _ = pg.Stop(context.Background()) })
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	ports := map[int]bool{}
	for _, pg := range pgs {
		ports[pg.Port()] = true
		connect(t, pg.URL("postgres"))
	}
	if len(ports) != n {
		t.Fatalf("ports %v not distinct", ports)
	}
}

func TestPostgresPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	pg, err := devdb.StartPostgres(ctxT(t), devdb.PostgresOptions{Dir: t.TempDir(), Port: port, Fast: true})
	if err == nil {
		pg.Stop(context.Background())
		t.Fatal("started on a taken port")
	}
	if !strings.Contains(err.Error(), "postgres.log") || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("error does not show the log: %v", err)
	}
}

func TestRedisLifecycle(t *testing.T) {
	r, err := devdb.StartRedis(ctxT(t), devdb.RedisOptions{Dir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	port := r.Port()
	if want := fmt.Sprintf("redis://127.0.0.1:%d/0", port); r.URL() != want {
		t.Errorf("URL = %q, want %q", r.URL(), want)
	}
	opts, err := redis.ParseURL(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxRetries = -1
	client := redis.NewClient(opts)
	defer client.Close()
	if err := client.Set(ctxT(t), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	if err := r.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := client.Ping(ctxT(t)).Err(); err == nil {
		t.Fatal("stopped redis answered")
	}
	if err := r.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if r.Port() != port {
		t.Fatalf("port changed from %d to %d", port, r.Port())
	}
	// The pool reconnects once the server is back.
	deadline := time.Now().Add(10 * time.Second)
	for err := client.Ping(ctxT(t)).Err(); err != nil; err = client.Ping(ctxT(t)).Err() {
		if time.Now().After(deadline) {
			t.Fatalf("after restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRedisPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	r, err := devdb.StartRedis(ctxT(t), devdb.RedisOptions{Dir: t.TempDir(), Port: port})
	if err == nil {
		r.Stop(context.Background())
		t.Fatal("started on a taken port")
	}
	if !strings.Contains(err.Error(), "redis.log") {
		t.Errorf("error does not show the log: %v", err)
	}
}
