package adminapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/password"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// cheap keeps argon2 fast in tests; the cost does not change behaviour.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

func createAdmin(t *testing.T, ts *testserver.TS, email, pw string, platform bool) {
	t.Helper()
	h, err := password.Hash(pw, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Srv.Store().CreateAdmin(context.Background(), email, h, platform); err != nil {
		t.Fatal(err)
	}
}

// bearerToken signs in through POST /auth/token.
func bearerToken(t *testing.T, ts *testserver.TS, email, pw string) map[string]string {
	t.Helper()
	res := ts.Do(t, "POST", "/admin/v1/auth/token", nil, map[string]string{"email": email, "password": pw})
	if res.Status != 200 {
		t.Fatalf("token for %s: %d %s", email, res.Status, res.Body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	res.JSON(t, &out)
	return map[string]string{"Authorization": "Bearer " + out.AccessToken}
}

func assertError(t *testing.T, res *testserver.Response, status int, code string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
	}
	var e map[string]any
	if err := json.Unmarshal(res.Body, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", res.Body)
	}
	if code != "" && e["code"] != code {
		t.Fatalf("code %v, want %s: %s", e["code"], code, res.Body)
	}
}

func withHeaders(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestSessionCookieAndCSRF: the dashboard's cookie sign-in, CSRF on unsafe
// requests, and sign-out ending the session on the server.
func TestSessionCookieAndCSRF(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	createAdmin(t, ts, "root@example.com", "correct horse", true)
	creds := map[string]string{"email": "root@example.com", "password": "correct horse"}

	assertError(t, ts.Do(t, "POST", "/admin/v1/auth/session", nil, map[string]string{"email": "root@example.com", "password": "wrong"}), 401, "PL401")
	assertError(t, ts.Do(t, "POST", "/admin/v1/auth/session", nil, map[string]string{"email": "", "password": ""}), 400, "PL400")
	// A form post (what a cross-site page can send without CORS) is refused.
	assertError(t, ts.Do(t, "POST", "/admin/v1/auth/session", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "email=a&password=b"), 415, "")
	assertError(t, ts.Do(t, "POST", "/admin/v1/auth/session", map[string]string{"Sec-Fetch-Site": "cross-site"}, creds), 403, "PL403")

	res := ts.Do(t, "POST", "/admin/v1/auth/session", nil, creds)
	if res.Status != 201 {
		t.Fatalf("sign in: %d %s", res.Status, res.Body)
	}
	setCookie := res.Header.Get("Set-Cookie")
	for _, want := range []string{"plinth_admin=pla_", "HttpOnly", "SameSite=Strict", "path=/admin"} {
		if !strings.Contains(strings.ToLower(setCookie), strings.ToLower(want)) {
			t.Fatalf("Set-Cookie %q lacks %q", setCookie, want)
		}
	}
	if strings.Contains(strings.ToLower(setCookie), "secure") {
		t.Fatalf("Secure cookie over plain http would be dropped by the browser: %q", setCookie)
	}
	// Behind a TLS-terminating proxy the cookie is Secure.
	if sc := ts.Do(t, "POST", "/admin/v1/auth/session", map[string]string{"X-Forwarded-Proto": "https"}, creds).Header.Get("Set-Cookie"); !strings.Contains(strings.ToLower(sc), "secure") {
		t.Fatalf("https sign-in cookie is not Secure: %q", sc)
	}
	var sess struct {
		CSRFToken string `json:"csrf_token"`
		Admin     struct {
			Email string `json:"email"`
		} `json:"admin"`
		Platform bool `json:"platform_admin"`
	}
	res.JSON(t, &sess)
	if sess.CSRFToken == "" || sess.Admin.Email != "root@example.com" || !sess.Platform || strings.Contains(string(res.Body), "password") {
		t.Fatalf("session body: %s", res.Body)
	}
	cookie := strings.SplitN(setCookie, ";", 2)[0]
	ck := map[string]string{"Cookie": cookie}

	// Safe requests need only the cookie.
	me := ts.Do(t, "GET", "/admin/v1/auth/session", ck, nil)
	if me.Status != 200 || !strings.Contains(string(me.Body), sess.CSRFToken) {
		t.Fatalf("current session: %d %s", me.Status, me.Body)
	}
	if res := ts.Do(t, "GET", "/admin/v1/projects", ck, nil); res.Status != 200 {
		t.Fatalf("list with cookie: %d %s", res.Status, res.Body)
	}
	// Unsafe requests need the matching CSRF token; nothing happens without it.
	body := map[string]string{"ref": "csrf-one"}
	assertError(t, ts.Do(t, "POST", "/admin/v1/projects", ck, body), 403, "PL403")
	assertError(t, ts.Do(t, "POST", "/admin/v1/projects", withHeaders(ck, "X-CSRF-Token", "forged"), body), 403, "PL403")
	assertError(t, ts.Do(t, "POST", "/admin/v1/projects", withHeaders(ck, "X-CSRF-Token", sess.CSRFToken, "Sec-Fetch-Site", "cross-site"), body), 403, "PL403")
	assertError(t, ts.Admin(t, "GET", "/projects/csrf-one", nil), 404, "PL404")
	if res := ts.Do(t, "POST", "/admin/v1/projects", withHeaders(ck, "X-CSRF-Token", sess.CSRFToken), body); res.Status != 201 {
		t.Fatalf("create with CSRF token: %d %s", res.Status, res.Body)
	}
	// Another session's CSRF token does not fit this session.
	other := ts.Do(t, "POST", "/admin/v1/auth/session", nil, creds)
	var otherSess struct {
		CSRFToken string `json:"csrf_token"`
	}
	other.JSON(t, &otherSess)
	if otherSess.CSRFToken == sess.CSRFToken {
		t.Fatal("two sessions share a CSRF token")
	}
	assertError(t, ts.Do(t, "DELETE", "/admin/v1/projects/csrf-one", withHeaders(ck, "X-CSRF-Token", otherSess.CSRFToken), nil), 403, "PL403")
	// Bearer requests need no CSRF token (they cannot be forged by a page).
	tok := bearerToken(t, ts, "root@example.com", "correct horse")
	if res := ts.Do(t, "POST", "/admin/v1/projects", tok, map[string]string{"ref": "csrf-two"}); res.Status != 201 {
		t.Fatalf("bearer create: %d %s", res.Status, res.Body)
	}

	// Sign-out is itself CSRF-protected, then ends the session on the server.
	assertError(t, ts.Do(t, "DELETE", "/admin/v1/auth/session", ck, nil), 403, "PL403")
	out := ts.Do(t, "DELETE", "/admin/v1/auth/session", withHeaders(ck, "X-CSRF-Token", sess.CSRFToken), nil)
	if out.Status != 204 || !strings.Contains(out.Header.Get("Set-Cookie"), "plinth_admin=;") {
		t.Fatalf("sign out: %d %v", out.Status, out.Header)
	}
	assertError(t, ts.Do(t, "GET", "/admin/v1/projects", ck, nil), 401, "PL401")
	assertError(t, ts.Do(t, "GET", "/admin/v1/projects", map[string]string{"Cookie": "plinth_admin=pla_made-up"}, nil), 401, "PL401")
}

// TestPlatformPolicy: each member role against the admin endpoints. A
// non-member gets 404 (refs do not leak), a role short of the call 403.
func TestPlatformPolicy(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	for _, e := range []string{"owner@example.com", "dev@example.com", "viewer@example.com", "stranger@example.com"} {
		createAdmin(t, ts, e, "pw-"+e, false)
	}
	owner := bearerToken(t, ts, "owner@example.com", "pw-owner@example.com")
	dev := bearerToken(t, ts, "dev@example.com", "pw-dev@example.com")
	viewer := bearerToken(t, ts, "viewer@example.com", "pw-viewer@example.com")
	stranger := bearerToken(t, ts, "stranger@example.com", "pw-stranger@example.com")

	// Any account may create a project and becomes its owner.
	if res := ts.Do(t, "POST", "/admin/v1/projects", owner, map[string]string{"ref": "pol"}); res.Status != 201 {
		t.Fatalf("owner create: %d %s", res.Status, res.Body)
	}
	ts.SQL(t, "pol", "create table notes (id int primary key, body text); insert into notes values (1, 'hi')")
	res := ts.Do(t, "PUT", "/admin/v1/projects/pol/members", owner, []map[string]string{
		{"email": "owner@example.com", "role": "owner"},
		{"email": "DEV@example.com", "role": "developer"},
		{"email": "viewer@example.com", "role": "viewer"},
	})
	if res.Status != 200 {
		t.Fatalf("put members: %d %s", res.Status, res.Body)
	}

	type call struct {
		method, path string
		body         any
	}
	var (
		show       = call{"GET", "/projects/pol", nil}
		settings   = call{"GET", "/projects/pol/settings", nil}
		keys       = call{"GET", "/projects/pol/keys", nil}
		audit      = call{"GET", "/projects/pol/audit", nil}
		members    = call{"GET", "/projects/pol/members", nil}
		readData   = call{"GET", "/projects/pol/rest/v1/notes?select=id,body", nil}
		patchSet   = call{"PATCH", "/projects/pol/settings", map[string]any{"max_rows": 50}}
		runSQL     = call{"POST", "/projects/pol/sql", map[string]string{"query": "select 1"}}
		mintKey    = call{"POST", "/projects/pol/keys", map[string]string{"role": "anon"}}
		putMembers = call{"PUT", "/projects/pol/members", []map[string]string{{"email": "owner@example.com", "role": "owner"}, {"email": "dev@example.com", "role": "developer"}, {"email": "viewer@example.com", "role": "viewer"}}}
		writeData  = call{"POST", "/projects/pol/rest/v1/notes", map[string]any{"id": 2, "body": "x"}}
		accounts   = call{"GET", "/admins", nil} // platform-only: no policy line grants it to members
	)
	// want: 0 means "allowed" (any status but 401/403/404 from the policy).
	cases := []struct {
		who  string
		h    map[string]string
		c    call
		want int
	}{
		{"viewer", viewer, show, 0}, {"viewer", viewer, settings, 0}, {"viewer", viewer, keys, 0},
		{"viewer", viewer, audit, 0}, {"viewer", viewer, members, 0}, {"viewer", viewer, readData, 0},
		{"viewer", viewer, patchSet, 403}, {"viewer", viewer, runSQL, 403}, {"viewer", viewer, mintKey, 403},
		{"viewer", viewer, putMembers, 403}, {"viewer", viewer, writeData, 403},
		{"viewer", viewer, call{"DELETE", "/projects/pol", nil}, 403},
		{"developer", dev, patchSet, 0}, {"developer", dev, runSQL, 0}, {"developer", dev, readData, 0},
		{"developer", dev, writeData, 0},
		{"developer", dev, mintKey, 403}, {"developer", dev, putMembers, 403},
		{"developer", dev, call{"DELETE", "/projects/pol", nil}, 403},
		{"owner", owner, mintKey, 0}, {"owner", owner, putMembers, 0},
		{"stranger", stranger, show, 404}, {"stranger", stranger, patchSet, 404}, {"stranger", stranger, readData, 404},
		{"stranger", stranger, call{"DELETE", "/projects/pol", nil}, 404},
		{"viewer", viewer, accounts, 403}, {"owner", owner, accounts, 403},
		{"owner", owner, call{"POST", "/admins", map[string]any{"email": "x@example.com", "password": "long enough password", "platform_admin": true}}, 403},
		{"owner", owner, call{"GET", "/unknown-endpoint", nil}, 403},
	}
	for _, tc := range cases {
		res := ts.Do(t, tc.c.method, "/admin/v1"+tc.c.path, tc.h, tc.c.body)
		switch {
		case tc.want == 0 && (res.Status == 401 || res.Status == 403 || res.Status == 404):
			t.Errorf("%s %s %s: %d %s, want allowed", tc.who, tc.c.method, tc.c.path, res.Status, res.Body)
		case tc.want != 0 && res.Status != tc.want:
			t.Errorf("%s %s %s: %d %s, want %d", tc.who, tc.c.method, tc.c.path, res.Status, res.Body, tc.want)
		case tc.want == 403 && !strings.Contains(string(res.Body), `"PL403"`):
			t.Errorf("%s %s %s: %s, want PL403", tc.who, tc.c.method, tc.c.path, res.Body)
		}
	}
	// Each caller is told their role, so the dashboard can say "read-only".
	for who, h := range map[string]map[string]string{"viewer": viewer, "developer": dev, "owner": owner} {
		var p struct {
			YourRole string `json:"your_role"`
		}
		ts.Do(t, "GET", "/admin/v1/projects/pol", h, nil).JSON(t, &p)
		if p.YourRole != who {
			t.Errorf("%s sees your_role %q", who, p.YourRole)
		}
	}
	// The data proxy really reads the project's table as service_role.
	if res := ts.Do(t, "GET", "/admin/v1/projects/pol/rest/v1/notes?select=id,body&id=eq.1", viewer, nil); string(res.Body) != `[{"id":1,"body":"hi"}]` {
		t.Fatalf("proxy read: %d %s", res.Status, res.Body)
	}
	// Denied calls changed nothing: max_rows is the developer's 50, not unset.
	var st struct {
		MaxRows *int `json:"max_rows"`
	}
	ts.Admin(t, "GET", "/projects/pol/settings", nil).JSON(t, &st)
	if st.MaxRows == nil || *st.MaxRows != 50 {
		t.Fatalf("settings after policy checks: %+v", st)
	}
	// A member lists only their projects; the platform token sees all.
	ts.CreateProject(t, "pol-other")
	var mine []struct {
		Ref string `json:"ref"`
	}
	ts.Do(t, "GET", "/admin/v1/projects", viewer, nil).JSON(t, &mine)
	if len(mine) != 1 || mine[0].Ref != "pol" {
		t.Fatalf("viewer's projects: %+v", mine)
	}
	ts.Do(t, "GET", "/admin/v1/projects", stranger, nil).JSON(t, &mine)
	if len(mine) != 0 {
		t.Fatalf("stranger's projects: %+v", mine)
	}
	if res := ts.Admin(t, "GET", "/unknown-endpoint", nil); res.Status != 404 {
		t.Fatalf("platform admin on an unknown path: %d, want 404", res.Status)
	}
}

// TestMembers: the member list, its validation, and its audit record.
func TestMembers(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	createAdmin(t, ts, "a@example.com", "pw-a", false)
	createAdmin(t, ts, "b@example.com", "pw-b", false)
	a := bearerToken(t, ts, "a@example.com", "pw-a")
	if res := ts.Do(t, "POST", "/admin/v1/projects", a, map[string]string{"ref": "mem"}); res.Status != 201 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	list := func() string {
		res := ts.Admin(t, "GET", "/projects/mem/members", nil)
		var ms []struct{ Email, Role string }
		res.JSON(t, &ms)
		var parts []string
		for _, m := range ms {
			parts = append(parts, m.Email+"="+m.Role)
		}
		return strings.Join(parts, ",")
	}
	if got := list(); got != "a@example.com=owner" {
		t.Fatalf("creator membership: %s", got)
	}
	for name, body := range map[string]any{
		"unknown account": []map[string]string{{"email": "a@example.com", "role": "owner"}, {"email": "nobody@example.com", "role": "viewer"}},
		"bad role":        []map[string]string{{"email": "a@example.com", "role": "admin"}},
		"bad email":       []map[string]string{{"email": "", "role": "viewer"}},
		"duplicate":       []map[string]string{{"email": "a@example.com", "role": "owner"}, {"email": "A@example.com", "role": "viewer"}},
		"no owner left":   []map[string]string{{"email": "a@example.com", "role": "developer"}},
		"not an array":    map[string]string{"email": "a@example.com"},
		"null":            "null",
		"unknown field":   []map[string]string{{"email": "a@example.com", "role": "owner", "x": "y"}},
	} {
		res := ts.Do(t, "PUT", "/admin/v1/projects/mem/members", a, body)
		if res.Status != 400 {
			t.Errorf("%s: %d %s", name, res.Status, res.Body)
		}
		if got := list(); got != "a@example.com=owner" {
			t.Fatalf("%s changed members: %s", name, got)
		}
	}
	res := ts.Do(t, "PUT", "/admin/v1/projects/mem/members", a, []map[string]string{{"email": "a@example.com", "role": "owner"}, {"email": "b@example.com", "role": "viewer"}})
	if res.Status != 200 || res.Header.Get("Content-Range") != "0-1/2" {
		t.Fatalf("add viewer: %d %s %v", res.Status, res.Body, res.Header)
	}
	if got := list(); got != "a@example.com=owner,b@example.com=viewer" {
		t.Fatalf("after add: %s", got)
	}
	// Removing a member takes their access away at once.
	b := bearerToken(t, ts, "b@example.com", "pw-b")
	if res := ts.Do(t, "GET", "/admin/v1/projects/mem", b, nil); res.Status != 200 {
		t.Fatalf("viewer reads project: %d", res.Status)
	}
	ts.Do(t, "PUT", "/admin/v1/projects/mem/members", a, []map[string]string{{"email": "a@example.com", "role": "owner"}})
	assertError(t, ts.Do(t, "GET", "/admin/v1/projects/mem", b, nil), 404, "PL404")

	var audit []struct{ Action, Actor string }
	ts.Admin(t, "GET", "/projects/mem/audit", nil).JSON(t, &audit)
	n := 0
	for _, e := range audit {
		if e.Action == "members.update" && e.Actor == "admin:a@example.com" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("members.update audit records: %d, want 2: %+v", n, audit)
	}
	assertError(t, ts.Admin(t, "PUT", "/projects/nope/members", []map[string]string{}), 404, "PL404")
}

// TestDataProxyAudit: writes through the admin data proxy are audited; reads
// and failed writes are not.
func TestDataProxyAudit(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	ts.CreateProject(t, "prox")
	ts.SQL(t, "prox", "create table t (id int primary key)")
	if res := ts.Admin(t, "GET", "/projects/prox/rest/v1/t", nil); res.Status != 200 || string(res.Body) != "[]" {
		t.Fatalf("proxy read: %d %s", res.Status, res.Body)
	}
	assertError(t, ts.Admin(t, "GET", "/projects/prox/rest/v1/missing", nil), 404, "")
	res := ts.Admin(t, "POST", "/projects/prox/rest/v1/t", map[string]int{"id": 1})
	if res.Status == http.StatusMethodNotAllowed || res.Status == 404 {
		t.Skipf("the data API does not write yet (%d)", res.Status)
	}
	if res.Status != 201 {
		t.Fatalf("proxy insert: %d %s", res.Status, res.Body)
	}
	var audit []struct{ Action, Target string }
	ts.Admin(t, "GET", "/projects/prox/audit", nil).JSON(t, &audit)
	if len(audit) == 0 || audit[0].Action != "data.post" || audit[0].Target != "/t" {
		t.Fatalf("audit after proxy insert: %+v", audit)
	}
}

// TestAdminAccounts: platform admins create accounts (members need one);
// bad input is refused and changes nothing.
func TestAdminAccounts(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)
	count := func() string { return ts.Admin(t, "GET", "/admins?limit=1", nil).Header.Get("Content-Range") }
	before := count()
	for name, body := range map[string]any{
		"no email":       map[string]any{"email": "", "password": "long enough password"},
		"bad email":      map[string]any{"email": "not-an-email", "password": "long enough password"},
		"short password": map[string]any{"email": "new@example.com", "password": "short"},
		"unknown field":  map[string]any{"email": "new@example.com", "password": "long enough password", "role": "owner"},
	} {
		assertError(t, ts.Admin(t, "POST", "/admins", body), 400, "")
		if got := count(); got != before {
			t.Fatalf("%s changed the accounts: %s -> %s", name, before, got)
		}
	}
	res := ts.Admin(t, "POST", "/admins", map[string]any{"email": "New@Example.com", "password": "long enough password"})
	if res.Status != 201 || strings.Contains(string(res.Body), "argon2") {
		t.Fatalf("create account: %d %s", res.Status, res.Body)
	}
	assertError(t, ts.Admin(t, "POST", "/admins", map[string]any{"email": "new@example.com", "password": "another long password"}), 409, "PL409")
	tok := bearerToken(t, ts, "new@example.com", "long enough password")
	// A new account is no platform admin: it may not list or create accounts.
	assertError(t, ts.Do(t, "GET", "/admin/v1/admins", tok, nil), 403, "PL403")
	var me struct {
		Platform bool `json:"platform_admin"`
	}
	ts.Do(t, "GET", "/admin/v1/auth/session", tok, nil).JSON(t, &me)
	if me.Platform {
		t.Fatal("new account is a platform admin")
	}
}
