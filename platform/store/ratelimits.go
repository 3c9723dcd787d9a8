package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// RateLimitRule is one stored rate-limit rule of a project (DESIGN.md §7.4).
// Scope "" covers every data and auth request of the role; "signin",
// "refresh" and "otp" cover those auth endpoints only. The platform/ratelimit
// package gives the fields their meaning and validates them.
type RateLimitRule struct {
	Scope         string `json:"scope,omitempty"`
	Role          string `json:"role"`
	Per           string `json:"per"`
	Rate          int    `json:"rate"`
	PeriodSeconds int    `json:"period_seconds"`
	Burst         int    `json:"burst"`
}

// RateLimits returns a project's rules in the order they were saved.
func (s *Store) RateLimits(ctx context.Context, ref string) ([]RateLimitRule, error) {
	rows, err := s.Pool.Query(ctx, `select scope, role, per, rate, period_seconds, burst
		from plinth.rate_limits where project_ref = $1 order by position`, ref)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RateLimitRule{}
	for rows.Next() {
		var r RateLimitRule
		if err := rows.Scan(&r.Scope, &r.Role, &r.Per, &r.Rate, &r.PeriodSeconds, &r.Burst); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReplaceRateLimits swaps a project's rules for rules in one transaction,
// audits the change and tells every instance to drop its cached copy.
func (s *Store) ReplaceRateLimits(ctx context.Context, ref string, rules []RateLimitRule, audit Audit) error {
	return s.Tx(ctx, func(tx pgx.Tx) error {
		// Lock the project row: a concurrent delete either happens first
		// (ErrNotFound) or waits for this transaction.
		var one int
		if err := tx.QueryRow(ctx, `select 1 from plinth.projects where ref = $1 for key share`, ref).Scan(&one); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		if _, err := tx.Exec(ctx, `delete from plinth.rate_limits where project_ref = $1`, ref); err != nil {
			return err
		}
		for i, r := range rules {
			if _, err := tx.Exec(ctx, `insert into plinth.rate_limits (project_ref, position, scope, role, per, rate, period_seconds, burst)
				values ($1, $2, $3, $4, $5, $6, $7, $8)`, ref, i, r.Scope, r.Role, r.Per, r.Rate, r.PeriodSeconds, r.Burst); err != nil {
				return err
			}
		}
		if err := WriteAudit(ctx, tx, audit); err != nil {
			return err
		}
		return Notify(ctx, tx, ChannelLimits, ref)
	})
}
