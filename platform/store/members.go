package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Member is an admin account's role in one project.
type Member struct {
	AdminID uuid.UUID `json:"admin_id"`
	Email   string    `json:"email"`
	Role    string    `json:"role"`
}

// ErrUnknownAdmin is returned when a membership names an admin account that
// does not exist; it wraps the email so the caller can say which.
var ErrUnknownAdmin = errors.New("no admin account")

// ErrLastOwner is returned when a change would leave a project that had an
// owner without one (its members could then no longer manage it).
var ErrLastOwner = errors.New("a project keeps at least one owner")

// Members lists a project's members ordered by email.
func (s *Store) Members(ctx context.Context, ref string) ([]Member, error) {
	rows, err := s.Pool.Query(ctx, `select a.id, a.email, m.role from plinth.project_members m
		join plinth.admins a on a.id = m.admin_id where m.project_ref = $1 order by a.email`, ref)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) {
		var m Member
		return m, r.Scan(&m.AdminID, &m.Email, &m.Role)
	})
	if out == nil {
		out = []Member{}
	}
	return out, err
}

// ReplaceMembers sets a project's whole member list (by email) in one
// transaction with its audit record. Unknown emails fail with
// ErrUnknownAdmin; dropping the last owner fails with ErrLastOwner.
func (s *Store) ReplaceMembers(ctx context.Context, ref string, want []Member, audit Audit) ([]Member, error) {
	err := s.Tx(ctx, func(tx pgx.Tx) error {
		// Lock the project row so two concurrent replacements cannot both
		// pass the last-owner check.
		var hadOwner bool
		err := tx.QueryRow(ctx, `select 1 from plinth.projects where ref = $1 for update`, ref).Scan(new(int))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `select exists (select 1 from plinth.project_members where project_ref = $1 and role = 'owner')`, ref).Scan(&hadOwner); err != nil {
			return err
		}
		ids := make([]uuid.UUID, 0, len(want))
		hasOwner := false
		for i, m := range want {
			err := tx.QueryRow(ctx, `select id from plinth.admins where email = $1`, NormalizeEmail(m.Email)).Scan(&want[i].AdminID)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("%w: %s", ErrUnknownAdmin, NormalizeEmail(m.Email))
			}
			if err != nil {
				return err
			}
			ids = append(ids, want[i].AdminID)
			hasOwner = hasOwner || m.Role == "owner"
		}
		if hadOwner && !hasOwner {
			return ErrLastOwner
		}
		if _, err := tx.Exec(ctx, `delete from plinth.project_members where project_ref = $1 and not (admin_id = any($2))`, ref, ids); err != nil {
			return err
		}
		for _, m := range want {
			if err := AddMember(ctx, tx, ref, m.AdminID, m.Role); err != nil {
				return err
			}
		}
		return WriteAudit(ctx, tx, audit)
	})
	if err != nil {
		return nil, err
	}
	return s.Members(ctx, ref)
}

// Admins lists admin accounts ordered by email, with the total.
func (s *Store) Admins(ctx context.Context, limit, offset int) ([]*Admin, int, error) {
	var total int
	if err := s.Pool.QueryRow(ctx, `select count(*) from plinth.admins`).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.Pool.Query(ctx, `select id, email, platform_admin, created_at from plinth.admins order by email limit $1 offset $2`, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Admin, error) {
		a := &Admin{}
		return a, r.Scan(&a.ID, &a.Email, &a.PlatformAdmin, &a.CreatedAt)
	})
	return out, total, err
}
