package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/provision"
)

// User is one end user of a project.
type User struct {
	ID               uuid.UUID
	Aud              string
	Role             string
	Email            string
	Phone            string
	EmailConfirmedAt *time.Time
	LastSignInAt     *time.Time
	AppMetadata      map[string]any
	UserMetadata     map[string]any
	IsAnonymous      bool
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Identities       []Identity

	passwordHash string // never rendered
}

// Identity links a user to a sign-in provider (only "email" for now).
type Identity struct {
	ID           uuid.UUID
	UserID       uuid.UUID
	Provider     string
	ProviderID   string
	Data         map[string]any
	LastSignInAt *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// querier is what pgxpool.Pool and pgx.Tx share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// tables are a project's auth tables, schema-qualified and quoted.
type tables struct{ users, identities, sessions, refreshTokens string }

func tablesOf(p *store.Project) tables {
	s := provision.AuthSchema(p.Schema)
	q := func(t string) string { return pgx.Identifier{s, t}.Sanitize() }
	return tables{users: q("users"), identities: q("identities"), sessions: q("sessions"), refreshTokens: q("refresh_tokens")}
}

var errUserNotFound = errors.New("user not found")

const userCols = `id, aud, role, coalesce(email, ''), coalesce(phone, ''), email_confirmed_at, last_sign_in_at,
	raw_app_meta_data, raw_user_meta_data, is_anonymous, created_at, updated_at, coalesce(encrypted_password, '')`

func scanUser(row pgx.Row) (*User, error) {
	u := &User{}
	var app, meta []byte
	err := row.Scan(&u.ID, &u.Aud, &u.Role, &u.Email, &u.Phone, &u.EmailConfirmedAt, &u.LastSignInAt,
		&app, &meta, &u.IsAnonymous, &u.CreatedAt, &u.UpdatedAt, &u.passwordHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errUserNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(app, &u.AppMetadata); err != nil {
		return nil, fmt.Errorf("user %s app metadata: %w", u.ID, err)
	}
	if err := json.Unmarshal(meta, &u.UserMetadata); err != nil {
		return nil, fmt.Errorf("user %s user metadata: %w", u.ID, err)
	}
	return u, nil
}

func userByEmail(ctx context.Context, q querier, t tables, email string) (*User, error) {
	return scanUser(q.QueryRow(ctx, `select `+userCols+` from `+t.users+` where email = $1`, email))
}

func userByID(ctx context.Context, q querier, t tables, id uuid.UUID, forUpdate bool) (*User, error) {
	sql := `select ` + userCols + ` from ` + t.users + ` where id = $1`
	if forUpdate {
		sql += ` for no key update`
	}
	return scanUser(q.QueryRow(ctx, sql, id))
}

// withIdentities loads the identities of users in one query.
func withIdentities(ctx context.Context, q querier, t tables, users ...*User) error {
	if len(users) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(users))
	byID := make(map[uuid.UUID]*User, len(users))
	for i, u := range users {
		ids[i] = u.ID
		byID[u.ID] = u
		u.Identities = []Identity{}
	}
	rows, err := q.Query(ctx, `select id, user_id, provider, provider_id, identity_data, last_sign_in_at, created_at, updated_at
		from `+t.identities+` where user_id = any($1) order by created_at, id`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var i Identity
		var data []byte
		if err := rows.Scan(&i.ID, &i.UserID, &i.Provider, &i.ProviderID, &data, &i.LastSignInAt, &i.CreatedAt, &i.UpdatedAt); err != nil {
			return err
		}
		if err := json.Unmarshal(data, &i.Data); err != nil {
			return fmt.Errorf("identity %s: %w", i.ID, err)
		}
		if u := byID[i.UserID]; u != nil {
			u.Identities = append(u.Identities, i)
		}
	}
	return rows.Err()
}

// newUser is a user row about to be inserted.
type newUser struct {
	Anonymous    bool // no email, password or identity
	Email        string
	PasswordHash string
	Confirmed    bool
	SignedIn     bool
	AppMetadata  map[string]any
	UserMetadata map[string]any
}

// insertUser adds a user and its email identity; it returns nil, nil when
// the email is taken.
func insertUser(ctx context.Context, tx pgx.Tx, t tables, n newUser) (*User, error) {
	id := uuid.New()
	provider := "email"
	if n.Anonymous {
		provider = "anonymous"
	}
	app := map[string]any{"provider": provider, "providers": []string{provider}}
	for k, v := range n.AppMetadata {
		if k != "provider" && k != "providers" {
			app[k] = v
		}
	}
	meta := n.UserMetadata
	if meta == nil {
		meta = map[string]any{}
	}
	appJSON, err := json.Marshal(app)
	if err != nil {
		return nil, err
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	u, err := scanUser(tx.QueryRow(ctx, `insert into `+t.users+`
		(id, email, encrypted_password, email_confirmed_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data, is_anonymous)
		values ($1, nullif($2, ''), nullif($3, ''), case when $4 then now() end, case when $5 then now() end, $6, $7, $8)
		on conflict (email) do nothing
		returning `+userCols, id, n.Email, n.PasswordHash, n.Confirmed, n.SignedIn, appJSON, metaJSON, n.Anonymous))
	if errors.Is(err, errUserNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !n.Anonymous {
		if err := insertEmailIdentity(ctx, tx, t, id, n.Email, n.Confirmed, n.SignedIn); err != nil {
			return nil, err
		}
	}
	return u, withIdentities(ctx, tx, t, u)
}

// insertEmailIdentity records a user's email identity. GoTrue uses the user
// id as its provider id.
func insertEmailIdentity(ctx context.Context, tx pgx.Tx, t tables, id uuid.UUID, email string, confirmed, signedIn bool) error {
	data, err := json.Marshal(map[string]any{"sub": id.String(), "email": email, "email_verified": confirmed, "phone_verified": false})
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `insert into `+t.identities+` (id, user_id, provider, provider_id, identity_data, last_sign_in_at)
		values ($1, $2, 'email', $3, $4, case when $5 then now() end)`, uuid.New(), id, id.String(), data, signedIn)
	return err
}

// newSession starts a session with its first refresh token and returns both.
func newSession(ctx context.Context, tx pgx.Tx, t tables, userID uuid.UUID, userAgent string) (uuid.UUID, string, error) {
	sid := uuid.New()
	if _, err := tx.Exec(ctx, `insert into `+t.sessions+` (id, user_id, user_agent) values ($1, $2, $3)`, sid, userID, nullIfEmpty(userAgent)); err != nil {
		return uuid.Nil, "", err
	}
	tok := NewRefreshToken()
	if _, err := tx.Exec(ctx, `insert into `+t.refreshTokens+` (token_hash, session_id) values ($1, $2)`, HashRefreshToken(tok), sid); err != nil {
		return uuid.Nil, "", err
	}
	return sid, tok, nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
