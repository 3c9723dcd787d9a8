package auth_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/config"
	"github.com/plinth-dev/plinth/tenants/auth"
)

// TestRefreshRotation: a refresh token works once and is replaced; reused
// within refresh_reuse_seconds it still gets a session (two tabs); reused
// later it revokes the whole session.
func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	ts := start(t)
	c := newClient(t, ts, "rot")
	s0 := c.signUp(t, "r@example.com", "rotate-me")

	s1 := decodeSession(t, c.refresh(t, s0.RefreshToken))
	if s1.RefreshToken == s0.RefreshToken || s1.AccessToken == s0.AccessToken || s1.userID() != s0.userID() {
		t.Fatal("refresh must rotate the refresh token and issue a new access token")
	}
	// Same session: the session_id claim is kept.
	if sid := claim(t, s1.AccessToken, "session_id"); sid != claim(t, s0.AccessToken, "session_id") {
		t.Fatalf("session changed: %v", sid)
	}
	// Within the reuse window (default 10 s) the rotated token still works.
	s1b := decodeSession(t, c.refresh(t, s0.RefreshToken))
	if s1b.RefreshToken == s1.RefreshToken {
		t.Fatal("a reuse gets a token of its own")
	}
	// Two tabs refreshing with the same token at once both get a session.
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = c.refresh(t, s1.RefreshToken).Status
		}()
	}
	wg.Wait()
	if statuses[0] != 200 || statuses[1] != 200 {
		t.Fatalf("concurrent refreshes: %v", statuses)
	}

	// Outside the window (0 s here, rather than waiting 10), a reuse is
	// theft: it fails and revokes every token of the session.
	patchAuth(t, ts, "rot", map[string]any{"refresh_reuse_seconds": 0})
	authError(t, c.refresh(t, s0.RefreshToken), 400, "refresh_token_already_used")
	for _, tok := range []string{s1.RefreshToken, s1b.RefreshToken} {
		authError(t, c.refresh(t, tok), 400, "refresh_token_not_found")
	}
	authError(t, c.do(t, "GET", "/user", s1.AccessToken, nil), 403, "session_not_found")
	// Other sessions of the user are untouched.
	other := c.signIn(t, "r@example.com", "rotate-me")
	decodeSession(t, c.refresh(t, other.RefreshToken))

	authError(t, c.refresh(t, ""), 400, "validation_failed")
	authError(t, c.refresh(t, "not-a-token"), 400, "refresh_token_not_found")

	t.Run("expiry setting", func(t *testing.T) {
		patchAuth(t, ts, "rot", map[string]any{"jwt_expiry_seconds": 120})
		s := c.signIn(t, "r@example.com", "rotate-me")
		if s.ExpiresIn != 120 {
			t.Fatalf("expires_in %d", s.ExpiresIn)
		}
		exp, _ := strconv.ParseInt(claim(t, s.AccessToken, "exp"), 10, 64)
		if exp != s.ExpiresAt || exp > time.Now().Unix()+125 {
			t.Fatalf("exp %d, expires_at %d", exp, s.ExpiresAt)
		}
	})
}

// TestRevokedRefreshTokensExpire: a refresh deletes its session's tokens
// revoked more than a day ago (kept until then to catch replays).
func TestRevokedRefreshTokensExpire(t *testing.T) {
	t.Parallel()
	ts := start(t)
	c := newClient(t, ts, "prune")
	s0 := c.signUp(t, "p@example.com", "prune-me-1")
	s1 := decodeSession(t, c.refresh(t, s0.RefreshToken))
	s2 := decodeSession(t, c.refresh(t, s1.RefreshToken))
	table := "auth_" + superQuery[string](t, ts, `select schema_name from plinth.projects where ref = 'prune'`) + ".refresh_tokens"
	count := func() int64 { return superQuery[int64](t, ts, `select count(*) from `+table) }
	if n := count(); n != 3 {
		t.Fatalf("%d tokens after two refreshes, want 3", n)
	}
	// s0 was revoked two days ago, s1 just now.
	superQuery[int64](t, ts, `with u as (update `+table+` set updated_at = now() - interval '2 days' where token_hash = $1 returning 1) select count(*) from u`, auth.HashRefreshToken(s0.RefreshToken))
	decodeSession(t, c.refresh(t, s2.RefreshToken))
	if n := count(); n != 3 {
		t.Fatalf("%d tokens after the third refresh, want 3 (s0 pruned, s1 and s2 revoked, s3 live)", n)
	}
	// The pruned token is simply unknown now; the recent one still counts
	// as a replay.
	patchAuth(t, ts, "prune", map[string]any{"refresh_reuse_seconds": 0})
	authError(t, c.refresh(t, s0.RefreshToken), 400, "refresh_token_not_found")
	authError(t, c.refresh(t, s1.RefreshToken), 400, "refresh_token_already_used")
}

// TestLogoutScopes: local ends this session, others every other one,
// global all; a logged-out session's refresh token fails.
func TestLogoutScopes(t *testing.T) {
	t.Parallel()
	ts := start(t)
	c := newClient(t, ts, "bye")
	c.signUp(t, "l@example.com", "log-me-out")
	sign := func() *session { return c.signIn(t, "l@example.com", "log-me-out") }
	alive := func(s *session) bool {
		res := c.do(t, "GET", "/user", s.AccessToken, nil)
		if res.Status != 200 && res.Status != 403 {
			t.Fatalf("/user: %d %s", res.Status, res.Body)
		}
		return res.Status == 200
	}
	logout := func(s *session, scope string) {
		t.Helper()
		res := c.do(t, "POST", "/logout?scope="+scope, s.AccessToken, nil)
		if res.Status != http.StatusNoContent || len(res.Body) != 0 {
			t.Fatalf("logout %s: %d %s", scope, res.Status, res.Body)
		}
	}
	a, b, d := sign(), sign(), sign()
	logout(a, "others")
	if !alive(a) || alive(b) || alive(d) {
		t.Fatal("scope=others must end every session but this one")
	}
	authError(t, c.refresh(t, b.RefreshToken), 400, "refresh_token_not_found")
	decodeSession(t, c.refresh(t, a.RefreshToken))

	e := sign()
	logout(e, "local")
	if alive(e) || !alive(a) {
		t.Fatal("scope=local must end this session only")
	}
	authError(t, c.refresh(t, e.RefreshToken), 400, "refresh_token_not_found")

	f := sign()
	logout(f, "") // auth-js's default is global
	if alive(a) || alive(f) {
		t.Fatal("scope=global must end every session")
	}
	// Signing out again with the dead session's token: 403, which auth-js
	// ignores when it signs out.
	authError(t, c.do(t, "POST", "/logout", f.AccessToken, nil), 403, "session_not_found")

	authError(t, c.do(t, "POST", "/logout?scope=everything", sign().AccessToken, nil), 400, "validation_failed")
	authError(t, c.do(t, "POST", "/logout", "", nil), 401, "no_authorization")
	authError(t, c.do(t, "GET", "/user", "", nil), 401, "no_authorization")
}

// TestUpdateUser: PUT /user changes metadata, password and email.
func TestUpdateUser(t *testing.T) {
	t.Parallel()
	ts := start(t)
	c := newClient(t, ts, "upd")
	s := c.signUp(t, "u@example.com", "first-password")
	c.signUp(t, "taken@example.com", "first-password")

	put := func(body map[string]any) map[string]any {
		t.Helper()
		res := c.do(t, "PUT", "/user", s.AccessToken, body)
		if res.Status != 200 {
			t.Fatalf("PUT /user %v: %d %s", body, res.Status, res.Body)
		}
		var u map[string]any
		res.JSON(t, &u)
		return u
	}
	u := put(map[string]any{"data": map[string]any{"name": "Una", "theme": "dark"}})
	if md := u["user_metadata"].(map[string]any); md["name"] != "Una" || md["theme"] != "dark" {
		t.Fatalf("metadata %v", md)
	}
	// Keys merge; null removes one.
	u = put(map[string]any{"data": map[string]any{"theme": nil, "lang": "fr"}})
	if md := u["user_metadata"].(map[string]any); md["name"] != "Una" || md["lang"] != "fr" || md["theme"] != nil {
		t.Fatalf("metadata %v", md)
	}
	// The new metadata is in the next access token.
	s = decodeSession(t, c.refresh(t, s.RefreshToken))
	if !strings.Contains(claim(t, s.AccessToken, "user_metadata"), "Una") {
		t.Fatalf("user_metadata claim %s", claim(t, s.AccessToken, "user_metadata"))
	}

	authError(t, c.do(t, "PUT", "/user", s.AccessToken, map[string]any{"password": "first-password"}), 422, "same_password")
	authError(t, c.do(t, "PUT", "/user", s.AccessToken, map[string]any{"password": "short"}), 422, "weak_password")
	put(map[string]any{"password": "second-password"})
	authError(t, c.do(t, "POST", "/token?grant_type=password", "", map[string]any{"email": "u@example.com", "password": "first-password"}), 400, "invalid_credentials")
	c.signIn(t, "u@example.com", "second-password")

	authError(t, c.do(t, "PUT", "/user", s.AccessToken, map[string]any{"email": "TAKEN@example.com"}), 422, "email_exists")
	authError(t, c.do(t, "PUT", "/user", s.AccessToken, map[string]any{"email": "nope"}), 400, "validation_failed")
	if u = put(map[string]any{"email": "New@Example.com"}); u["email"] != "new@example.com" {
		t.Fatalf("email %v", u["email"])
	}
	c.signIn(t, "new@example.com", "second-password")
	authError(t, c.do(t, "PUT", "/user", s.AccessToken, map[string]any{"data": map[string]any{"big": strings.Repeat("x", 9000)}}), 422, "validation_failed")
	authError(t, c.do(t, "PUT", "/user", "", map[string]any{"data": map[string]any{}}), 401, "no_authorization")
}

// TestAuthAdmin covers /auth/v1/admin/users (supabase-js auth.admin with
// the service key), the admin API's users endpoints and the sign-up
// settings.
func TestAuthAdmin(t *testing.T) {
	t.Parallel()
	ts := start(t)
	c := newClient(t, ts, "adm")
	service := map[string]string{"apikey": c.p.ServiceKey, "Authorization": "Bearer " + c.p.ServiceKey}
	admin := func(method, path string, body any) *testserver.Response {
		return ts.Do(t, method, "/p/adm/auth/v1/admin"+path, service, body)
	}

	authError(t, c.do(t, "GET", "/admin/users", "", nil), 403, "not_admin")
	res := admin("POST", "/users", map[string]any{"email": "Made@Example.com", "password": "made-by-admin", "email_confirm": true, "user_metadata": map[string]any{"plan": "pro"}})
	if res.Status != 200 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	var made map[string]any
	res.JSON(t, &made)
	if made["email"] != "made@example.com" || made["email_confirmed_at"] == nil || made["user_metadata"].(map[string]any)["plan"] != "pro" {
		t.Fatalf("created %v", made)
	}
	c.signIn(t, "made@example.com", "made-by-admin")
	authError(t, admin("POST", "/users", map[string]any{"email": "made@example.com"}), 422, "email_exists")
	// Created unconfirmed: cannot sign in yet.
	admin("POST", "/users", map[string]any{"email": "pending@example.com", "password": "pending-user", "email_confirm": false})
	authError(t, c.do(t, "POST", "/token?grant_type=password", "", map[string]any{"email": "pending@example.com", "password": "pending-user"}), 400, "email_not_confirmed")
	// Created without a password: cannot sign in at all.
	admin("POST", "/users", map[string]any{"email": "nopass@example.com"})
	authError(t, c.do(t, "POST", "/token?grant_type=password", "", map[string]any{"email": "nopass@example.com", "password": ""}), 400, "invalid_credentials")

	res = admin("GET", "/users?page=1&per_page=2", nil)
	var page struct {
		Users []map[string]any `json:"users"`
		Aud   string           `json:"aud"`
	}
	res.JSON(t, &page)
	if res.Status != 200 || len(page.Users) != 2 || page.Aud != "authenticated" || res.Header.Get("X-Total-Count") != "3" ||
		!strings.Contains(res.Header.Get("Link"), `rel="next"`) || !strings.Contains(res.Header.Get("Link"), `rel="last"`) {
		t.Fatalf("list: %d %v %s", res.Status, res.Header, res.Body)
	}
	authError(t, admin("GET", "/users?per_page=0", nil), 400, "validation_failed")
	id := made["id"].(string)
	if res := admin("GET", "/users/"+id, nil); res.Status != 200 {
		t.Fatalf("get: %d %s", res.Status, res.Body)
	}

	// updateUserById: metadata merged (null removes a key), password and
	// email replaced; the old password and email stop working.
	res = admin("PUT", "/users/"+id, map[string]any{"password": "changed-by-admin", "email": "Moved@Example.com",
		"user_metadata": map[string]any{"plan": nil, "seats": 5}, "app_metadata": map[string]any{"tier": "gold", "provider": "forged"}})
	if res.Status != 200 {
		t.Fatalf("update: %d %s", res.Status, res.Body)
	}
	var upd map[string]any
	res.JSON(t, &upd)
	meta, app := upd["user_metadata"].(map[string]any), upd["app_metadata"].(map[string]any)
	if upd["email"] != "moved@example.com" || upd["email_confirmed_at"] == nil || meta["seats"] != float64(5) || meta["plan"] != nil ||
		app["tier"] != "gold" || app["provider"] != "email" {
		t.Fatalf("updated %v", upd)
	}
	authError(t, c.do(t, "POST", "/token?grant_type=password", "", map[string]any{"email": "made@example.com", "password": "made-by-admin"}), 400, "invalid_credentials")
	moved := c.signIn(t, "moved@example.com", "changed-by-admin")
	if moved.userID() != id {
		t.Fatal("signed in as another user")
	}
	// Re-sending the same email keeps it confirmed, even with auto_confirm off.
	patchAuth(t, ts, "adm", map[string]any{"auto_confirm": false})
	res = admin("PUT", "/users/"+id, map[string]any{"email": "moved@example.com"})
	res.JSON(t, &upd)
	if res.Status != 200 || upd["email_confirmed_at"] == nil {
		t.Fatalf("same email again: %d %s", res.Status, res.Body)
	}
	c.signIn(t, "moved@example.com", "changed-by-admin")
	patchAuth(t, ts, "adm", map[string]any{"auto_confirm": true})
	authError(t, admin("PUT", "/users/"+id, map[string]any{"email": "pending@example.com"}), 422, "email_exists")
	authError(t, admin("PUT", "/users/"+id, map[string]any{"password": "123"}), 422, "weak_password")
	authError(t, admin("PUT", "/users/00000000-0000-4000-8000-000000000000", map[string]any{"user_metadata": map[string]any{}}), 404, "user_not_found")
	authError(t, c.do(t, "PUT", "/admin/users/"+id, "", map[string]any{"user_metadata": map[string]any{}}), 403, "not_admin")
	if res := admin("DELETE", "/users/"+id, nil); res.Status != 200 || string(res.Body) != "{}" {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	authError(t, admin("GET", "/users/"+id, nil), 404, "user_not_found")
	authError(t, admin("DELETE", "/users/"+id, nil), 404, "user_not_found")
	authError(t, admin("DELETE", "/users/not-a-uuid", nil), 404, "user_not_found")

	t.Run("admin API", func(t *testing.T) {
		res := ts.Admin(t, "POST", "/projects/adm/users", map[string]any{"email": "Dash@Example.com", "password": "from-dashboard"})
		if res.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		var u map[string]any
		res.JSON(t, &u)
		c.signIn(t, "dash@example.com", "from-dashboard") // confirmed: auto_confirm is on
		res = ts.Admin(t, "POST", "/projects/adm/users", map[string]any{"email": "dash@example.com", "password": "from-dashboard"})
		if res.Status != http.StatusConflict {
			t.Fatalf("duplicate: %d %s", res.Status, res.Body)
		}
		res = ts.Admin(t, "POST", "/projects/adm/users", map[string]any{"email": "x@example.com", "password": "123"})
		if res.Status != http.StatusBadRequest {
			t.Fatalf("weak password: %d %s", res.Status, res.Body)
		}
		res = ts.Admin(t, "POST", "/projects/adm/users", map[string]any{"email": "x@example.com", "pasword": "typo-in-field"})
		if res.Status != http.StatusBadRequest {
			t.Fatalf("unknown field: %d %s", res.Status, res.Body)
		}
		for _, e := range []string{"one", "two", "three"} {
			ts.Admin(t, "POST", "/projects/adm/users", map[string]any{"email": e + "@search.test"})
		}
		res = ts.Admin(t, "GET", "/projects/adm/users?email=SEARCH.test&limit=2&offset=1", nil)
		var users []map[string]any
		res.JSON(t, &users)
		if res.Status != 200 || len(users) != 2 || res.Header.Get("Content-Range") != "1-2/3" {
			t.Fatalf("search: %d %s %s", res.Status, res.Header.Get("Content-Range"), res.Body)
		}
		for _, u := range users {
			if !strings.HasSuffix(u["email"].(string), "@search.test") {
				t.Fatalf("search matched %v", u["email"])
			}
		}
		if res := ts.Admin(t, "DELETE", "/projects/adm/users/"+u["id"].(string), nil); res.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", res.Status, res.Body)
		}
		if res := ts.Admin(t, "DELETE", "/projects/adm/users/"+u["id"].(string), nil); res.Status != http.StatusNotFound {
			t.Fatalf("delete again: %d %s", res.Status, res.Body)
		}
		var audit []map[string]any
		ts.Admin(t, "GET", "/projects/adm/audit", nil).JSON(t, &audit)
		if len(audit) < 2 || audit[0]["action"] != "user.delete" {
			t.Fatalf("audit %v", audit)
		}
	})

	t.Run("sign-up settings", func(t *testing.T) {
		patchAuth(t, ts, "adm", map[string]any{"auto_confirm": false})
		res := c.do(t, "POST", "/signup", "", map[string]any{"email": "later@example.com", "password": "confirm-later"})
		var u map[string]any
		res.JSON(t, &u)
		if res.Status != 200 || u["id"] == nil || u["access_token"] != nil || u["email_confirmed_at"] != nil {
			t.Fatalf("unconfirmed sign-up: %d %s", res.Status, res.Body)
		}
		authError(t, c.do(t, "POST", "/token?grant_type=password", "", map[string]any{"email": "later@example.com", "password": "confirm-later"}), 400, "email_not_confirmed")
		var st map[string]any
		c.do(t, "GET", "/settings", "", nil).JSON(t, &st)
		if st["mailer_autoconfirm"] != false {
			t.Fatalf("settings %v", st)
		}
		patchAuth(t, ts, "adm", map[string]any{"allow_signup": false})
		authError(t, c.do(t, "POST", "/signup", "", map[string]any{"email": "no@example.com", "password": "no-signups"}), 422, "signup_disabled")
	})
}

// TestKeysAcrossInstances: an instance that cached "no signing key" for a
// project learns of the key another instance made, through NOTIFY.
func TestKeysAcrossInstances(t *testing.T) {
	t.Parallel()
	ts1 := start(t)
	ts2 := testserver.StartOn(t, ts1.DB, noAuthLimits)
	c1 := newClient(t, ts1, "multi")
	c2 := &client{ts: ts2, p: c1.p}
	// Instance 2 sees a token before the project has any key, and caches
	// the empty key set.
	restError(t, c2.rest(t, "/nothing", "x.y.z"), 401, "PGRST301")
	s := c1.signUp(t, "m@example.com", "two-instances")
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := c2.do(t, "GET", "/user", s.AccessToken, nil)
		if res.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance 2 never accepted the new key: %d %s", res.Status, res.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// And both instances rotate the same refresh tokens.
	s2 := decodeSession(t, c2.refresh(t, s.RefreshToken))
	decodeSession(t, c1.refresh(t, s2.RefreshToken))
}

// claim returns one claim of a token, unverified, as text.
func claim(t *testing.T, tok, name string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	var m map[string]any
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	switch v := m[name].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatInt(int64(v), 10)
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// TestAuthRateLimited: the per-IP sign-in limit applies to sign-up and the
// password grant, answered in the auth API's error shape; the public JWKS
// and other auth calls are not counted against it.
func TestAuthRateLimited(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t, func(c *config.Config) {
		c.RateLimitSignin = config.RateSpec{Rate: 2, Period: time.Minute, Burst: 2}
	})
	c := newClient(t, ts, "limited")
	s := c.signUp(t, "l@example.com", "limit-me-please")
	c.signIn(t, "l@example.com", "limit-me-please")
	res := c.do(t, "POST", "/token?grant_type=password", "", map[string]any{"email": "l@example.com", "password": "limit-me-please"})
	code := codeOf(t, res)
	authError(t, res, http.StatusTooManyRequests, code) // GoTrue's shape, whatever the code
	if code == "" || res.Header.Get("Retry-After") == "" {
		t.Fatalf("429 without Retry-After: %v %s", res.Header, res.Body)
	}
	authError(t, c.do(t, "POST", "/signup", "", map[string]any{"email": "m@example.com", "password": "limit-me-please"}), http.StatusTooManyRequests, code)
	// Refresh and /user have limits of their own.
	decodeSession(t, c.refresh(t, s.RefreshToken))
	if res := c.do(t, "GET", "/user", s.AccessToken, nil); res.Status != 200 {
		t.Fatalf("/user: %d %s", res.Status, res.Body)
	}
}

func codeOf(t *testing.T, res *testserver.Response) string {
	t.Helper()
	var e map[string]any
	res.JSON(t, &e)
	code, _ := e["code"].(string)
	return code
}
