package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"

	"github.com/plinth-dev/plinth/migrations"
)

// migrationLockID is the advisory lock that serialises platform migrations
// across instances starting at once ("plinth" in ASCII).
const migrationLockID = 0x706c696e7468

func provider(db *sql.DB, log *slog.Logger) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, err
	}
	// Schema-qualified: an unqualified name would follow search_path, which
	// changes once schema "plinth" exists if the control role is named plinth.
	st, err := database.NewStore(database.DialectPostgres, "plinth.migrations")
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithStore(st), goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	return goose.NewProvider(goose.DialectCustom, db, migrations.FS, opts...)
}

func withProvider(ctx context.Context, url string, log *slog.Logger, fn func(*goose.Provider) error) error {
	cfg, err := pgxConfig(url)
	if err != nil {
		return err
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	defer db.Close()
	// goose creates its version table before migration 1 runs, so the schema
	// that holds it must exist first. Concurrent starts may race here.
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS plinth"); err != nil && !isDuplicate(err) {
		return fmt.Errorf("create platform schema: %w", err)
	}
	p, err := provider(db, log)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return fn(p)
}

// Migrate applies pending platform migrations under an advisory lock.
func Migrate(ctx context.Context, url string, log *slog.Logger) error {
	return withProvider(ctx, url, log, func(p *goose.Provider) error {
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("apply platform migrations: %w", err)
		}
		return nil
	})
}

// MigrationStatus describes every known migration and whether it is applied.
func MigrationStatus(ctx context.Context, url string) ([]*goose.MigrationStatus, error) {
	var out []*goose.MigrationStatus
	err := withProvider(ctx, url, nil, func(p *goose.Provider) error {
		var err error
		out, err = p.Status(ctx)
		return err
	})
	return out, err
}

func isDuplicate(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P06")
}
