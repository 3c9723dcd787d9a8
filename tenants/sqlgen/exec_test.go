package sqlgen_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/schema"
	"github.com/plinth-dev/plinth/tenants/sqlgen"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestAccessExecutes runs statements built with a hand-written Access on
// Postgres: a written row outside the caller's condition fails the whole
// statement with 42501 (so the request rolls back), rows outside it are
// never read, and the singular check answers 406 through apierror.
func TestAccessExecutes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.NewDatabase(t)
	if err := store.Migrate(ctx, db.URL, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `create schema acc;
		create table acc.notes (id int primary key, body text, owner text);
		insert into acc.notes values (1, 'mine', 'u1'), (2, 'theirs', 'u2')`); err != nil {
		t.Fatal(err)
	}
	sch, err := schema.Load(ctx, conn, "acc")
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := query.ParseCondition("owner=eq.u1")
	onlyMine := func(string, string) (query.Expr, error) { return owner, nil }
	request := func(raw string) *sqlgen.Request {
		q, err := query.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		return &sqlgen.Request{Query: q, Range: q.RangeFor(nil), Access: onlyMine}
	}
	// run executes st in a transaction committed on success, as the data
	// API's implicit transaction is.
	run := func(st *sqlgen.Statement) (string, error) {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		var body string
		var n int64
		var total, loc *string
		if err := tx.QueryRow(ctx, st.SQL, st.Args...).Scan(&body, &n, &total, &loc); err != nil {
			return "", err
		}
		return body, tx.Commit(ctx)
	}
	notes := func() string {
		var s string
		if err := conn.QueryRow(ctx, `select string_agg(id || ':' || body || ':' || owner, ',' order by id) from acc.notes`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	want42501 := func(err error) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Fatalf("want 42501, got %v", err)
		}
		if ae := apierror.From(err, false); ae.Status != http.StatusForbidden {
			t.Fatalf("status %d for a signed-in caller", ae.Status)
		}
		if ae := apierror.From(err, true); ae.Status != http.StatusUnauthorized {
			t.Fatalf("status %d for an anonymous caller", ae.Status)
		}
	}

	st, err := sqlgen.Read(sch, "notes", request("select=id,body"))
	if err != nil {
		t.Fatal(err)
	}
	if body, err := run(st); err != nil || body != `[{"id":1,"body":"mine"}]` {
		t.Fatalf("read: %s %v", body, err)
	}

	st, err = sqlgen.Insert(sch, "notes", request(""), []byte(`[{"id":3,"body":"ok","owner":"u1"},{"id":4,"body":"sneaky","owner":"u2"}]`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = run(st)
	want42501(err)

	st, err = sqlgen.Update(sch, "notes", request("id=eq.1"), []byte(`{"owner":"u2"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = run(st)
	want42501(err)

	st, err = sqlgen.Update(sch, "notes", request("id=in.(1,2)"), []byte(`{"body":"edited"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(st); err != nil {
		t.Fatal(err)
	}
	st, err = sqlgen.Delete(sch, "notes", request(""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(st); err != nil {
		t.Fatal(err)
	}
	// Only the caller's row was edited and then deleted; the failed
	// statements left nothing.
	if got := notes(); got != "2:theirs:u2" {
		t.Fatalf("notes: %s", got)
	}

	r := request("")
	r.Media = query.MediaObject
	r.Access = nil
	st, err = sqlgen.Read(sch, "notes", r)
	if err != nil {
		t.Fatal(err)
	}
	if body, err := run(st); err != nil || body != `{"id":2,"body":"theirs","owner":"u2"}` {
		t.Fatalf("singular: %s %v", body, err)
	}
	r = request("id=gt.5")
	r.Media, r.Access = query.MediaObject, nil
	st, _ = sqlgen.Read(sch, "notes", r)
	_, err = run(st)
	ae := apierror.From(err, false)
	if ae.Status != http.StatusNotAcceptable || ae.Code != "PGRST116" || ae.Details != "The result contains 0 rows" {
		t.Fatalf("singular violation: %+v", ae)
	}
}
