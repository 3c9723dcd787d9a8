package pool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/plinth-dev/plinth/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// tenant is a project-like schema with a NOINHERIT login (which cannot see
// the schema), an owner and an anon role, and a one-connection pool so that
// every call reuses the same connection and its prepared statements.
type tenant struct {
	super       *pgx.Conn
	pool        *Pool
	schema      string
	owner, anon string
}

func newTenant(t *testing.T) *tenant {
	t.Helper()
	db := testenv.NewDatabase(t)
	ctx := context.Background()
	super, err := pgx.Connect(ctx, db.SuperURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { super.Close(context.Background()) })
	tn := &tenant{super: super, schema: db.Prefix + "s", owner: db.Prefix + "owner", anon: db.Prefix + "anon"}
	login := db.Prefix + "login"
	tn.exec(t, fmt.Sprintf(`
create role %[1]s nologin; create role %[2]s nologin;
create role %[3]s login noinherit password 'pw';
grant %[1]s, %[2]s to %[3]s;
create schema %[4]s authorization %[1]s;
grant usage on schema %[4]s to %[2]s;
create table %[4]s.items (id int primary key, title text);
alter table %[4]s.items owner to %[1]s;
insert into %[4]s.items select g, 'item ' || g from generate_series(1, 5) g;
grant select on %[4]s.items to %[2]s;
create table %[4]s.secret (id int);
alter table %[4]s.secret owner to %[1]s;`, tn.owner, tn.anon, login, tn.schema))
	m, err := New(Options{DatabaseURL: db.SuperURL, PerPool: 1, TotalConns: 2}, func(context.Context, string) (Credentials, error) {
		return Credentials{Role: login, Password: "pw", Schema: tn.schema}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	if tn.pool, err = m.Get(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	return tn
}

func (tn *tenant) exec(t *testing.T, sql string) {
	t.Helper()
	if _, err := tn.super.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

func (tn *tenant) query(role, sql string, args ...any) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	row, err := QueryRow(ctx, tn.pool, Session{Role: role, StatementTimeout: 5 * time.Second}, sql, args...)
	if err != nil {
		return "", err
	}
	if len(row) == 0 {
		return "<no row>", nil
	}
	return string(row[0]), nil
}

func (tn *tenant) must(t *testing.T, role, sql string, args ...any) string {
	t.Helper()
	v, err := tn.query(role, sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func (tn *tenant) prepared(t *testing.T) int {
	t.Helper()
	n, err := strconv.Atoi(tn.must(t, tn.owner, "select count(*)::text from pg_prepared_statements"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("want SQLSTATE %s, got %v", code, err)
	}
}

// A statement is prepared once per connection (after the role switch, which
// the NOINHERIT login needs to see the schema) and then reused.
func TestStatementsPreparedOnceAndReused(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	q := "select title from " + tn.schema + ".items where id = $1"
	// Seen once (run unnamed), then prepared; likewise the count query.
	for i := 0; i < 2; i++ {
		if got := tn.must(t, tn.owner, q, 2); got != "item 2" {
			t.Fatalf("got %q", got)
		}
		tn.prepared(t)
	}
	before := tn.prepared(t)
	for i := 1; i <= 5; i++ {
		if got := tn.must(t, tn.anon, q, i); got != "item "+strconv.Itoa(i) {
			t.Fatalf("id %d: got %q", i, got)
		}
	}
	if got := tn.must(t, tn.anon, q, 99); got != "<no row>" {
		t.Fatalf("missing row: got %q", got)
	}
	if after := tn.prepared(t); after != before {
		t.Fatalf("prepared statements grew from %d to %d: not reused", before, after)
	}
}

// Privileges are checked when a prepared plan runs, not when it was
// prepared: a statement the owner prepared stays forbidden to anon.
func TestPreparedStatementChecksPrivilegesPerRole(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	q := "select count(*)::text from " + tn.schema + ".secret"
	if got := tn.must(t, tn.owner, q); got != "0" {
		t.Fatalf("owner: got %q", got)
	}
	_, err := tn.query(tn.anon, q)
	wantCode(t, err, "42501")
	// The failed request left the connection usable.
	if got := tn.must(t, tn.owner, q); got != "0" {
		t.Fatalf("owner after anon's denial: got %q", got)
	}
}

// Row-level security depends on the role, so a plan prepared under one role
// must not leak rows under another.
func TestPreparedStatementFollowsRowSecurityPerRole(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	tn.exec(t, fmt.Sprintf(`alter table %[1]s.items enable row level security;
create policy few on %[1]s.items for select to %[2]s using (id < 3);`, tn.schema, tn.anon))
	q := "select count(*)::text from " + tn.schema + ".items"
	for _, c := range []struct{ role, want string }{{tn.owner, "5"}, {tn.anon, "2"}, {tn.owner, "5"}, {tn.anon, "2"}} {
		if got := tn.must(t, c.role, q); got != c.want {
			t.Fatalf("%s: got %s rows, want %s", c.role, got, c.want)
		}
	}
}

// DDL between two runs of the same statement (a table dropped and made
// again) is picked up: Postgres re-analyses the prepared statement.
func TestPreparedStatementSurvivesDDL(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	q := "select coalesce(json_agg(_r), '[]')::text from (select id, title from " + tn.schema + ".items where id <= $1) _r"
	if got := tn.must(t, tn.owner, q, 1); got != `[{"id":1,"title":"item 1"}]` {
		t.Fatalf("got %s", got)
	}
	tn.exec(t, fmt.Sprintf(`drop table %[1]s.items;
create table %[1]s.items (title text, id bigint);
alter table %[1]s.items owner to %[2]s;
insert into %[1]s.items values ('new', 1);`, tn.schema, tn.owner))
	if got := tn.must(t, tn.owner, q, 1); got != `[{"id":1,"title":"new"}]` {
		t.Fatalf("after DDL: got %s", got)
	}
}

// Errors at execution, with and without Prefer: tx=rollback, end the
// request's transaction; the next request on the connection is clean.
func TestErrorsLeaveConnectionClean(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	ctx := context.Background()
	ins := "insert into " + tn.schema + ".items (id, title) values ($1, 'x') returning id::text"
	_, err := tn.query(tn.owner, ins, 1) // duplicate key
	wantCode(t, err, "23505")
	// Rolled back: the row is gone afterwards, and so is a failed one.
	if _, err := QueryRow(ctx, tn.pool, Session{Role: tn.owner, Rollback: true, StatementTimeout: time.Second}, ins, 6); err != nil {
		t.Fatal(err)
	}
	_, err = QueryRow(ctx, tn.pool, Session{Role: tn.owner, Rollback: true, StatementTimeout: time.Second}, ins, 1)
	wantCode(t, err, "23505")
	if got := tn.must(t, tn.owner, "select count(*)::text from "+tn.schema+".items"); got != "5" {
		t.Fatalf("rows after rolled-back inserts: %s", got)
	}
	// Read-only sessions refuse writes even through a prepared statement.
	_, err = QueryRow(ctx, tn.pool, Session{Role: tn.owner, ReadOnly: true, StatementTimeout: time.Second}, ins, 7)
	wantCode(t, err, "25006")
	// The settings are local to each request: nothing leaks into the next.
	if got := tn.must(t, tn.anon, "select current_user::text || ' ' || current_setting('transaction_read_only')"); got != tn.anon+" off" {
		t.Fatalf("next request's session: %s", got)
	}
}

// A connection keeps at most maxStatements statements: past that it drops
// them all and starts again, so many query shapes cannot exhaust memory.
// SQL seen only once (an inlined offset while paging) is never prepared.
func TestStatementsBoundedPerConnection(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	shape := func(i int) string {
		return "select title from " + tn.schema + ".items where id = $1 offset " + strconv.Itoa(i)
	}
	tn.prepared(t)
	base := tn.prepared(t) // the settings and count statements
	for i := 0; i < 20; i++ {
		tn.must(t, tn.anon, shape(i), 3)
	}
	if n := tn.prepared(t); n != base {
		t.Fatalf("one-off statements were prepared: %d, want %d", n, base)
	}
	for i := 0; i < maxStatements+10; i++ {
		for j := 0; j < 2; j++ {
			if got := tn.must(t, tn.anon, shape(1000+i), 3); got != "<no row>" {
				t.Fatalf("shape %d: got %q", i, got)
			}
		}
	}
	if n := tn.prepared(t); n > maxStatements+1 {
		t.Fatalf("%d statements prepared on one connection, bound is %d", n, maxStatements)
	}
	// Afresh after the reset: shapes still prepare and run.
	if got := tn.must(t, tn.anon, shape(0), 3); got != "item 3" {
		t.Fatalf("after reset: got %q", got)
	}
	if got := tn.must(t, tn.anon, "select title from "+tn.schema+".items where id = $1", 3); got != "item 3" {
		t.Fatalf("after reset: got %q", got)
	}
}

// Tenant code that deallocates the connection's statements (here a function
// running DEALLOCATE ALL) costs at most the next request: the connection
// then prepares everything afresh, the settings statement included.
func TestConnectionRecoversFromDeallocate(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	tn.exec(t, fmt.Sprintf(`create function %[1]s.forget() returns text language plpgsql as $$ begin execute 'deallocate all'; return 'gone'; end $$;
alter function %[1]s.forget() owner to %[2]s;`, tn.schema, tn.owner))
	q := "select title from " + tn.schema + ".items where id = $1"
	for range 3 { // prepared by now, with the settings statement
		tn.must(t, tn.owner, q, 1)
	}
	if tn.prepared(t) == 0 {
		t.Fatal("nothing prepared")
	}
	forget := "select " + tn.schema + ".forget()"
	for range 2 { // the second run is prepared, so its deallocate hits it too
		tn.query(tn.owner, forget)
	}
	failures := 0
	for range 5 {
		if _, err := tn.query(tn.owner, q, 2); err != nil {
			failures++
		}
	}
	if failures > 1 {
		t.Fatalf("%d of 5 requests failed after DEALLOCATE ALL; the connection should recover after one", failures)
	}
	if got := tn.must(t, tn.owner, q, 3); got != "item 3" {
		t.Fatalf("got %q", got)
	}
}
