package auth_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/tenants/auth"
)

// TestSignUpAndSignIn covers the GoTrue contract of sign-up, sign-in and
// /user, the password edge cases, and that no secret reaches the logs.
func TestSignUpAndSignIn(t *testing.T) {
	t.Parallel()
	ts := start(t)
	c := newClient(t, ts, "shop")
	var secrets []string

	s := c.signUp(t, "Alice@Example.com", "correct horse")
	secrets = append(secrets, "correct horse", s.AccessToken, s.RefreshToken)
	if s.TokenType != "bearer" || s.ExpiresIn != 3600 || s.ExpiresAt < time.Now().Unix()+3500 || s.ExpiresAt > time.Now().Unix()+3700 {
		t.Fatalf("session %+v", s)
	}
	u := s.User
	for _, k := range []string{"id", "aud", "role", "email", "email_confirmed_at", "phone", "confirmed_at", "last_sign_in_at",
		"app_metadata", "user_metadata", "identities", "created_at", "updated_at", "is_anonymous"} {
		if _, ok := u[k]; !ok {
			t.Errorf("user lacks %q: %v", k, u)
		}
	}
	if u["email"] != "alice@example.com" || u["aud"] != "authenticated" || u["role"] != "authenticated" || u["is_anonymous"] != false {
		t.Fatalf("user %v", u)
	}
	if app := u["app_metadata"].(map[string]any); app["provider"] != "email" {
		t.Fatalf("app_metadata %v", app)
	}
	if ids := u["identities"].([]any); len(ids) != 1 || ids[0].(map[string]any)["provider"] != "email" {
		t.Fatalf("identities %v", ids)
	}
	if _, err := uuid.Parse(s.userID()); err != nil {
		t.Fatal(err)
	}

	// The access token carries the claims of DESIGN.md §6.
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(s.AccessToken, claims); err != nil {
		t.Fatal(err)
	}
	if claims["iss"] != ts.Cfg.PublicURL+"/p/shop/auth/v1" || claims["sub"] != s.userID() || claims["aud"] != "authenticated" ||
		claims["role"] != "authenticated" || claims["email"] != "alice@example.com" || claims["session_id"] == "" || claims["aal"] != "aal1" {
		t.Fatalf("claims %v", claims)
	}

	// GET /user with the access token.
	res := c.do(t, "GET", "/user", s.AccessToken, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("/user: %d %s", res.Status, res.Body)
	}
	var me map[string]any
	res.JSON(t, &me)
	if me["id"] != s.userID() || me["email"] != "alice@example.com" {
		t.Fatalf("/user %v", me)
	}
	if bytes.Contains(res.Body, []byte("password")) || bytes.Contains(res.Body, []byte("argon2")) {
		t.Fatalf("user JSON leaks the password hash: %s", res.Body)
	}
	// X-Supabase-Api-Version is echoed, so auth-js reads codes from "code".
	if v := res.Header.Get("X-Supabase-Api-Version"); v != apiVersion {
		t.Fatalf("X-Supabase-Api-Version %q", v)
	}

	// Duplicate sign-up, whatever the case of the address.
	for _, e := range []string{"alice@example.com", "ALICE@example.COM"} {
		authError(t, c.do(t, "POST", "/signup", "", map[string]any{"email": e, "password": "another one"}), 422, "user_already_exists")
	}

	// Sign in, with the address in any case.
	s2 := c.signIn(t, "ALICE@example.com", "correct horse")
	secrets = append(secrets, s2.AccessToken, s2.RefreshToken)
	if s2.userID() != s.userID() || s2.RefreshToken == s.RefreshToken {
		t.Fatal("sign-in should start a new session of the same user")
	}
	// A wrong password and an unknown email get the very same answer.
	wrong := c.do(t, "POST", "/token?grant_type=password", "", map[string]any{"email": "alice@example.com", "password": "wrong horse"})
	unknown := c.do(t, "POST", "/token?grant_type=password", "", map[string]any{"email": "nobody@example.com", "password": "wrong horse"})
	authError(t, wrong, 400, "invalid_credentials")
	authError(t, unknown, 400, "invalid_credentials")
	if !bytes.Equal(wrong.Body, unknown.Body) {
		t.Fatalf("bodies differ:\n%s\n%s", wrong.Body, unknown.Body)
	}
	for _, body := range []map[string]any{
		{"email": "alice@example.com", "password": ""},
		{"email": "alice@example.com"},
		{"email": "alice@example.com", "password": strings.Repeat("x", 1<<20)},
		{"email": "not an address", "password": "correct horse"},
	} {
		authError(t, c.do(t, "POST", "/token?grant_type=password", "", body), 400, "invalid_credentials")
	}
	authError(t, c.do(t, "POST", "/token?grant_type=password", "", map[string]any{"password": "x"}), 400, "validation_failed")
	authError(t, c.do(t, "POST", "/token?grant_type=password", "", "{not json"), 400, "bad_json")
	authError(t, c.do(t, "POST", "/token?grant_type=magic", "", map[string]any{}), 400, "unsupported_grant_type")
	authError(t, c.do(t, "POST", "/signup", "", "[1,2]"), 400, "bad_json")
	authError(t, c.do(t, "POST", "/signup", "", map[string]any{"password": "abcdefgh"}), 422, "anonymous_provider_disabled")
	authError(t, c.do(t, "POST", "/signup", "", map[string]any{"email": "x@y", "password": "abcdefgh", "data": "nope"}), 400, "bad_json")
	authError(t, c.do(t, "POST", "/signup", "", map[string]any{"email": "no-at", "password": "abcdefgh"}), 400, "validation_failed")

	t.Run("password edge cases", func(t *testing.T) {
		authError(t, c.do(t, "POST", "/signup", "", map[string]any{"email": "e1@example.com", "password": ""}), 422, "validation_failed")
		weak := authError(t, c.do(t, "POST", "/signup", "", map[string]any{"email": "e2@example.com", "password": "12345"}), 422, "weak_password")
		if wp, _ := weak["weak_password"].(map[string]any); wp == nil || len(wp["reasons"].([]any)) == 0 {
			t.Fatalf("weak_password lacks reasons: %v", weak)
		}
		authError(t, c.do(t, "POST", "/signup", "", map[string]any{"email": "e3@example.com", "password": strings.Repeat("p", 1025)}), 422, "validation_failed")
		// Exactly at the limit works, and so do NUL bytes and emoji.
		long := strings.Repeat("p", 1023) + "\x00"
		c.signUp(t, "e4@example.com", long)
		c.signIn(t, "e4@example.com", long)
		authError(t, c.do(t, "POST", "/token?grant_type=password", "", map[string]any{"email": "e4@example.com", "password": strings.Repeat("p", 1023)}), 400, "invalid_credentials")
		c.signUp(t, "e5@example.com", "🔑🔐🗝️🔒🔓🔏")
		c.signIn(t, "e5@example.com", "🔑🔐🗝️🔒🔓🔏")
		// Unicode: an accent typed precomposed signs in when typed decomposed.
		c.signUp(t, "e6@example.com", "mot de passe \u00e9t\u00e9")
		c.signIn(t, "e6@example.com", "mot de passe e\u0301te\u0301")
		authError(t, c.do(t, "POST", "/token?grant_type=password", "", map[string]any{"email": "e6@example.com", "password": "mot de passe ete"}), 400, "invalid_credentials")
		secrets = append(secrets, "mot de passe", "🔑🔐")
	})

	t.Run("settings and keys", func(t *testing.T) {
		res := c.do(t, "GET", "/settings", "", nil)
		var st map[string]any
		res.JSON(t, &st)
		if res.Status != 200 || st["disable_signup"] != false || st["mailer_autoconfirm"] != true || st["external"].(map[string]any)["email"] != true {
			t.Fatalf("settings %d %s", res.Status, res.Body)
		}
		// The JWKS is public (no key) and lists the key that signed the tokens.
		for _, path := range []string{"/.well-known/jwks.json", "/jwks"} {
			res := ts.Do(t, "GET", "/p/shop/auth/v1"+path, nil, nil)
			var jwks struct {
				Keys []map[string]any `json:"keys"`
			}
			res.JSON(t, &jwks)
			hdr := strings.Split(s.AccessToken, ".")[0]
			b, _ := base64.RawURLEncoding.DecodeString(hdr)
			var h map[string]any
			_ = json.Unmarshal(b, &h)
			if res.Status != 200 || len(jwks.Keys) != 1 || jwks.Keys[0]["kid"] != h["kid"] || jwks.Keys[0]["alg"] != "ES256" || jwks.Keys[0]["d"] != nil {
				t.Fatalf("%s: %d %s", path, res.Status, res.Body)
			}
		}
		// Everything else needs the project's key.
		res = ts.Do(t, "POST", "/p/shop/auth/v1/signup", nil, map[string]any{"email": "k@example.com", "password": "abcdefgh"})
		authError(t, res, 401, "PL401")
		res = ts.Do(t, "GET", "/p/shop/auth/v1/user", map[string]string{"Authorization": "Bearer " + s.AccessToken}, nil)
		authError(t, res, 401, "PL401")
		other := ts.CreateProject(t, "other")
		res = ts.Do(t, "POST", "/p/shop/auth/v1/signup", map[string]string{"apikey": other.AnonKey}, map[string]any{"email": "k@example.com", "password": "abcdefgh"})
		authError(t, res, 401, "PL401")
		// The same email is a different user in another project.
		o := &client{ts: ts, p: other}
		if os := o.signUp(t, "alice@example.com", "other horse"); os.userID() == s.userID() {
			t.Fatal("users are per project")
		}
		authError(t, o.do(t, "POST", "/token?grant_type=password", "", map[string]any{"email": "alice@example.com", "password": "correct horse"}), 400, "invalid_credentials")
		// A refresh token of one project is unknown to another.
		authError(t, o.refresh(t, s2.RefreshToken), 400, "refresh_token_not_found")
	})

	t.Run("secrets never reach the logs", func(t *testing.T) {
		logs := ts.Logs.String()
		if !strings.Contains(logs, "/auth/v1/token") {
			t.Fatalf("expected request logs, got:\n%.2000s", logs)
		}
		for _, sec := range secrets {
			if strings.Contains(logs, sec) {
				t.Errorf("secret %.12q… found in logs", sec)
			}
		}
		for _, sec := range []string{c.p.ServiceKey, "argon2id$"} {
			if strings.Contains(logs, sec) {
				t.Errorf("%.12q… found in logs", sec)
			}
		}
		// The stored refresh tokens are hashes, never the tokens.
		n := superQuery[int](t, ts, `select count(*) from auth_`+c.p.Schema+`.refresh_tokens where token_hash = convert_to($1, 'UTF8')`, s.RefreshToken)
		if n != 0 {
			t.Fatal("a refresh token is stored in the clear")
		}
	})
}

// TestAccessTokensOnDataAPI drives the data API with user tokens: the right
// rows under a Supabase-style RLS policy, and 401 for every forgery.
func TestAccessTokensOnDataAPI(t *testing.T) {
	t.Parallel()
	ts := start(t)
	a := newClient(t, ts, "alpha")
	b := newClient(t, ts, "beta")
	auth1 := "auth_" + a.p.Schema
	ts.SQL(t, "alpha", `
		create table todos (
			id serial primary key,
			owner uuid not null default auth.uid() references `+auth1+`.users(id) on delete cascade,
			title text not null
		);
		alter table todos enable row level security;
		create policy own_todos on todos to authenticated using (owner = auth.uid()) with check (owner = auth.uid());
		create table audit_trail (id serial primary key, who uuid references `+auth1+`.users(id));
		create function my_claims() returns jsonb language sql stable as $$ select auth.jwt() $$;`)
	if res := ts.Admin(t, "PUT", "/projects/alpha/rules", map[string]any{
		"policies": []map[string]any{
			{"role": "authenticated", "table": "todos", "action": "select", "condition": ""},
			{"role": "authenticated", "table": "rpc:my_claims", "action": "execute", "condition": ""},
		},
	}); res.Status != http.StatusOK {
		t.Fatalf("rules: %d %s", res.Status, res.Body)
	}
	ann := a.signUp(t, "ann@example.com", "ann-password")
	betaUser := b.signUp(t, "ann@example.com", "ann-password") // the same person in project beta
	bob := a.signUp(t, "bob@example.com", "bob-password")
	ts.SQL(t, "alpha", `insert into todos (owner, title) values
		('`+ann.userID()+`', 'ann 1'), ('`+ann.userID()+`', 'ann 2'), ('`+bob.userID()+`', 'bob 1')`)

	titles := func(res *testserver.Response) []string {
		t.Helper()
		if res.Status != http.StatusOK {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		var rows []struct {
			Title string `json:"title"`
		}
		res.JSON(t, &rows)
		var out []string
		for _, r := range rows {
			out = append(out, r.Title)
		}
		return out
	}
	if got := titles(a.rest(t, "/todos?select=title&order=id", ann.AccessToken)); strings.Join(got, ",") != "ann 1,ann 2" {
		t.Fatalf("ann sees %v", got)
	}
	if got := titles(a.rest(t, "/todos?select=title&order=id", bob.AccessToken)); strings.Join(got, ",") != "bob 1" {
		t.Fatalf("bob sees %v", got)
	}

	t.Run("auth.jwt() is the token's claims", func(t *testing.T) {
		for _, u := range []*session{ann, bob, ann} { // the last one from the verified-token cache
			parts := strings.Split(u.AccessToken, ".")
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil {
				t.Fatal(err)
			}
			var want, got map[string]any
			if err := json.Unmarshal(payload, &want); err != nil {
				t.Fatal(err)
			}
			res := a.rest(t, "/rpc/my_claims", u.AccessToken)
			if res.Status != http.StatusOK {
				t.Fatalf("%d %s", res.Status, res.Body)
			}
			res.JSON(t, &got)
			if !reflect.DeepEqual(got, want) || got["sub"] != u.userID() {
				t.Fatalf("auth.jwt() = %v, the token holds %v", got, want)
			}
		}
	})

	t.Run("forged tokens", func(t *testing.T) {
		key := signingKey(t, ts, "alpha")
		now := time.Now()
		claims := func(mod func(*auth.AccessClaims)) string {
			c := &auth.AccessClaims{Issuer: ts.Cfg.PublicURL + "/p/alpha/auth/v1", UserID: ann.userID(), SessionID: uuid.NewString(),
				IssuedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(time.Hour)}
			mod(c)
			tok, err := auth.Sign(key, c)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		// Control: a token made with the real key works.
		if got := titles(a.rest(t, "/todos?select=title", claims(func(*auth.AccessClaims) {}))); len(got) != 2 {
			t.Fatalf("control token sees %v", got)
		}
		expired := claims(func(c *auth.AccessClaims) { c.ExpiresAt = now.Add(-time.Minute) })
		res := a.rest(t, "/todos", expired)
		restError(t, res, 401, "PGRST303")
		if !strings.Contains(res.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Fatalf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
		}
		authError(t, a.do(t, "GET", "/user", expired, nil), 403, "bad_jwt")

		parts := strings.Split(ann.AccessToken, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var p map[string]any
		_ = json.Unmarshal(payload, &p)
		reencode := func(v any) string { j, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(j) }
		p["sub"] = bob.userID()
		tampered := parts[0] + "." + reencode(p) + "." + parts[2]
		none := reencode(map[string]any{"alg": "none", "typ": "JWT"}) + "." + parts[1] + "."
		// HS256 keyed with the project's public key as published in the JWKS.
		var jwks struct {
			Keys []struct{ X, Y, Kid string } `json:"keys"`
		}
		ts.Do(t, "GET", "/p/alpha/auth/v1/.well-known/jwks.json", nil, nil).JSON(t, &jwks)
		hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(p))
		hs.Header["kid"] = jwks.Keys[0].Kid
		confused, err := hs.SignedString([]byte(jwks.Keys[0].X + jwks.Keys[0].Y))
		if err != nil {
			t.Fatal(err)
		}
		for name, tok := range map[string]string{
			"other project's token": betaUser.AccessToken,
			"tampered sub":          tampered,
			"alg none":              none,
			"HS256 with public key": confused,
			"garbage":               "x.y.z",
		} {
			t.Run(name, func(t *testing.T) {
				restError(t, a.rest(t, "/todos", tok), 401, "PGRST301")
				authError(t, a.do(t, "GET", "/user", tok, nil), 403, "bad_jwt")
			})
		}
		// A token of alpha with beta's key is refused too.
		res = ts.Rest(t, b.p, b.p.AnonKey, "GET", "/todos", map[string]string{"Authorization": "Bearer " + ann.AccessToken}, nil)
		restError(t, res, 401, "PGRST301")
		// A user token is not an API key.
		res = ts.Do(t, "GET", "/p/alpha/rest/v1/todos", map[string]string{"Authorization": "Bearer " + ann.AccessToken}, nil)
		restError(t, res, 401, "PL401")
	})

	t.Run("users stay out of the data API", func(t *testing.T) {
		restError(t, a.rest(t, "/users", ann.AccessToken), 404, "")
		res := ts.Rest(t, a.p, a.p.AnonKey, "GET", "/users", map[string]string{"Accept-Profile": auth1}, nil)
		if res.Status != http.StatusNotAcceptable {
			t.Fatalf("Accept-Profile %s: %d %s", auth1, res.Status, res.Body)
		}
		for _, role := range []string{a.p.Schema + "_anon", a.p.Schema + "_authenticated", b.p.Schema + "_owner"} {
			if superQuery[bool](t, ts, `select has_schema_privilege($1, $2, 'USAGE')`, role, auth1) {
				t.Errorf("%s may use %s", role, auth1)
			}
		}
		if superQuery[bool](t, ts, `select has_column_privilege($1, $2, 'encrypted_password', 'SELECT')`, a.p.Schema+"_owner", auth1+".users") {
			t.Error("the project owner can read password hashes")
		}
		if !superQuery[bool](t, ts, `select has_column_privilege($1, $2, 'id', 'REFERENCES')`, a.p.Schema+"_owner", auth1+".users") {
			t.Error("the project owner cannot reference users")
		}
		// The owner can expose users deliberately, through a view of its own.
		ts.SQL(t, "alpha", `create view profiles as select id, email from `+auth1+`.users`)
		rows := ts.SQL(t, "alpha", `select count(*) as n from profiles`)
		if rows[0]["n"].(float64) != 2 {
			t.Fatalf("profiles %v", rows)
		}
		// Another project cannot reference alpha's users.
		res = ts.Admin(t, "POST", "/projects/beta/sql", map[string]string{"query": `create table steal (u uuid references ` + auth1 + `.users(id))`})
		if res.Status != http.StatusBadRequest {
			t.Fatalf("cross-project FK: %d %s", res.Status, res.Body)
		}
	})

	t.Run("deleting a user cascades into the project", func(t *testing.T) {
		// A foreign key that forbids the delete: 409, nothing deleted.
		ts.SQL(t, "alpha", `insert into audit_trail (who) values ('`+bob.userID()+`')`)
		res := ts.Admin(t, "DELETE", "/projects/alpha/users/"+bob.userID(), nil)
		if res.Status != http.StatusConflict {
			t.Fatalf("delete referenced user: %d %s", res.Status, res.Body)
		}
		ts.SQL(t, "alpha", `delete from audit_trail`)
		res = ts.Admin(t, "DELETE", "/projects/alpha/users/"+bob.userID(), nil)
		if res.Status != http.StatusNoContent {
			t.Fatalf("delete user: %d %s", res.Status, res.Body)
		}
		if rows := ts.SQL(t, "alpha", `select count(*) as n from todos`); rows[0]["n"].(float64) != 2 {
			t.Fatalf("bob's todos should be gone: %v", rows)
		}
		authError(t, a.do(t, "GET", "/user", bob.AccessToken, nil), 403, "session_not_found")
		authError(t, a.refresh(t, bob.RefreshToken), 400, "refresh_token_not_found")
		authError(t, a.do(t, "POST", "/token?grant_type=password", "", map[string]any{"email": "bob@example.com", "password": "bob-password"}), 400, "invalid_credentials")
	})

	t.Run("dropping the project drops its users", func(t *testing.T) {
		if res := ts.Admin(t, "DELETE", "/projects/beta", nil); res.Status != http.StatusNoContent {
			t.Fatalf("drop: %d %s", res.Status, res.Body)
		}
		if n := superQuery[int](t, ts, `select count(*) from pg_namespace where nspname = $1`, "auth_"+b.p.Schema); n != 0 {
			t.Fatal("auth schema survived its project")
		}
		if n := superQuery[int](t, ts, `select count(*) from plinth.auth_signing_keys where project_ref = 'beta'`); n != 0 {
			t.Fatal("signing keys survived their project")
		}
		// A project made again under the same ref has new keys: the old
		// project's tokens mean nothing to it.
		nb := ts.CreateProject(t, "beta")
		res := ts.Rest(t, nb, nb.AnonKey, "GET", "/todos", map[string]string{"Authorization": "Bearer " + betaUser.AccessToken}, nil)
		restError(t, res, 401, "PGRST301")
		if n := superQuery[int](t, ts, `select count(*) from pg_namespace where nspname = $1`, "auth_"+nb.Schema); n != 1 {
			t.Fatal("the new project has no auth schema")
		}
	})
}
