// Package store is the platform's metadata over pgx: projects, API keys,
// admins, sessions, members, settings and the audit log. It runs on the
// control-plane role and never executes tenant SQL.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a row with the same identity exists.
var ErrConflict = errors.New("already exists")

// Store wraps the control-plane pool.
type Store struct {
	Pool *pgxpool.Pool
}

func pgxConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse PLINTH_DATABASE_URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 5*time.Second {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	return cfg, nil
}

// Open connects the control-plane pool.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 10
	cfg.MaxConnIdleTime = time.Minute
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect control plane: %w", err)
	}
	return &Store{Pool: pool}, nil
}

// Close closes the pool.
func (s *Store) Close() { s.Pool.Close() }

// Tx runs fn in one transaction.
func (s *Store) Tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, fn)
}

// Execer is what pgxpool.Pool, pgx.Conn and pgx.Tx have in common for writes.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Channels of the LISTEN/NOTIFY cache invalidation. The payload is a project ref.
const (
	ChannelProject = "plinth_project" // project row, settings, keys, deletion
	ChannelSchema  = "plinth_schema"  // a project's tables, views or functions changed
	ChannelRules   = "plinth_rules"   // access rules
	ChannelLimits  = "plinth_limits"  // rate limits
)

// Notify queues a NOTIFY; inside a transaction it is delivered on commit, so
// other instances never reload before the change is visible.
func Notify(ctx context.Context, q Execer, channel, ref string) error {
	_, err := q.Exec(ctx, "select pg_notify($1, $2)", channel, ref)
	return err
}
