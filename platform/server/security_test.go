package server_test

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/adminapi"
	"github.com/plinth-dev/plinth/platform/config"
)

// TestAdminSignInLockout: failed admin sign-ins are counted per email and
// per client IP; at the limit, sign-in answers 429 with Retry-After without
// looking at the password, on both sign-in endpoints.
func TestAdminSignInLockout(t *testing.T) {
	t.Parallel()
	// Loopback is a trusted proxy here, so each scenario below comes from
	// its own client IP through X-Forwarded-For.
	ts := testserver.Start(t, func(c *config.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	for _, e := range []string{"victim@x.example", "bystander@x.example", "typo@x.example"} {
		if res := ts.Admin(t, "POST", "/admins", map[string]any{"email": e, "password": "right-" + e}); res.Status != 201 {
			t.Fatalf("create admin: %d %s", res.Status, res.Body)
		}
	}
	signIn := func(ip, email, password string) *testserver.Response {
		return ts.Do(t, "POST", "/admin/v1/auth/token", map[string]string{"X-Forwarded-For": ip}, map[string]string{"email": email, "password": password})
	}
	locked := func(t *testing.T, res *testserver.Response) {
		t.Helper()
		assertError(t, res, http.StatusTooManyRequests, "PL429")
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 || s > int(adminapi.SignInWindow.Seconds()) {
			t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
		}
	}

	t.Run("per email", func(t *testing.T) {
		for i := range adminapi.SignInFailuresPerEmail {
			// Spread over IPs: the email's counter alone must lock.
			ip := "203.0.113." + strconv.Itoa(i+1)
			assertError(t, signIn(ip, "Victim@X.example", "wrong"), http.StatusUnauthorized, "PL401")
		}
		locked(t, signIn("203.0.113.99", "victim@x.example", "right-victim@x.example")) // even the right password
		locked(t, ts.Do(t, "POST", "/admin/v1/auth/session", map[string]string{"X-Forwarded-For": "203.0.113.98"},
			map[string]string{"email": "victim@x.example", "password": "right-victim@x.example"}))
		// Other accounts are unaffected, from the same IPs.
		if res := signIn("203.0.113.1", "bystander@x.example", "right-bystander@x.example"); res.Status != 200 {
			t.Fatalf("bystander locked out: %d %s", res.Status, res.Body)
		}
	})

	t.Run("per IP", func(t *testing.T) {
		const ip = "198.51.100.7"
		for i := range adminapi.SignInFailuresPerIP {
			// Unknown accounts: a spray over many emails from one address.
			assertError(t, signIn(ip, "spray"+strconv.Itoa(i)+"@x.example", "wrong"), http.StatusUnauthorized, "PL401")
		}
		locked(t, signIn(ip, "bystander@x.example", "right-bystander@x.example"))
		if res := signIn("198.51.100.8", "bystander@x.example", "right-bystander@x.example"); res.Status != 200 {
			t.Fatalf("another IP locked out: %d %s", res.Status, res.Body)
		}
	})

	t.Run("success resets the email's count", func(t *testing.T) {
		const ip = "192.0.2.10"
		for range adminapi.SignInFailuresPerEmail - 1 {
			signIn(ip, "typo@x.example", "wrong")
		}
		if res := signIn(ip, "typo@x.example", "right-typo@x.example"); res.Status != 200 {
			t.Fatalf("sign-in under the limit: %d %s", res.Status, res.Body)
		}
		for range adminapi.SignInFailuresPerEmail - 1 {
			signIn(ip, "typo@x.example", "wrong")
		}
		if res := signIn(ip, "typo@x.example", "right-typo@x.example"); res.Status != 200 {
			t.Fatalf("earlier failures still counted after a success: %d %s", res.Status, res.Body)
		}
	})
}

// TestAdminSignInLockoutShared: with Redis the failure counters are shared,
// so spreading guesses over instances gains nothing.
func TestAdminSignInLockoutShared(t *testing.T) {
	t.Parallel()
	db := testenv.NewDatabase(t)
	withRedis := func(c *config.Config) { c.RedisURL = testenv.RedisURL(t) }
	one := testserver.StartOn(t, db, withRedis)
	two := testserver.StartOn(t, db, withRedis)
	if res := one.Admin(t, "POST", "/admins", map[string]any{"email": "shared@x.example", "password": "right-pw-shared"}); res.Status != 201 {
		t.Fatalf("create admin: %d %s", res.Status, res.Body)
	}
	signIn := func(ts *testserver.TS, password string) *testserver.Response {
		return ts.Do(t, "POST", "/admin/v1/auth/token", nil, map[string]string{"email": "shared@x.example", "password": password})
	}
	for i := range adminapi.SignInFailuresPerEmail {
		ts := one
		if i%2 == 1 {
			ts = two
		}
		assertError(t, signIn(ts, "wrong"), http.StatusUnauthorized, "PL401")
	}
	for _, ts := range []*testserver.TS{one, two} {
		assertError(t, signIn(ts, "right-pw-shared"), http.StatusTooManyRequests, "PL429")
	}
}

// TestLogsCarryNoSecrets runs a full flow — admin sign-in, project
// creation, key minting, admin SQL with a password literal, end-user
// sign-up, sign-in, refresh, password change, data requests, failed
// attempts — and then scans everything the server logged for every key,
// password, refresh token and JWT that was used.
func TestLogsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	const adminEmail, adminPassword = "root@logs.example", "admin-pw-Zq81xv"
	ts := testserver.Start(t, func(c *config.Config) { c.AdminEmail, c.AdminPassword = adminEmail, adminPassword })
	secrets := map[string]string{"admin password": adminPassword, "static admin token": testserver.AdminToken, "server secret": ts.Cfg.SecretKey}

	// Admin sign-in, both ways; a wrong password too.
	res := ts.Do(t, "POST", "/admin/v1/auth/token", nil, map[string]string{"email": adminEmail, "password": adminPassword})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	res.JSON(t, &tok)
	if tok.AccessToken == "" {
		t.Fatalf("admin token: %d %s", res.Status, res.Body)
	}
	secrets["admin session token"] = tok.AccessToken
	admin := map[string]string{"Authorization": "Bearer " + tok.AccessToken}
	ts.Do(t, "POST", "/admin/v1/auth/token", nil, map[string]string{"email": adminEmail, "password": "wrong-pw-Kd92"})
	secrets["wrong admin password"] = "wrong-pw-Kd92"
	res = ts.Do(t, "POST", "/admin/v1/auth/session", nil, map[string]string{"email": adminEmail, "password": adminPassword})
	var sess struct {
		CSRF string `json:"csrf_token"`
	}
	res.JSON(t, &sess)
	for _, c := range res.Header.Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(strings.Split(c, ";")[0], "plinth_admin="); ok && v != "" {
			secrets["admin cookie"] = v
			ts.Do(t, "GET", "/admin/v1/auth/session", map[string]string{"Cookie": "plinth_admin=" + v}, nil)
		}
	}
	secrets["csrf token"] = sess.CSRF

	// A project, its keys, a minted and a revoked key.
	res = ts.Do(t, "POST", "/admin/v1/projects", admin, map[string]string{"ref": "logs"})
	var created struct {
		APIKeys map[string]string `json:"api_keys"`
	}
	res.JSON(t, &created)
	p := &testserver.Project{Ref: "logs", AnonKey: created.APIKeys["anon"], ServiceKey: created.APIKeys["service_role"]}
	secrets["anon key"], secrets["service key"] = p.AnonKey, p.ServiceKey
	res = ts.Do(t, "POST", "/admin/v1/projects/logs/keys", admin, map[string]string{"role": "service_role"})
	var minted struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	res.JSON(t, &minted)
	secrets["minted key"] = minted.Key
	ts.Do(t, "DELETE", "/admin/v1/projects/logs/keys/"+minted.ID, admin, nil)
	ts.Rest(t, p, minted.Key, "GET", "/", nil, nil) // a revoked key, refused

	// Admin SQL with a password literal, and a failing one quoting it.
	const sqlPassword = "sql-literal-pw-Hh37q"
	secrets["password in SQL"] = sqlPassword
	ts.SQL(t, p.Ref, "create table creds (id int primary key, pw text); insert into creds values (1, '"+sqlPassword+"')")
	ts.Admin(t, "POST", "/projects/logs/sql", map[string]string{"query": "select nosuch('" + sqlPassword + "')"})
	ts.Admin(t, "PUT", "/projects/logs/rules", map[string]any{"policies": []map[string]string{{"role": "authenticated", "table": "creds", "action": "*", "condition": ""}}, "roles": []any{}})

	// End users: sign-up, sign-in, refresh, password change, logout.
	const userPassword, newPassword = "user-pw-Bn28sk", "user-pw-new-Lp04"
	secrets["user password"], secrets["new user password"] = userPassword, newPassword
	auth := "/p/logs/auth/v1"
	anon := map[string]string{"apikey": p.AnonKey}
	u := signUp(t, ts, p, "user@logs.example", userPassword)
	secrets["sign-up access token"], secrets["sign-up refresh token"] = u.AccessToken, u.RefreshToken
	var in session
	ts.Do(t, "POST", auth+"/token?grant_type=password", anon, map[string]string{"email": "user@logs.example", "password": userPassword}).JSON(t, &in)
	secrets["sign-in access token"], secrets["sign-in refresh token"] = in.AccessToken, in.RefreshToken
	ts.Do(t, "POST", auth+"/token?grant_type=password", anon, map[string]string{"email": "user@logs.example", "password": "wrong-user-pw-Jx7"})
	secrets["wrong user password"] = "wrong-user-pw-Jx7"
	var ref session
	ts.Do(t, "POST", auth+"/token?grant_type=refresh_token", anon, map[string]string{"refresh_token": in.RefreshToken}).JSON(t, &ref)
	secrets["refreshed access token"], secrets["refreshed refresh token"] = ref.AccessToken, ref.RefreshToken
	if ref.AccessToken == "" {
		t.Fatal("refresh gave no token")
	}
	withJWT := map[string]string{"apikey": p.AnonKey, "Authorization": "Bearer " + ref.AccessToken}
	ts.Do(t, "GET", auth+"/user", withJWT, nil)
	ts.Do(t, "PUT", auth+"/user", withJWT, map[string]string{"password": newPassword})
	ts.Do(t, "GET", auth+"/user", map[string]string{"apikey": p.AnonKey, "Authorization": "Bearer " + ref.AccessToken + "x"}, nil)

	// Data requests with keys and the user's JWT, good and bad; the key in
	// the query string too, where some clients put it.
	if res := ts.Rest(t, p, p.AnonKey, "GET", "/creds?select=pw", map[string]string{"Authorization": "Bearer " + ref.AccessToken}, nil); res.Status != 200 || !strings.Contains(string(res.Body), sqlPassword) {
		t.Fatalf("user reads creds: %d %s", res.Status, res.Body)
	}
	ts.Rest(t, p, p.ServiceKey, "POST", "/creds", nil, map[string]any{"id": 2, "pw": sqlPassword})
	ts.Rest(t, p, p.ServiceKey, "POST", "/creds", nil, map[string]any{"id": 2, "pw": sqlPassword}) // duplicate key: the error quotes the row
	ts.Rest(t, p, p.ServiceKey, "GET", "/creds?pw=eq."+sqlPassword, nil, nil)
	ts.Rest(t, p, p.ServiceKey+"x", "GET", "/creds", nil, nil)
	ts.Do(t, "GET", "/p/logs/rest/v1/creds?apikey="+p.AnonKey, nil, nil)
	ts.Do(t, "POST", auth+"/logout", withJWT, nil)
	ts.Do(t, "POST", "/admin/v1/auth/logout", admin, nil)

	logs := ts.Logs.String()
	if n := strings.Count(logs, `"msg":"request"`); n < 20 {
		t.Fatalf("only %d request lines logged; the scan would prove little", n)
	}
	for what, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("%s was not captured (%q)", what, s)
		}
		if strings.Contains(logs, s) {
			t.Errorf("the log carries the %s", what)
		}
		// JSON escaping would hide a plain match.
		if q, _ := json.Marshal(s); strings.Contains(logs, strings.Trim(string(q), `"`)) {
			t.Errorf("the log carries the %s (escaped)", what)
		}
		// A JWT's signature alone identifies it.
		if parts := strings.Split(s, "."); len(parts) == 3 && strings.Contains(logs, parts[2]) {
			t.Errorf("the log carries the signature of the %s", what)
		}
	}
}
