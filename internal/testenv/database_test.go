package testenv_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/plinth-dev/plinth/internal/testenv"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctxT(t), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec1(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(ctxT(t), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestSuperURL(t *testing.T) {
	conn := connect(t, testenv.SuperURL(t))
	var super bool
	var db string
	if err := conn.QueryRow(ctxT(t), "SELECT rolsuper, current_database() FROM pg_roles WHERE rolname = current_user").Scan(&super, &db); err != nil {
		t.Fatal(err)
	}
	if !super || db != "postgres" {
		t.Errorf("superuser %v, database %q", super, db)
	}
	if os.Getenv(testenv.EnvDatabaseURL) == "" && testenv.Postgres(t) == nil {
		t.Error("no private cluster handle")
	}
}

func TestNewDatabase(t *testing.T) {
	db := testenv.NewDatabase(t)
	if !regexp.MustCompile(`^t[a-z]{6}_$`).MatchString(db.Prefix) {
		t.Errorf("prefix %q", db.Prefix)
	}
	if other := testenv.NewDatabase(t); other.Name == db.Name || other.Prefix == db.Prefix || other.Role == db.Role {
		t.Errorf("not unique: %+v, %+v", db, other)
	}

	conn := connect(t, db.URL)
	var user, database, owner string
	var super, createRole bool
	err := conn.QueryRow(ctxT(t), `
		SELECT current_user, current_database(), pg_get_userbyid(d.datdba), r.rolsuper, r.rolcreaterole
		FROM pg_database d, pg_roles r
		WHERE d.datname = current_database() AND r.rolname = current_user`).
		Scan(&user, &database, &owner, &super, &createRole)
	if err != nil {
		t.Fatal(err)
	}
	if user != db.Role || database != db.Name || owner != db.Role {
		t.Errorf("user %q database %q owner %q, want %q %q %q", user, database, owner, db.Role, db.Name, db.Role)
	}
	if super || !createRole {
		t.Errorf("control role: superuser %v, createrole %v; want false, true", super, createRole)
	}
	// What provisioning does as the control role.
	exec1(t, conn, "CREATE ROLE "+db.Prefix+"demo_owner NOLOGIN")
	exec1(t, conn, "GRANT "+db.Prefix+"demo_owner TO CURRENT_USER")
	exec1(t, conn, "CREATE SCHEMA "+db.Prefix+"demo AUTHORIZATION "+db.Prefix+"demo_owner")
	exec1(t, conn, "CREATE TABLE "+db.Prefix+"demo.items (id int)")

	superConn := connect(t, db.SuperURL)
	var superDB string
	if err := superConn.QueryRow(ctxT(t), "SELECT current_database() FROM pg_roles WHERE rolname = current_user AND rolsuper").Scan(&superDB); err != nil || superDB != db.Name {
		t.Errorf("SuperURL: database %q, %v", superDB, err)
	}
}

func TestNewDatabaseCleanup(t *testing.T) {
	var db *testenv.DB
	t.Run("use", func(t *testing.T) {
		db = testenv.NewDatabase(t)
		conn := connect(t, db.URL)
		for _, sql := range []string{
			"CREATE ROLE " + db.Prefix + "demo_owner NOLOGIN",
			"CREATE ROLE " + db.Prefix + "demo_anon NOLOGIN",
			"GRANT " + db.Prefix + "demo_owner TO CURRENT_USER",
			"GRANT " + db.Prefix + "demo_anon TO " + db.Prefix + "demo_owner",
			"CREATE SCHEMA " + db.Prefix + "demo AUTHORIZATION " + db.Prefix + "demo_owner",
			"CREATE TABLE " + db.Prefix + "demo.items (id int)",
			"GRANT USAGE ON SCHEMA " + db.Prefix + "demo TO " + db.Prefix + "demo_anon",
			"GRANT SELECT ON " + db.Prefix + "demo.items TO " + db.Prefix + "demo_anon",
		} {
			exec1(t, conn, sql)
		}
		// The connection stays open: cleanup must cope with it.
	})

	super := connect(t, testenv.SuperURL(t))
	// A role that matches LIKE prefix||'%' ("_" is a wildcard) but does not
	// start with the prefix must survive.
	bystander := strings.TrimSuffix(db.Prefix, "_") + "xbystander"
	exec1(t, super, "CREATE ROLE "+bystander)
	t.Cleanup(func() { _, _ = super.Exec(context.Background(), "DROP ROLE IF EXISTS "+bystander) })

	var roles []string
	rows, err := super.Query(ctxT(t), "SELECT rolname FROM pg_roles WHERE left(rolname, length($1)) = $1 OR rolname = $2", db.Prefix, db.Role)
	if err != nil {
		t.Fatal(err)
	}
	if roles, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	if len(roles) != 0 {
		t.Errorf("roles left after cleanup: %v", roles)
	}
	var databases int
	if err := super.QueryRow(ctxT(t), "SELECT count(*) FROM pg_database WHERE datname = $1", db.Name).Scan(&databases); err != nil {
		t.Fatal(err)
	}
	if databases != 0 {
		t.Errorf("database %s left after cleanup", db.Name)
	}
	var kept bool
	if err := super.QueryRow(ctxT(t), "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", bystander).Scan(&kept); err != nil || !kept {
		t.Errorf("cleanup dropped role %s (%v)", bystander, err)
	}
}

func TestRedis(t *testing.T) {
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	defer client.Close()
	if err := client.Ping(ctxT(t)).Err(); err != nil {
		t.Fatal(err)
	}
	if os.Getenv(testenv.EnvRedisURL) == "" && testenv.Redis(t) == nil {
		t.Error("no private redis handle")
	}
}

// TestParallelProcesses runs two copies of this test binary at once: each
// must get its own private cluster and redis.
func TestParallelProcesses(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") != "" {
		if pg := testenv.Postgres(t); pg != nil {
			t.Logf("child-postgres-port=%d", pg.Port())
		}
		testenv.RedisURL(t)
		return
	}
	if testing.Short() {
		t.Skip("starts two more clusters")
	}
	if os.Getenv(testenv.EnvDatabaseURL) != "" {
		t.Skip("external cluster")
	}
	outs := make([]string, 2)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^(TestParallelProcesses|TestNewDatabase)$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "TESTENV_CHILD=1")
			out, err := cmd.CombinedOutput()
			outs[i] = string(out)
			if err != nil {
				t.Errorf("child %d: %v\n%s", i, err, out)
			}
		})
	}
	wg.Wait()
	re := regexp.MustCompile(`child-postgres-port=(\d+)`)
	var ports []string
	for _, out := range outs {
		if m := re.FindStringSubmatch(out); m != nil {
			ports = append(ports, m[1])
		}
	}
	if len(ports) != 2 || ports[0] == ports[1] {
		t.Errorf("child ports %v, want two distinct", ports)
	}
}

// TestFaultRestart: a fault test that leaves the servers down gets them
// back at cleanup, so later tests are unaffected.
func TestFaultRestart(t *testing.T) {
	if os.Getenv(testenv.EnvDatabaseURL) != "" || os.Getenv(testenv.EnvRedisURL) != "" {
		t.Skip("external servers")
	}
	t.Run("fault", func(t *testing.T) {
		if err := testenv.Postgres(t).Kill(); err != nil {
			t.Fatal(err)
		}
		if err := testenv.Redis(t).Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	connect(t, testenv.SuperURL(t))
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	defer client.Close()
	if err := client.Ping(ctxT(t)).Err(); err != nil {
		t.Fatal(err)
	}
}
