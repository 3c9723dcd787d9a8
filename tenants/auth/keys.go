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

// retiredKeyKeep is how long a retired key keeps verifying: the longest
// access-token lifetime a project may set (jwt_expiry_seconds).
const retiredKeyKeep = 7 * 24 * time.Hour

// Rotate makes a new signing key active. Tokens signed with the previous
// keys stay valid until they expire (a retired key verifies for
// retiredKeyKeep, then goes), unless revokePrevious removes them at once:
// after a leak, every access token issued so far is refused and clients
// must refresh. Every instance reloads the key set through NOTIFY.
func (k *Keys) Rotate(ctx context.Context, ref string, revokePrevious bool, audit store.Audit) (string, error) {
	row, err := k.newKeyRow(ref)
	if err != nil {
		return "", err
	}
	err = pgx.BeginFunc(ctx, k.pool, func(tx pgx.Tx) error {
		// Concurrent rotations of a project take turns (each would
		// otherwise retire the other's key, or meet the one-active index).
		if _, err := tx.Exec(ctx, `select 1 from plinth.projects where ref = $1 for update`, ref); err != nil {
			return err
		}
		if revokePrevious {
			if _, err := tx.Exec(ctx, `delete from plinth.auth_signing_keys where project_ref = $1`, ref); err != nil {
				return err
			}
		} else {
			if _, err := tx.Exec(ctx, `update plinth.auth_signing_keys set retired_at = now() where project_ref = $1 and retired_at is null`, ref); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `delete from plinth.auth_signing_keys where project_ref = $1 and retired_at < now() - make_interval(secs => $2)`,
				ref, retiredKeyKeep.Seconds()); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `insert into plinth.auth_signing_keys (project_ref, kid, public_key, private_key) values ($1, $2, $3, $4)`,
			ref, row.kid, row.pub, row.sealed); err != nil {
			return err
		}
		if err := store.WriteAudit(ctx, tx, audit); err != nil {
			return err
		}
		return store.Notify(ctx, tx, store.ChannelProject, ref)
	})
	if err != nil {
		return "", fmt.Errorf("rotate signing key of %s: %w", ref, err)
	}
	k.Invalidate(ref)
	return row.kid, nil
}

// KeyInfo describes a stored signing key (never its private half).
type KeyInfo struct {
	KID       string     `json:"kid"`
	Alg       string     `json:"alg"`
	Active    bool       `json:"active"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at"`
}

// List returns a project's signing keys, the active one first.
func (k *Keys) List(ctx context.Context, ref string) ([]KeyInfo, error) {
	rows, err := k.pool.Query(ctx, `select kid, alg, retired_at is null, created_at, retired_at from plinth.auth_signing_keys
		where project_ref = $1 order by retired_at is null desc, created_at desc`, ref)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (KeyInfo, error) {
		var ki KeyInfo
		err := r.Scan(&ki.KID, &ki.Alg, &ki.Active, &ki.CreatedAt, &ki.RetiredAt)
		return ki, err
	})
}

func keyAAD(ref, kid string) []byte { return []byte("auth-signing-key\x00" + ref + "\x00" + kid) }

func (k *Keys) load(ctx context.Context, ref string) (*KeySet, error) {
	// A retired key verifies for retiredKeyKeep, whether or not another
	// rotation has removed it yet.
	rows, err := k.pool.Query(ctx, `select kid, public_key, private_key, retired_at is null
		from plinth.auth_signing_keys
		where project_ref = $1 and (retired_at is null or retired_at > now() - make_interval(secs => $2))`, ref, retiredKeyKeep.Seconds())
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

// keyRow is a new key as stored: its kid, public key and sealed private key.
type keyRow struct {
	kid         string
	pub, sealed []byte
}

func (k *Keys) newKeyRow(ref string) (keyRow, error) {
	key, err := NewSigningKey()
	if err != nil {
		return keyRow{}, err
	}
	pub, err := marshalPublic(key.Public)
	if err != nil {
		return keyRow{}, err
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key.Private)
	if err != nil {
		return keyRow{}, err
	}
	return keyRow{kid: key.KID, pub: pub, sealed: k.sealer.Seal(priv, keyAAD(ref, key.KID))}, nil
}

// create stores a new active key unless another instance made one first
// (the partial unique index allows one active key per project).
func (k *Keys) create(ctx context.Context, ref string) error {
	row, err := k.newKeyRow(ref)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, k.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `insert into plinth.auth_signing_keys (project_ref, kid, public_key, private_key)
			values ($1, $2, $3, $4) on conflict (project_ref) where retired_at is null do nothing`,
			ref, row.kid, row.pub, row.sealed)
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
