package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/plinth-dev/plinth/platform/apierror"
)

const testIssuer = "http://127.0.0.1:8080/p/demo/auth/v1"

func testKey(t *testing.T) (*SigningKey, *KeySet) {
	t.Helper()
	k, err := NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return k, &KeySet{Active: k, ByKID: map[string]*ecdsa.PublicKey{k.KID: k.Public}}
}

func testClaims(now time.Time) *AccessClaims {
	return &AccessClaims{Issuer: testIssuer, UserID: uuid.NewString(), SessionID: uuid.NewString(), Email: "a@example.com",
		AppMetadata: map[string]any{"provider": "email"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
}

func segments(t *testing.T, tok string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, payload
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestSignVerifyClaims(t *testing.T) {
	t.Parallel()
	key, set := testKey(t)
	now := time.Now()
	c := testClaims(now)
	tok, err := Sign(key, c)
	if err != nil {
		t.Fatal(err)
	}
	h, p := segments(t, tok)
	if h["alg"] != "ES256" || h["kid"] != key.KID || h["typ"] != "JWT" {
		t.Fatalf("header %v", h)
	}
	// The claims DESIGN.md §6 lists, aud as a plain string as GoTrue writes it.
	for _, k := range []string{"iss", "sub", "aud", "role", "exp", "iat", "email", "session_id", "app_metadata", "user_metadata", "aal", "is_anonymous"} {
		if _, ok := p[k]; !ok {
			t.Errorf("claim %s missing: %v", k, p)
		}
	}
	if p["aud"] != "authenticated" || p["role"] != "authenticated" || p["iss"] != testIssuer || p["aal"] != "aal1" {
		t.Fatalf("claims %v", p)
	}
	v, err := Verify(tok, set, testIssuer, now)
	if err != nil {
		t.Fatal(err)
	}
	if v.UserID != c.UserID || v.SessionID != c.SessionID || v.Claims["email"] != "a@example.com" {
		t.Fatalf("verified %+v", v)
	}
}

func TestVerifyRefusesForgeries(t *testing.T) {
	t.Parallel()
	key, set := testKey(t)
	other, otherSet := testKey(t)
	now := time.Now()
	good, err := Sign(key, testClaims(now))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	header, payload := segments(t, good)

	// Another key (another project's) signing a token with this key's kid.
	impostor := &SigningKey{KID: key.KID, Public: other.Public, Private: other.Private}
	stolenKID, err := Sign(impostor, testClaims(now))
	if err != nil {
		t.Fatal(err)
	}
	otherProject, err := Sign(other, testClaims(now))
	if err != nil {
		t.Fatal(err)
	}
	// alg none, with and without a signature.
	noneHeader := encodeSegment(t, map[string]any{"alg": "none", "typ": "JWT", "kid": key.KID})
	// HS256 keyed with the public key, the classic algorithm confusion.
	der, err := x509.MarshalPKIXPublicKey(key.Public)
	if err != nil {
		t.Fatal(err)
	}
	var confused []string
	for _, secret := range [][]byte{der, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})} {
		h := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(payload))
		h.Header["kid"] = key.KID
		s, err := h.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		confused = append(confused, s)
	}
	// Tampered claims: another user, the service role, a later expiry.
	tamper := func(k string, v any) string {
		p := map[string]any{}
		for kk, vv := range payload {
			p[kk] = vv
		}
		p[k] = v
		return parts[0] + "." + encodeSegment(t, p) + "." + parts[2]
	}
	noKID := map[string]any{}
	for k, v := range header {
		if k != "kid" {
			noKID[k] = v
		}
	}
	wrongIss := testClaims(now)
	wrongIss.Issuer = "http://127.0.0.1:8080/p/other/auth/v1"
	wrongIssTok, err := Sign(key, wrongIss)
	if err != nil {
		t.Fatal(err)
	}

	cases := map[string]string{
		"other project's key":         otherProject,
		"other key, this kid":         stolenKID,
		"alg none":                    noneHeader + "." + parts[1] + ".",
		"alg none with a signature":   noneHeader + "." + parts[1] + "." + parts[2],
		"HS256 with public key (DER)": confused[0],
		"HS256 with public key (PEM)": confused[1],
		"tampered sub":                tamper("sub", uuid.NewString()),
		"tampered role":               tamper("role", "service_role"),
		"tampered exp":                tamper("exp", now.Add(24*time.Hour).Unix()),
		"header without kid":          encodeSegment(t, noKID) + "." + parts[1] + "." + parts[2],
		"other issuer":                wrongIssTok,
		"garbage":                     "a.b.c",
		"empty":                       "",
		"truncated signature":         parts[0] + "." + parts[1] + "." + parts[2][:10],
	}
	for name, tok := range cases {
		if _, err := Verify(tok, set, testIssuer, now); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("%s: err = %v, want ErrTokenInvalid", name, err)
		}
	}
	// The other project's token verifies against its own keys only.
	if _, err := Verify(otherProject, otherSet, testIssuer, now); err != nil {
		t.Fatalf("control: %v", err)
	}
	// A project without keys verifies nothing.
	if _, err := Verify(good, &KeySet{}, testIssuer, now); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("empty key set: %v", err)
	}
}

func TestVerifyExpiry(t *testing.T) {
	t.Parallel()
	key, set := testKey(t)
	now := time.Now()
	tok, err := Sign(key, testClaims(now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(tok, set, testIssuer, now.Add(time.Hour+time.Second)); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired: %v", err)
	}
	// An expired forgery is reported as invalid, not as expired: the
	// signature is checked first.
	_, otherSet := testKey(t)
	if _, err := Verify(tok, &KeySet{ByKID: map[string]*ecdsa.PublicKey{key.KID: otherSet.Active.Public}}, testIssuer, now.Add(2*time.Hour)); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("expired forgery: %v", err)
	}
	// A token without exp is refused.
	h := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": testIssuer, "aud": "authenticated", "sub": uuid.NewString(), "role": "authenticated"})
	h.Header["kid"] = key.KID
	noExp, err := h.SignedString(key.Private)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(noExp, set, testIssuer, now); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("no exp: %v", err)
	}
}

func TestJWKSVerifiesTokens(t *testing.T) {
	t.Parallel()
	key, set := testKey(t)
	keys, err := JWKS(set)
	if err != nil || len(keys) != 1 {
		t.Fatalf("jwks %v %v", keys, err)
	}
	j := keys[0]
	if j.KTY != "EC" || j.CRV != "P-256" || j.Alg != "ES256" || j.KID != key.KID || j.Use != "sig" {
		t.Fatalf("jwk %+v", j)
	}
	// Rebuild the public key from x and y alone, as a verifier would.
	x, err1 := base64.RawURLEncoding.DecodeString(j.X)
	y, err2 := base64.RawURLEncoding.DecodeString(j.Y)
	if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
		t.Fatalf("coordinates: %v %v", err1, err2)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Sign(key, testClaims(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(tok, &KeySet{ByKID: map[string]*ecdsa.PublicKey{j.KID: pub}}, testIssuer, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshTokensAreOpaqueAndUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		tok := NewRefreshToken()
		if len(tok) != refreshTokenLen || seen[tok] || strings.ContainsAny(tok, ".=+/") {
			t.Fatalf("refresh token %q", tok)
		}
		seen[tok] = true
	}
	if string(HashRefreshToken("a")) == "a" || len(HashRefreshToken("a")) != 32 {
		t.Fatal("refresh tokens must be stored hashed")
	}
}

func TestPasswordRules(t *testing.T) {
	t.Parallel()
	code := func(err error) (int, string) {
		var ae *apierror.Error
		if !errors.As(err, &ae) {
			return 0, ""
		}
		return ae.Status, ae.Code
	}
	for _, tc := range []struct {
		pw     string
		status int
		code   string
	}{
		{"", http.StatusUnprocessableEntity, CodeValidationFailed},
		{"abcde", http.StatusUnprocessableEntity, CodeWeakPassword},
		{"abcdef", 0, ""},
		// Six characters of more than one byte each count as six.
		{"пароль", 0, ""},
		{"🔑🔑🔑🔑🔑", http.StatusUnprocessableEntity, CodeWeakPassword},
		{"🔑🔑🔑🔑🔑🔑", 0, ""},
		{strings.Repeat("a", 1024), 0, ""},
		{strings.Repeat("a", 1025), http.StatusUnprocessableEntity, CodeValidationFailed},
		// NFKC can grow a string: U+FDFA becomes 18 characters.
		{strings.Repeat("\ufdfa", 300), http.StatusUnprocessableEntity, CodeValidationFailed},
		{"abc\xffdef", http.StatusUnprocessableEntity, CodeValidationFailed},
	} {
		_, err := checkNewPassword(tc.pw)
		if s, c := code(err); s != tc.status || c != tc.code {
			t.Errorf("%.20q: got %d %s (%v), want %d %s", tc.pw, s, c, err, tc.status, tc.code)
		}
	}
	// Composed and decomposed accents are one password.
	a, err1 := checkNewPassword("caf\u00e9-secret")
	b, err2 := checkNewPassword("cafe\u0301-secret")
	if err1 != nil || err2 != nil || a != b {
		t.Fatalf("NFKC: %q %q %v %v", a, b, err1, err2)
	}
	// weak_password carries GoTrue's reasons for auth-js.
	_, err := checkNewPassword("abc")
	var ae *apierror.Error
	if !errors.As(err, &ae) {
		t.Fatal(err)
	}
	body := ae.GoTrue()
	if wp, _ := body["weak_password"].(map[string]any); wp == nil || len(wp["reasons"].([]string)) != 1 || body["code"] != "weak_password" || body["msg"] == nil {
		t.Fatalf("weak_password body %v", body)
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Alice@Example.COM":   "alice@example.com",
		"  bob@example.com  ": "bob@example.com",
		"x+tag@sub.example":   "x+tag@sub.example",
		"user@localhost":      "user@localhost",
	} {
		if got, err := normalizeEmail(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "no-at-sign", "a@", "@b.c", "Alice <a@b.c>", "a b@c.d", "a@b.c, d@e.f", strings.Repeat("a", 250) + "@b.com"} {
		if _, err := normalizeEmail(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestKeysVerifyCache(t *testing.T) {
	t.Parallel()
	key, set := testKey(t)
	k := NewKeys(nil, nil, 10, time.Minute)
	now := time.Now()
	c := testClaims(now)
	tok, err := Sign(key, c)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := k.Verify("demo", tok, set, testIssuer, now)
	if err != nil {
		t.Fatal(err)
	}
	// Cached: the same result, until the token expires.
	if v2, err := k.Verify("demo", tok, set, testIssuer, now.Add(time.Minute)); err != nil || v2 != v1 {
		t.Fatalf("cache miss or error: %v", err)
	}
	if _, err := k.Verify("demo", tok, set, testIssuer, c.ExpiresAt); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("cached token past exp: %v", err)
	}
	// Another project, issuer or key set never reuses the entry.
	if _, err := k.Verify("demo", tok, set, "http://elsewhere/p/demo/auth/v1", now); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("other issuer: %v", err)
	}
	_, otherSet := testKey(t)
	if _, err := k.Verify("demo", tok, otherSet, testIssuer, now); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("reloaded key set without the key: %v", err)
	}
	if _, err := k.Verify("other", tok, otherSet, testIssuer, now); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("other project: %v", err)
	}
	// Failures are not cached as successes.
	if _, err := k.Verify("demo", tok+"x", set, testIssuer, now); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("tampered: %v", err)
	}
}
