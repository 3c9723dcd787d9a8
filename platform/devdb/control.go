package devdb

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
)

// EnsureControlDatabase makes, through a superuser URL, the non-superuser
// control-plane role (LOGIN CREATEROLE) and a database it owns, if they do
// not exist yet, and returns the control role's URL for that database.
func EnsureControlDatabase(ctx context.Context, superURL, role, password, database string) (string, error) {
	conn, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return "", fmt.Errorf("connect as superuser: %w", err)
	}
	defer conn.Close(context.Background())
	r, d := pgx.Identifier{role}.Sanitize(), pgx.Identifier{database}.Sanitize()
	var exists bool
	if err := conn.QueryRow(ctx, "select exists(select 1 from pg_roles where rolname = $1)", role).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		// CREATE ROLE takes no parameters; the password is quoted as a literal.
		lit, err := conn.PgConn().EscapeString(password)
		if err != nil {
			return "", err
		}
		if _, err := conn.Exec(ctx, "CREATE ROLE "+r+" LOGIN CREATEROLE PASSWORD '"+lit+"'"); err != nil {
			return "", fmt.Errorf("create control role: %w", err)
		}
	}
	if err := conn.QueryRow(ctx, "select exists(select 1 from pg_database where datname = $1)", database).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+d+" OWNER "+r); err != nil {
			return "", fmt.Errorf("create database: %w", err)
		}
		// Tenant logins get CONNECT one by one at provisioning.
		if _, err := conn.Exec(ctx, "REVOKE CONNECT, TEMPORARY ON DATABASE "+d+" FROM PUBLIC"); err != nil {
			return "", err
		}
	}
	u, err := url.Parse(superURL)
	if err != nil {
		return "", err
	}
	u.User = url.UserPassword(role, password)
	u.Path = "/" + database
	return u.String(), nil
}
