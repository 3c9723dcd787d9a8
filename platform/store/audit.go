package store

import (
	"context"
	"encoding/json"
	"time"
)

// Audit is one admin change: who did what to which target.
type Audit struct {
	ID         int64     `json:"id"`
	ProjectRef string    `json:"project_ref,omitempty"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	Target     string    `json:"target"`
	Detail     any       `json:"detail"`
	At         time.Time `json:"at"`
}

// WriteAudit appends an audit record within the change's own transaction, so
// a change and its record commit or fail together.
func WriteAudit(ctx context.Context, q Execer, a Audit) error {
	detail := a.Detail
	if detail == nil {
		detail = map[string]any{}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	var ref *string
	if a.ProjectRef != "" {
		ref = &a.ProjectRef
	}
	_, err = q.Exec(ctx, `insert into plinth.audit_log (project_ref, actor, action, target, detail) values ($1, $2, $3, $4, $5)`,
		ref, a.Actor, a.Action, a.Target, b)
	return err
}

// AuditLog lists a project's audit records, newest first.
func (s *Store) AuditLog(ctx context.Context, ref string, limit, offset int) ([]Audit, int, error) {
	var total int
	if err := s.Pool.QueryRow(ctx, `select count(*) from plinth.audit_log where project_ref = $1`, ref).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.Pool.Query(ctx, `select id, coalesce(project_ref, ''), actor, action, target, detail, at
		from plinth.audit_log where project_ref = $1 order by id desc limit $2 offset $3`, ref, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Audit{}
	for rows.Next() {
		var a Audit
		var detail []byte
		if err := rows.Scan(&a.ID, &a.ProjectRef, &a.Actor, &a.Action, &a.Target, &detail, &a.At); err != nil {
			return nil, 0, err
		}
		a.Detail = json.RawMessage(detail)
		out = append(out, a)
	}
	return out, total, rows.Err()
}
