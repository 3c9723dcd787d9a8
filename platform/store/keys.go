package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"math/big"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Key roles.
const (
	RoleAnon        = "anon"
	RoleServiceRole = "service_role"
)

// APIKey is a project key as the admin API shows it. Key is set only when it
// may be shown: always for anon, once at minting for service_role.
type APIKey struct {
	ID         uuid.UUID  `json:"id"`
	ProjectRef string     `json:"-"`
	Role       string     `json:"role"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Key        string     `json:"key,omitempty"`
}

const keyAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// RandomString returns n characters of base62 from crypto/rand.
func RandomString(n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(keyAlphabet)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b[i] = keyAlphabet[v.Int64()]
	}
	return string(b)
}

// HashSecret is how keys and tokens are stored: SHA-256 is enough for
// 238-bit random secrets (no dictionary to attack).
func HashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// NewKey mints a key for a role inside tx and returns it with its secret.
func NewKey(ctx context.Context, tx pgx.Tx, ref, role string) (*APIKey, error) {
	kind := "pub"
	if role == RoleServiceRole {
		kind = "sec"
	}
	secret := "pl_" + kind + "_" + RandomString(40)
	k := &APIKey{ID: uuid.New(), ProjectRef: ref, Role: role, Prefix: secret[:12], Key: secret}
	var plain *string
	if role == RoleAnon {
		plain = &secret
	}
	err := tx.QueryRow(ctx, `insert into plinth.api_keys (id, project_ref, role, prefix, key_hash, key_plain)
		values ($1, $2, $3, $4, $5, $6) returning created_at`,
		k.ID, ref, role, k.Prefix, HashSecret(secret), plain).Scan(&k.CreatedAt)
	return k, err
}

// Keys lists a project's keys, newest first, anon keys with their value.
func (s *Store) Keys(ctx context.Context, ref string) ([]*APIKey, error) {
	rows, err := s.Pool.Query(ctx, `select id, role, prefix, created_at, revoked_at, coalesce(key_plain, '')
		from plinth.api_keys where project_ref = $1 order by created_at desc, id`, ref)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*APIKey{}
	for rows.Next() {
		k := &APIKey{ProjectRef: ref}
		if err := rows.Scan(&k.ID, &k.Role, &k.Prefix, &k.CreatedAt, &k.RevokedAt, &k.Key); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// KeyByHash finds a live key by the hash of its secret.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (*APIKey, error) {
	k := &APIKey{}
	err := s.Pool.QueryRow(ctx, `select id, project_ref, role, prefix, created_at from plinth.api_keys
		where key_hash = $1 and revoked_at is null`, hash).Scan(&k.ID, &k.ProjectRef, &k.Role, &k.Prefix, &k.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return k, err
}

// RevokeKey marks a key revoked and tells every instance to forget it.
func (s *Store) RevokeKey(ctx context.Context, ref string, id uuid.UUID, audit Audit) error {
	return s.Tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `update plinth.api_keys set revoked_at = now()
			where project_ref = $1 and id = $2 and revoked_at is null`, ref, id)
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

// MintKey creates a key outside provisioning.
func (s *Store) MintKey(ctx context.Context, ref, role string, audit Audit) (*APIKey, error) {
	var k *APIKey
	err := s.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		if k, err = NewKey(ctx, tx, ref, role); err != nil {
			return err
		}
		audit.Detail = map[string]any{"id": k.ID, "role": role, "prefix": k.Prefix}
		return WriteAudit(ctx, tx, audit)
	})
	return k, err
}
