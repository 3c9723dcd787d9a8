package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plinth-dev/plinth/platform/seal"
	"github.com/plinth-dev/plinth/platform/store"
)

// Keys keeps each project's signing keys: stored in plinth.auth_signing_keys
// with the private key sealed by PLINTH_SECRET_KEY, cached per instance, and
// dropped from the cache by Invalidate (wired to NOTIFY plinth_project, which
// is also sent when a project's first key is made). A project without keys
// is cached too, so forged tokens for it cost no query.
type Keys struct {
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	cache  *lru.LRU[string, *KeySet]
	// verified remembers tokens that passed Verify: the data API sees the
	// same access token on every request of a session, and an ES256
	// verification costs far more than the lookup (BenchmarkVerify).
	verified *lru.LRU[string, verifiedToken]
}

// verifiedToken is a cached verification, valid while the project's key
// set is the one it was checked against and the token has not expired.
type verifiedToken struct {
	set    *KeySet
	issuer string
	v      *Verified
}

// NewKeys makes a key store caching up to size projects; entries also expire
// after ttl, a backstop should a notification be lost.
func NewKeys(pool *pgxpool.Pool, sealer *seal.Sealer, size int, ttl time.Duration) *Keys {
	return &Keys{pool: pool, sealer: sealer, cache: lru.NewLRU[string, *KeySet](size, nil, ttl),
		verified: lru.NewLRU[string, verifiedToken](verifiedCacheSize, nil, ttl)}
}

// Set returns a project's keys; Active is nil if it has none yet.
func (k *Keys) Set(ctx context.Context, ref string) (*KeySet, error) {
	if s, ok := k.cache.Get(ref); ok {
		return s, nil
	}
	s, err := k.load(ctx, ref)
	if err != nil {
		return nil, err
	}
	k.cache.Add(ref, s)
	return s, nil
}

// Signing returns the project's active key, making its first one if needed.
func (k *Keys) Signing(ctx context.Context, ref string) (*SigningKey, error) {
	s, err := k.Set(ctx, ref)
	if err != nil {
		return nil, err
	}
	if s.Active != nil {
		return s.Active, nil
	}
	if err := k.create(ctx, ref); err != nil {
		return nil, err
	}
	k.cache.Remove(ref)
	if s, err = k.Set(ctx, ref); err != nil {
		return nil, err
	}
	if s.Active == nil {
		return nil, fmt.Errorf("project %s: no active signing key after creating one", ref)
	}
	return s.Active, nil
}

// verifiedCacheSize bounds the verified-token cache (a few MB at most).
const verifiedCacheSize = 20000

// Verify is Verify with a cache of tokens already verified against the
// same key set: a cached token is still refused once it expires, and a
// reloaded key set (Invalidate, rotation) verifies every token afresh.
func (k *Keys) Verify(ref, token string, set *KeySet, issuer string, now time.Time) (*Verified, error) {
	ck := ref + "\x00" + token
	if e, ok := k.verified.Get(ck); ok && e.set == set && e.issuer == issuer {
		if !now.Before(e.v.ExpiresAt) { // as jwt: valid strictly before exp
			return nil, ErrTokenExpired
		}
		return e.v, nil
	}
	v, err := Verify(token, set, issuer, now)
	if err != nil {
		return nil, err
	}
	k.verified.Add(ck, verifiedToken{set: set, issuer: issuer, v: v})
	return v, nil
}

// Invalidate forgets a project's keys on this instance.
func (k *Keys) Invalidate(ref string) { k.cache.Remove(ref) }

// Purge forgets every project's keys (after the listener reconnects).
func (k *Keys) Purge() { k.cache.Purge() }

func keyAAD(ref, kid string) []byte { return []byte("auth-signing-key\x00" + ref + "\x00" + kid) }

func (k *Keys) load(ctx context.Context, ref string) (*KeySet, error) {
	rows, err := k.pool.Query(ctx, `select kid, public_key, private_key, retired_at is null
		from plinth.auth_signing_keys where project_ref = $1`, ref)
	if err != nil {
		return nil, fmt.Errorf("load signing keys of %s: %w", ref, err)
	}
	defer rows.Close()
	s := &KeySet{ByKID: map[string]*ecdsa.PublicKey{}}
	for rows.Next() {
		var kid string
		var pubDER, sealed []byte
		var active bool
		if err := rows.Scan(&kid, &pubDER, &sealed, &active); err != nil {
			return nil, err
		}
		pub, err := parsePublic(pubDER)
		if err != nil {
			return nil, fmt.Errorf("signing key %s of %s: %w", kid, ref, err)
		}
		s.ByKID[kid] = pub
		if !active {
			continue
		}
		der, err := k.sealer.Open(sealed, keyAAD(ref, kid))
		if err != nil {
			return nil, fmt.Errorf("signing key %s of %s: %w", kid, ref, err)
		}
		priv, err := parsePrivate(der)
		if err != nil {
			return nil, fmt.Errorf("signing key %s of %s: %w", kid, ref, err)
		}
		s.Active = &SigningKey{KID: kid, Public: pub, Private: priv}
	}
	return s, rows.Err()
}

// create stores a new active key unless another instance made one first
// (the partial unique index allows one active key per project).
func (k *Keys) create(ctx context.Context, ref string) error {
	key, err := NewSigningKey()
	if err != nil {
		return err
	}
	pub, err := marshalPublic(key.Public)
	if err != nil {
		return err
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key.Private)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, k.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `insert into plinth.auth_signing_keys (project_ref, kid, public_key, private_key)
			values ($1, $2, $3, $4) on conflict (project_ref) where retired_at is null do nothing`,
			ref, key.KID, pub, k.sealer.Seal(priv, keyAAD(ref, key.KID)))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		// Other instances may have cached "no keys" for this project.
		return store.Notify(ctx, tx, store.ChannelProject, ref)
	})
	if err != nil {
		return fmt.Errorf("create signing key for %s: %w", ref, err)
	}
	return nil
}
