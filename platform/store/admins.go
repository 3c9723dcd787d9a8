package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Admin is a platform account (dashboard, CLI, automation).
type Admin struct {
	ID            uuid.UUID `json:"id"`
	Email         string    `json:"email"`
	PasswordHash  string    `json:"-"`
	PlatformAdmin bool      `json:"platform_admin"`
	CreatedAt     time.Time `json:"created_at"`
}

// NormalizeEmail lower-cases and trims an email for storage and lookup.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// CreateAdmin inserts an admin; ErrConflict if the email exists.
func (s *Store) CreateAdmin(ctx context.Context, email, hash string, platform bool) (*Admin, error) {
	a := &Admin{ID: uuid.New(), Email: NormalizeEmail(email), PasswordHash: hash, PlatformAdmin: platform}
	err := s.Pool.QueryRow(ctx, `insert into plinth.admins (id, email, password_hash, platform_admin)
		values ($1, $2, $3, $4) returning created_at`, a.ID, a.Email, hash, platform).Scan(&a.CreatedAt)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return nil, ErrConflict
	}
	return a, err
}

// AdminByEmail loads an admin by email.
func (s *Store) AdminByEmail(ctx context.Context, email string) (*Admin, error) {
	a := &Admin{}
	err := s.Pool.QueryRow(ctx, `select id, email, password_hash, platform_admin, created_at from plinth.admins where email = $1`,
		NormalizeEmail(email)).Scan(&a.ID, &a.Email, &a.PasswordHash, &a.PlatformAdmin, &a.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return a, err
}

// SetAdminPassword replaces an admin's password hash and ends their sessions.
func (s *Store) SetAdminPassword(ctx context.Context, email, hash string) error {
	return s.Tx(ctx, func(tx pgx.Tx) error {
		var id uuid.UUID
		err := tx.QueryRow(ctx, `update plinth.admins set password_hash = $2 where email = $1 returning id`, NormalizeEmail(email), hash).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `delete from plinth.admin_sessions where admin_id = $1`, id)
		return err
	})
}

// CreateSession stores a hashed admin bearer token.
func (s *Store) CreateSession(ctx context.Context, adminID uuid.UUID, token string, ttl time.Duration) error {
	_, err := s.Pool.Exec(ctx, `insert into plinth.admin_sessions (token_hash, admin_id, expires_at) values ($1, $2, now() + $3::interval)`,
		HashSecret(token), adminID, ttl.String())
	return err
}

// AdminBySession resolves a live admin bearer token.
func (s *Store) AdminBySession(ctx context.Context, token string) (*Admin, error) {
	a := &Admin{}
	err := s.Pool.QueryRow(ctx, `select a.id, a.email, a.password_hash, a.platform_admin, a.created_at
		from plinth.admin_sessions s join plinth.admins a on a.id = s.admin_id
		where s.token_hash = $1 and s.expires_at > now()`, HashSecret(token)).Scan(&a.ID, &a.Email, &a.PasswordHash, &a.PlatformAdmin, &a.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return a, err
}

// DeleteSession ends one admin session.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	_, err := s.Pool.Exec(ctx, `delete from plinth.admin_sessions where token_hash = $1`, HashSecret(token))
	return err
}

// MemberRole returns an admin's role in a project ("" if not a member).
func (s *Store) MemberRole(ctx context.Context, ref string, adminID uuid.UUID) (string, error) {
	var role string
	err := s.Pool.QueryRow(ctx, `select role from plinth.project_members where project_ref = $1 and admin_id = $2`, ref, adminID).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return role, err
}

// AddMember makes an admin a member of a project within tx.
func AddMember(ctx context.Context, tx pgx.Tx, ref string, adminID uuid.UUID, role string) error {
	_, err := tx.Exec(ctx, `insert into plinth.project_members (project_ref, admin_id, role) values ($1, $2, $3)
		on conflict (project_ref, admin_id) do update set role = excluded.role`, ref, adminID, role)
	return err
}
