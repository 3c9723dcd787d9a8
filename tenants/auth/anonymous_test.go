package auth_test

import (
	"net/http"
	"testing"
)

// TestAnonymousSignIns: off by default; when on, POST /signup without
// credentials (supabase-js signInAnonymously) makes an anonymous user who
// acts as authenticated with is_anonymous in its tokens, and who becomes a
// permanent user by adding an email (and then a password).
func TestAnonymousSignIns(t *testing.T) {
	t.Parallel()
	ts := start(t)
	c := newClient(t, ts, "anon-users")
	authError(t, c.do(t, "POST", "/signup", "", map[string]any{}), 422, "anonymous_provider_disabled")

	patchAuth(t, ts, "anon-users", map[string]any{"anonymous_sign_ins": true})
	s := decodeSession(t, c.do(t, "POST", "/signup", "", map[string]any{"data": map[string]any{"cart": 3}}))
	u := s.User
	if u["is_anonymous"] != true || u["email"] != "" || u["role"] != "authenticated" {
		t.Fatalf("anonymous user: %v", u)
	}
	if app, _ := u["app_metadata"].(map[string]any); app["provider"] != "anonymous" {
		t.Fatalf("app_metadata: %v", u["app_metadata"])
	}
	if ids, _ := u["identities"].([]any); len(ids) != 0 {
		t.Fatalf("identities: %v", u["identities"])
	}
	if meta, _ := u["user_metadata"].(map[string]any); meta["cart"] != float64(3) {
		t.Fatalf("user_metadata: %v", u["user_metadata"])
	}
	if v := claim(t, s.AccessToken, "is_anonymous"); v != "true" {
		t.Fatalf("is_anonymous claim %q", v)
	}
	if v := claim(t, s.AccessToken, "role"); v != "authenticated" {
		t.Fatalf("role claim %q", v)
	}
	// Each call is a new user; the session refreshes like any other.
	other := decodeSession(t, c.do(t, "POST", "/signup", "", map[string]any{}))
	if other.userID() == s.userID() {
		t.Fatal("two anonymous sign-ins gave one user")
	}
	s = decodeSession(t, c.refresh(t, s.RefreshToken))

	// A password needs an email first.
	authError(t, c.do(t, "PUT", "/user", s.AccessToken, map[string]any{"password": "now-permanent-1"}), 422, "validation_failed")
	res := c.do(t, "PUT", "/user", s.AccessToken, map[string]any{"email": "Kept@Example.com"})
	if res.Status != http.StatusOK {
		t.Fatalf("link email: %d %s", res.Status, res.Body)
	}
	res = c.do(t, "PUT", "/user", s.AccessToken, map[string]any{"password": "now-permanent-1"})
	if res.Status != http.StatusOK {
		t.Fatalf("set password: %d %s", res.Status, res.Body)
	}
	p := c.signIn(t, "kept@example.com", "now-permanent-1")
	if p.userID() != s.userID() || p.User["is_anonymous"] != false || p.User["email_confirmed_at"] == nil {
		t.Fatalf("after linking: %v", p.User)
	}
	if v := claim(t, p.AccessToken, "is_anonymous"); v != "false" {
		t.Fatalf("is_anonymous claim after linking %q", v)
	}
	if ids, _ := p.User["identities"].([]any); len(ids) != 1 {
		t.Fatalf("identities after linking: %v", p.User["identities"])
	}
	// The email is taken now.
	authError(t, c.do(t, "PUT", "/user", other.AccessToken, map[string]any{"email": "kept@example.com"}), 422, "email_exists")

	// Turned off again: no new anonymous users; existing ones keep working.
	patchAuth(t, ts, "anon-users", map[string]any{"anonymous_sign_ins": false})
	authError(t, c.do(t, "POST", "/signup", "", map[string]any{}), 422, "anonymous_provider_disabled")
	decodeSession(t, c.refresh(t, other.RefreshToken))
}
