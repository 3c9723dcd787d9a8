package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Project is one tenant's metadata row.
type Project struct {
	Ref         string    `json:"ref"`
	Name        string    `json:"name"`
	Schema      string    `json:"schema"`
	LoginRole   string    `json:"-"`
	LoginSecret []byte    `json:"-"`
	Settings    Settings  `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
}

// Settings are a project's tunables (DESIGN.md §4). Absent fields take the
// platform defaults, so older rows keep working when settings are added.
type Settings struct {
	CORSOrigins   []string     `json:"cors_origins"`
	MaxRows       *int         `json:"max_rows"`
	Auth          AuthSettings `json:"auth"`
	RateLimitFail string       `json:"rate_limit_fail,omitempty"`
}

// AuthSettings configure a project's end-user auth.
type AuthSettings struct {
	AutoConfirm         *bool `json:"auto_confirm,omitempty"`
	AllowSignup         *bool `json:"allow_signup,omitempty"`
	JWTExpirySeconds    *int  `json:"jwt_expiry_seconds,omitempty"`
	RefreshReuseSeconds *int  `json:"refresh_reuse_seconds,omitempty"`
	// AnonymousSignIns lets POST /signup without credentials create an
	// anonymous user (supabase-js signInAnonymously); off by default.
	AnonymousSignIns *bool `json:"anonymous_sign_ins,omitempty"`
}

// DefaultSettings is what a new project starts with.
func DefaultSettings() Settings {
	return Settings{CORSOrigins: []string{"*"}}
}

const projectCols = `ref, name, schema_name, login_role, login_secret, settings, created_at`

func scanProject(row pgx.Row) (*Project, error) {
	var p Project
	var settings []byte
	if err := row.Scan(&p.Ref, &p.Name, &p.Schema, &p.LoginRole, &p.LoginSecret, &settings, &p.CreatedAt); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	p.Settings = DefaultSettings()
	if err := json.Unmarshal(settings, &p.Settings); err != nil {
		return nil, fmt.Errorf("project %s settings: %w", p.Ref, err)
	}
	return &p, nil
}

// InsertProject writes the metadata row inside the provisioning transaction.
func InsertProject(ctx context.Context, tx pgx.Tx, p *Project) error {
	settings, err := json.Marshal(p.Settings)
	if err != nil {
		return err
	}
	err = tx.QueryRow(ctx, `insert into plinth.projects (ref, name, schema_name, login_role, login_secret, settings)
		values ($1, $2, $3, $4, $5, $6) returning created_at`,
		p.Ref, p.Name, p.Schema, p.LoginRole, p.LoginSecret, settings).Scan(&p.CreatedAt)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return ErrConflict
	}
	return err
}

// Project loads one project.
func (s *Store) Project(ctx context.Context, ref string) (*Project, error) {
	return scanProject(s.Pool.QueryRow(ctx, `select `+projectCols+` from plinth.projects where ref = $1`, ref))
}

// Projects lists projects ordered by ref. With member set, only projects that
// admin is a member of.
func (s *Store) Projects(ctx context.Context, member *string, limit, offset int) ([]*Project, int, error) {
	var total int
	if err := s.Pool.QueryRow(ctx, `select count(*) from plinth.projects p
		where $1::uuid is null or exists (select 1 from plinth.project_members m where m.project_ref = p.ref and m.admin_id = $1::uuid)`, member).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.Pool.Query(ctx, `select `+projectCols+` from plinth.projects p
		where $1::uuid is null or exists (select 1 from plinth.project_members m where m.project_ref = p.ref and m.admin_id = $1::uuid)
		order by ref limit $2 offset $3`, member, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, p)
	}
	return out, total, rows.Err()
}

// UpdateSettings replaces a project's settings and tells every instance.
func (s *Store) UpdateSettings(ctx context.Context, ref string, st Settings, audit Audit) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return s.Tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `update plinth.projects set settings = $2 where ref = $1`, ref, b)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		if err := WriteAudit(ctx, tx, audit); err != nil {
			return err
		}
		return Notify(ctx, tx, ChannelProject, ref)
	})
}
