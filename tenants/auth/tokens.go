package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/plinth-dev/plinth/platform/store"
)

// Audience and role of every access token this package mints.
const (
	Audience          = "authenticated"
	RoleAuthenticated = "authenticated"
	signingAlg        = "ES256"
)

// Token verification failures. Callers map them to HTTP (PostgREST's
// PGRST303 for an expired token, PGRST301 for any other; GoTrue's bad_jwt).
var (
	ErrTokenExpired = errors.New("JWT expired")
	ErrTokenInvalid = errors.New("invalid JWT")
)

// SigningKey is one ES256 key of a project. Private is nil for keys loaded
// only to verify.
type SigningKey struct {
	KID     string
	Public  *ecdsa.PublicKey
	Private *ecdsa.PrivateKey
}

// NewSigningKey generates a P-256 key with a random kid.
func NewSigningKey() (*SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	return &SigningKey{KID: uuid.NewString(), Public: &priv.PublicKey, Private: priv}, nil
}

// KeySet is a project's keys: the active one signs, all verify.
type KeySet struct {
	Active *SigningKey // nil until the project's first key is made
	ByKID  map[string]*ecdsa.PublicKey
}

// Issuer is the iss claim of a project's tokens (DESIGN.md §6).
func Issuer(publicURL, ref string) string { return publicURL + "/p/" + ref + "/auth/v1" }

// AccessClaims are what an access token says about its user and session.
type AccessClaims struct {
	Issuer       string
	UserID       string
	SessionID    string
	Email        string
	Phone        string
	AppMetadata  map[string]any
	UserMetadata map[string]any
	IsAnonymous  bool
	IssuedAt     time.Time
	ExpiresAt    time.Time
}

// map renders the claims with GoTrue's names; aud is a plain string, as
// GoTrue writes it.
func (a *AccessClaims) mapClaims() jwt.MapClaims {
	app, user := a.AppMetadata, a.UserMetadata
	if app == nil {
		app = map[string]any{}
	}
	if user == nil {
		user = map[string]any{}
	}
	return jwt.MapClaims{
		"iss": a.Issuer, "sub": a.UserID, "aud": Audience, "role": RoleAuthenticated,
		"iat": a.IssuedAt.Unix(), "exp": a.ExpiresAt.Unix(),
		"email": a.Email, "phone": a.Phone, "session_id": a.SessionID,
		"app_metadata": app, "user_metadata": user, "aal": "aal1", "is_anonymous": a.IsAnonymous,
	}
}

// Sign makes an ES256 access token with the key's kid in its header.
func Sign(key *SigningKey, c *AccessClaims) (string, error) {
	if key == nil || key.Private == nil {
		return "", errors.New("sign access token: no private key")
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c.mapClaims())
	t.Header["kid"] = key.KID
	s, err := t.SignedString(key.Private)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return s, nil
}

// Verified is an access token that passed Verify. It may be shared by
// concurrent requests (Keys.Verify caches it): treat it as read-only.
type Verified struct {
	UserID    string
	SessionID string
	ExpiresAt time.Time
	Claims    map[string]any // every claim
	// ClaimsJSON is Claims rendered once, for request.jwt.claims: a cached
	// verification serves every request of a session.
	ClaimsJSON string
}

// Verify checks an access token against a project's keys and issuer: ES256
// only (so "none" and HS256-with-the-public-key are refused before any key
// is looked at), a kid of this project, a valid signature, then the claims
// (exp required, aud, iss, a uuid sub, the authenticated role). The
// signature is checked before the claims, so a forged token is reported as
// invalid even when it is also expired.
func Verify(token string, keys *KeySet, issuer string, now time.Time) (*Verified, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{signingAlg}),
		jwt.WithExpirationRequired(),
		jwt.WithAudience(Audience),
		jwt.WithIssuer(issuer),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	claims := jwt.MapClaims{}
	_, err := p.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("no kid in the JWT header")
		}
		if keys != nil {
			if k := keys.ByKID[kid]; k != nil {
				return k, nil
			}
		}
		return nil, errors.New("no key of this project has that kid")
	})
	if errors.Is(err, jwt.ErrTokenExpired) {
		return nil, ErrTokenExpired
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	sub, _ := claims["sub"].(string)
	if _, err := uuid.Parse(sub); err != nil {
		return nil, fmt.Errorf("%w: sub is not a user id", ErrTokenInvalid)
	}
	if role, _ := claims["role"].(string); role != RoleAuthenticated {
		return nil, fmt.Errorf("%w: role must be %q", ErrTokenInvalid, RoleAuthenticated)
	}
	sid, _ := claims["session_id"].(string)
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return nil, fmt.Errorf("%w: bad exp", ErrTokenInvalid)
	}
	text, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrTokenInvalid, err)
	}
	return &Verified{UserID: sub, SessionID: sid, ExpiresAt: exp.Time, Claims: claims, ClaimsJSON: string(text)}, nil
}

// JWK is a public key in JWKS form (RFC 7517/7518).
type JWK struct {
	KTY    string   `json:"kty"`
	CRV    string   `json:"crv"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
	KID    string   `json:"kid"`
	Alg    string   `json:"alg"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
}

// JWKS renders a key set's public keys.
func JWKS(keys *KeySet) ([]JWK, error) {
	out := []JWK{}
	if keys == nil {
		return out, nil
	}
	for kid, pub := range keys.ByKID {
		raw, err := pub.Bytes() // 0x04 || X || Y
		if err != nil || len(raw) != 65 {
			return nil, fmt.Errorf("encode key %s: %w", kid, err)
		}
		enc := base64.RawURLEncoding
		out = append(out, JWK{KTY: "EC", CRV: "P-256", X: enc.EncodeToString(raw[1:33]), Y: enc.EncodeToString(raw[33:]),
			KID: kid, Alg: signingAlg, Use: "sig", KeyOps: []string{"verify"}})
	}
	return out, nil
}

func marshalPublic(pub *ecdsa.PublicKey) ([]byte, error) { return x509.MarshalPKIXPublicKey(pub) }

func parsePublic(der []byte) (*ecdsa.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("stored key is %T, not ECDSA", k)
	}
	return pub, nil
}

func parsePrivate(der []byte) (*ecdsa.PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	priv, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("stored key is %T, not ECDSA", k)
	}
	return priv, nil
}

// refreshTokenLen gives ~238 bits of entropy in base62.
const refreshTokenLen = 40

// NewRefreshToken returns an opaque refresh token; only its hash is stored.
func NewRefreshToken() string { return store.RandomString(refreshTokenLen) }

// HashRefreshToken is how refresh tokens are stored and looked up.
func HashRefreshToken(t string) []byte { return store.HashSecret(t) }
