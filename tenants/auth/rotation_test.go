package auth_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/internal/testserver"
)

// kidOf reads a token's key id from its header.
func kidOf(t *testing.T, tok string) string {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(h, &m); err != nil {
		t.Fatal(err)
	}
	return m.KID
}

// TestSigningKeyRotation: a rotation signs new tokens with a new key while
// the old one keeps verifying what it signed; with revoke_previous every
// earlier token is refused at once (here and on another instance), and
// refresh tokens still get new sessions.
func TestSigningKeyRotation(t *testing.T) {
	t.Parallel()
	ts := start(t)
	ts2 := testserver.StartOn(t, ts.DB, noAuthLimits)
	c := newClient(t, ts, "rotkeys")
	c2 := &client{ts: ts2, p: c.p}
	s0 := c.signUp(t, "k@example.com", "rotate-keys-1")
	kid0 := kidOf(t, s0.AccessToken)
	if res := c2.do(t, "GET", "/user", s0.AccessToken, nil); res.Status != http.StatusOK {
		t.Fatalf("instance 2 before rotation: %d %s", res.Status, res.Body)
	}

	res := ts.Admin(t, "POST", "/projects/rotkeys/auth/signing-keys/rotate", nil)
	var rot struct {
		KID string `json:"kid"`
	}
	res.JSON(t, &rot)
	if res.Status != http.StatusOK || rot.KID == "" || rot.KID == kid0 {
		t.Fatalf("rotate: %d %s", res.Status, res.Body)
	}
	s1 := c.signIn(t, "k@example.com", "rotate-keys-1")
	if kidOf(t, s1.AccessToken) != rot.KID {
		t.Fatal("a token after rotation is not signed with the new key")
	}
	// The old token still works, on both instances; the JWKS has both keys.
	for _, cl := range []*client{c, c2} {
		eventually(t, "old and new tokens accepted", func() bool {
			return cl.do(t, "GET", "/user", s0.AccessToken, nil).Status == http.StatusOK &&
				cl.do(t, "GET", "/user", s1.AccessToken, nil).Status == http.StatusOK
		})
	}
	jwks := string(ts.Do(t, "GET", "/p/rotkeys/auth/v1/.well-known/jwks.json", nil, nil).Body)
	if !strings.Contains(jwks, kid0) || !strings.Contains(jwks, rot.KID) {
		t.Fatalf("JWKS lacks a key: %s", jwks)
	}
	var keys []struct {
		KID    string `json:"kid"`
		Active bool   `json:"active"`
	}
	ts.Admin(t, "GET", "/projects/rotkeys/auth/signing-keys", nil).JSON(t, &keys)
	if len(keys) != 2 || !keys[0].Active || keys[0].KID != rot.KID || keys[1].Active {
		t.Fatalf("signing keys: %+v", keys)
	}

	// A retired key stops verifying after the longest token lifetime, even
	// if no later rotation has removed it.
	superQuery[int64](t, ts, `with u as (update plinth.auth_signing_keys set retired_at = now() - interval '8 days' where kid = $1 returning 1) select count(*) from u`, kid0)
	patchAuth(t, ts, "rotkeys", map[string]any{"jwt_expiry_seconds": 3600}) // any project change drops cached keys
	if res := c.do(t, "GET", "/user", s0.AccessToken, nil); res.Status != http.StatusForbidden {
		t.Fatalf("a token of a key retired 8 days ago: %d %s", res.Status, res.Body)
	}

	// After a leak: revoke everything signed so far, everywhere.
	if res := ts.Admin(t, "POST", "/projects/rotkeys/auth/signing-keys/rotate", map[string]any{"revoke_previous": true}); res.Status != http.StatusOK {
		t.Fatalf("rotate and revoke: %d %s", res.Status, res.Body)
	}
	for _, cl := range []*client{c, c2} {
		eventually(t, "earlier tokens refused", func() bool {
			return cl.do(t, "GET", "/user", s0.AccessToken, nil).Status == http.StatusForbidden &&
				cl.rest(t, "/nothing", s1.AccessToken).Status == http.StatusUnauthorized
		})
	}
	s2 := decodeSession(t, c.refresh(t, s1.RefreshToken))
	if res := c2.do(t, "GET", "/user", s2.AccessToken, nil); res.Status != http.StatusOK {
		t.Fatalf("a refreshed token after revocation: %d %s", res.Status, res.Body)
	}
	ts.Admin(t, "GET", "/projects/rotkeys/auth/signing-keys", nil).JSON(t, &keys)
	if len(keys) != 1 {
		t.Fatalf("%d keys after revoking the previous ones", len(keys))
	}
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
