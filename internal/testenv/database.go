package testenv

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is a fresh database of the test cluster.
type DB struct {
	// URL connects as the control role: a non-superuser with LOGIN and
	// CREATEROLE that owns the database, as Plinth runs in production.
	URL string
	// SuperURL connects to the same database as a superuser.
	SuperURL string
	// Prefix is a unique tenant prefix ("t" + 6 letters + "_") to use as
	// PLINTH_TENANT_PREFIX; roles starting with it are dropped at cleanup.
	Prefix string
	// Name is the database name.
	Name string
	// Role is the control role's name (password "ctl").
	Role string
}

// controlPassword is the control role's password; the private cluster
// trusts local connections anyway.
const controlPassword = "ctl"

// NewDatabase creates a database owned by a new control role and a unique
// tenant prefix, and registers cleanup that drops the database, every role
// starting with the prefix and the control role.
func NewDatabase(tb testing.TB) *DB {
	tb.Helper()
	super := SuperURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, super)
	if err != nil {
		tb.Fatalf("testenv: connect to the test cluster: %v", err)
	}
	defer conn.Close(ctx)

	var db *DB
	for attempt := 0; ; attempt++ {
		tok := randomLetters(6)
		db = &DB{Name: "t_" + tok, Prefix: "t" + tok + "_", Role: "ctl_" + tok}
		err = createDatabase(ctx, conn, db)
		if err == nil {
			break
		}
		// Another package sharing an external cluster drew the same letters.
		if !isDuplicate(err) || attempt == 4 {
			tb.Fatalf("testenv: create database: %v", err)
		}
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := dropDatabase(ctx, super, db); err != nil {
			tb.Logf("testenv: cleanup of database %s: %v", db.Name, err)
		}
	})

	if db.SuperURL, err = withDatabase(super, db.Name); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	u, err := url.Parse(db.SuperURL)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	u.User = url.UserPassword(db.Role, controlPassword)
	db.URL = u.String()
	return db
}

func createDatabase(ctx context.Context, conn *pgx.Conn, db *DB) error {
	role := pgx.Identifier{db.Role}.Sanitize()
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN CREATEROLE PASSWORD '%s'", role, controlPassword)); err != nil {
		return err
	}
	// template0 is never connected to, so concurrent creations on a shared
	// cluster do not collide on it; C collation keeps ordering deterministic.
	_, err := conn.Exec(ctx, fmt.Sprintf(
		"CREATE DATABASE %s OWNER %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'",
		pgx.Identifier{db.Name}.Sanitize(), role))
	if err != nil {
		_, _ = conn.Exec(ctx, "DROP ROLE IF EXISTS "+role)
		return err
	}
	return nil
}

// dropDatabase removes the database, then the prefix's roles and the control
// role, which are cluster-wide and would otherwise outlive the test.
func dropDatabase(ctx context.Context, super string, db *DB) error {
	conn, err := pgx.Connect(ctx, super)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var errs []error
	if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pgx.Identifier{db.Name}.Sanitize())); err != nil {
		errs = append(errs, err)
	}
	// left() rather than LIKE: "_" in the prefix is a LIKE wildcard.
	rows, err := conn.Query(ctx, "SELECT rolname FROM pg_roles WHERE left(rolname, length($1)) = $1 ORDER BY rolname", db.Prefix)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	roles = append(roles, db.Role)
	if err := dropRoles(ctx, conn, roles); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// dropRoles drops the roles together (they may depend on one another) and,
// if that fails, one by one so that as many as possible go.
func dropRoles(ctx context.Context, conn *pgx.Conn, roles []string) error {
	quoted := make([]string, len(roles))
	for i, r := range roles {
		quoted[i] = pgx.Identifier{r}.Sanitize()
	}
	list := strings.Join(quoted, ", ")
	if _, err := conn.Exec(ctx, "DROP OWNED BY "+list+"; DROP ROLE "+list); err == nil {
		return nil
	}
	var errs []error
	for _, r := range quoted {
		if _, err := conn.Exec(ctx, "DROP OWNED BY "+r+"; DROP ROLE "+r); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "42704" { // undefined_object: already gone
				continue
			}
			errs = append(errs, fmt.Errorf("drop role %s: %w", r, err))
		}
	}
	return errors.Join(errs...)
}

func isDuplicate(err error) bool {
	var pgErr *pgconn.PgError
	// duplicate_object (role), duplicate_database
	return errors.As(err, &pgErr) && (pgErr.Code == "42710" || pgErr.Code == "42P04")
}

// randomLetters returns n random lowercase ASCII letters.
func randomLetters(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return string(b)
}
