package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/internal/testserver"
)

// session is what sign-up and sign-in answer.
type session struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	User         struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"user"`
}

func signUp(t *testing.T, ts *testserver.TS, p *testserver.Project, email, password string) session {
	t.Helper()
	res := ts.Do(t, "POST", "/p/"+p.Ref+"/auth/v1/signup", map[string]string{"apikey": p.AnonKey}, map[string]string{"email": email, "password": password})
	if res.Status != 200 {
		t.Fatalf("sign up %s in %s: %d %s", email, p.Ref, res.Status, res.Body)
	}
	var s session
	res.JSON(t, &s)
	if s.AccessToken == "" || s.RefreshToken == "" {
		t.Fatalf("sign-up without a session: %s", res.Body)
	}
	return s
}

// adminBearer creates a (non-platform) admin account and signs it in.
func adminBearer(t *testing.T, ts *testserver.TS, email, password string) map[string]string {
	t.Helper()
	if res := ts.Admin(t, "POST", "/admins", map[string]any{"email": email, "password": password}); res.Status != 201 {
		t.Fatalf("create admin: %d %s", res.Status, res.Body)
	}
	res := ts.Do(t, "POST", "/admin/v1/auth/token", nil, map[string]string{"email": email, "password": password})
	if res.Status != 200 {
		t.Fatalf("admin sign-in: %d %s", res.Status, res.Body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	res.JSON(t, &out)
	return map[string]string{"Authorization": "Bearer " + out.AccessToken}
}

// TestCrossTenant calls every endpoint family of project B with what
// project A (its keys, its users' tokens, its admin members) holds, and A's
// own endpoints with names reaching into B. It asserts on data: nothing of
// B appears in any answer, and B's rows, users and keys are as before.
func TestCrossTenant(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t)

	// A belongs to a member account; B to someone else.
	alice := adminBearer(t, ts, "alice@a.example", "alice-admin-pw-1")
	if res := ts.Do(t, "POST", "/admin/v1/projects", alice, map[string]string{"ref": "xt-a"}); res.Status != 201 {
		t.Fatalf("alice creates A: %d %s", res.Status, res.Body)
	}
	var aKeys struct {
		Schema  string            `json:"schema"`
		APIKeys map[string]string `json:"api_keys"`
	}
	res := ts.Admin(t, "GET", "/projects/xt-a/keys", nil)
	if res.Status != 200 {
		t.Fatalf("A keys: %d %s", res.Status, res.Body)
	}
	// A's secret key is shown once, at creation; mint one for the test.
	res = ts.Do(t, "POST", "/admin/v1/projects/xt-a/keys", alice, map[string]string{"role": "service_role"})
	if res.Status != 201 {
		t.Fatalf("mint A key: %d %s", res.Status, res.Body)
	}
	var minted struct {
		Key string `json:"key"`
	}
	res.JSON(t, &minted)
	var keyList []struct {
		Role string `json:"role"`
		Key  string `json:"key"`
	}
	ts.Admin(t, "GET", "/projects/xt-a/keys", nil).JSON(t, &keyList)
	a := &testserver.Project{Ref: "xt-a", ServiceKey: minted.Key}
	for _, k := range keyList {
		if k.Role == "anon" && k.Key != "" {
			a.AnonKey = k.Key
		}
	}
	ts.Admin(t, "GET", "/projects/xt-a", nil).JSON(t, &aKeys)
	a.Schema = aKeys.Schema
	if a.AnonKey == "" || a.ServiceKey == "" || a.Schema == "" {
		t.Fatalf("A's keys: %+v", a)
	}
	b := ts.CreateProject(t, "xt-b")

	// The same table and function names in both, so a leak would not show
	// up as a "not found".
	const (
		bSecret = "b-secret-row-5c2e91"
		aValue  = "a-visible-row"
	)
	setup := `create table secrets (id int primary key, v text, owner uuid);
		create function reveal() returns text language sql stable as $$ select string_agg(v, ',') from secrets $$;`
	ts.SQL(t, a.Ref, setup+"insert into secrets values (1, '"+aValue+"', null)")
	ts.SQL(t, b.Ref, setup+"insert into secrets values (1, '"+bSecret+"', null), (2, '"+bSecret+"-2', null)")
	// Each project lets its signed-in users do everything, so a refusal
	// below comes from isolation and not from a rule.
	open := map[string]any{"policies": []map[string]string{
		{"role": "authenticated", "table": "secrets", "action": "*", "condition": ""},
		{"role": "authenticated", "table": "rpc:reveal", "action": "execute", "condition": ""},
		{"role": "anon", "table": "secrets", "action": "select", "condition": "id=eq.0"},
	}, "roles": []any{}}
	for _, ref := range []string{a.Ref, b.Ref} {
		if res := ts.Admin(t, "PUT", "/projects/"+ref+"/rules", open); res.Status != 200 {
			t.Fatalf("rules of %s: %d %s", ref, res.Status, res.Body)
		}
	}
	const bUserEmail, bPassword = "bob@b.example", "bob-password-77"
	bUser := signUp(t, ts, b, bUserEmail, bPassword)
	aUser := signUp(t, ts, a, "ann@a.example", "ann-password-88")

	// B's own credentials work (the attempts below are not failing for
	// some unrelated reason).
	res = ts.Rest(t, b, b.AnonKey, "GET", "/secrets?select=v&order=id", map[string]string{"Authorization": "Bearer " + bUser.AccessToken}, nil)
	if res.Status != 200 || !strings.Contains(string(res.Body), bSecret) {
		t.Fatalf("B's user reads B: %d %s", res.Status, res.Body)
	}

	// Markers of B's data and credentials. B's schema name is not one: the
	// catalog is readable across tenants (DESIGN §9), and errors echo the
	// names a request used.
	leaks := []string{bSecret, bUserEmail, bUser.User.ID, b.ServiceKey, b.AnonKey}
	noLeak := func(t *testing.T, what string, res *testserver.Response) {
		t.Helper()
		if res.Status >= 500 {
			t.Fatalf("%s: server error %d %s", what, res.Status, res.Body)
		}
		for _, l := range leaks {
			if strings.Contains(string(res.Body), l) {
				t.Fatalf("%s: answer carries B's %q: %d %s", what, l, res.Status, res.Body)
			}
			for _, v := range res.Header {
				if strings.Contains(strings.Join(v, " "), l) {
					t.Fatalf("%s: header carries B's %q: %v", what, l, res.Header)
				}
			}
		}
	}
	refused := func(t *testing.T, what string, res *testserver.Response, statuses ...int) {
		t.Helper()
		noLeak(t, what, res)
		for _, s := range statuses {
			if res.Status == s {
				return
			}
		}
		t.Fatalf("%s: status %d, want one of %v: %s", what, res.Status, statuses, res.Body)
	}
	bRest := "/p/" + b.Ref + "/rest/v1"
	bAuth := "/p/" + b.Ref + "/auth/v1"
	aAuth := "/p/" + a.Ref + "/auth/v1"
	bearer := func(tok string) string { return "Bearer " + tok }
	writes := []struct {
		method, path string
		body         any
	}{
		{"GET", "/secrets", nil},
		{"HEAD", "/secrets", nil},
		{"POST", "/secrets", map[string]any{"id": 9, "v": "from A"}},
		{"PATCH", "/secrets?id=eq.1", map[string]any{"v": "from A"}},
		{"PUT", "/secrets?id=eq.1", map[string]any{"id": 1, "v": "from A"}},
		{"DELETE", "/secrets?id=eq.1", nil},
		{"GET", "/rpc/reveal", nil},
		{"POST", "/rpc/reveal", map[string]any{}},
		{"GET", "/", nil},
	}

	t.Run("B's data API with A's credentials", func(t *testing.T) {
		creds := []struct {
			name    string
			headers map[string]string
		}{
			{"A anon key", map[string]string{"apikey": a.AnonKey}},
			{"A secret key", map[string]string{"apikey": a.ServiceKey}},
			{"A secret key as bearer", map[string]string{"Authorization": bearer(a.ServiceKey)}},
			{"B anon key + A user JWT", map[string]string{"apikey": b.AnonKey, "Authorization": bearer(aUser.AccessToken)}},
			{"A anon key + B user JWT", map[string]string{"apikey": a.AnonKey, "Authorization": bearer(bUser.AccessToken)}},
			{"B anon key + A secret key as bearer", map[string]string{"apikey": b.AnonKey, "Authorization": bearer(a.ServiceKey)}},
			{"admin token as key", map[string]string{"apikey": testserver.AdminToken}},
			{"A refresh token as bearer", map[string]string{"apikey": b.AnonKey, "Authorization": bearer(aUser.RefreshToken)}},
		}
		for _, c := range creds {
			for _, w := range writes {
				res := ts.Do(t, w.method, bRest+w.path, c.headers, w.body)
				refused(t, c.name+" "+w.method+" "+w.path, res, http.StatusUnauthorized)
			}
		}
	})

	t.Run("A's data API reaching into B", func(t *testing.T) {
		bs := b.Schema
		paths := []string{
			"/" + url.PathEscape(bs+".secrets"),
			"/" + url.PathEscape(`"`+bs+`"."secrets"`),
			"/secrets?select=" + url.QueryEscape("v,"+bs+".secrets(v)"),
			"/secrets?select=" + url.QueryEscape("v,x:"+bs+".secrets(*)"),
			"/secrets?select=" + url.QueryEscape(bs+".secrets.v"),
			"/secrets?select=" + url.QueryEscape("v::"+bs+".secrets"),
			"/secrets?" + url.QueryEscape(bs+".secrets.v") + "=not.is.null",
			"/secrets?order=" + url.QueryEscape(bs+".secrets.v"),
			"/secrets?v=eq." + url.QueryEscape("x') union select v from "+bs+".secrets --"),
			"/secrets?or=" + url.QueryEscape("(v.eq.x,v.in.(select v from "+bs+".secrets))"),
			"/secrets?id=eq." + url.QueryEscape("(select 1 from "+bs+".secrets limit 1)"),
			"/rpc/" + url.PathEscape(bs+".reveal"),
			"/rpc/reveal?select=" + url.QueryEscape(bs+".secrets(v)"),
		}
		for _, key := range []string{a.ServiceKey, a.AnonKey} {
			for _, path := range paths {
				noLeak(t, "GET "+path, ts.Rest(t, a, key, "GET", path, map[string]string{"Authorization": bearer(aUser.AccessToken)}, nil))
			}
		}
		profiles := []string{bs, "p_xt_b", `"` + bs + `"`, bs + ",public", "public," + bs, "plinth", "pg_catalog", "information_schema", a.Schema + "\"; set search_path=" + bs + ";--"}
		for _, prof := range profiles {
			res := ts.Rest(t, a, a.ServiceKey, "GET", "/secrets", map[string]string{"Accept-Profile": prof}, nil)
			refused(t, "Accept-Profile "+prof, res, http.StatusNotAcceptable)
			res = ts.Rest(t, a, a.ServiceKey, "POST", "/secrets", map[string]string{"Content-Profile": prof}, map[string]any{"id": 50, "v": "x"})
			refused(t, "Content-Profile "+prof, res, http.StatusNotAcceptable)
			res = ts.Rest(t, a, a.ServiceKey, "POST", "/rpc/reveal", map[string]string{"Content-Profile": prof}, map[string]any{})
			refused(t, "Content-Profile rpc "+prof, res, http.StatusNotAcceptable)
		}
		// A's own function, called as A, sees A's rows only.
		res := ts.Rest(t, a, a.ServiceKey, "POST", "/rpc/reveal", nil, map[string]any{})
		if res.Status != 200 || !strings.Contains(string(res.Body), aValue) {
			t.Fatalf("A's reveal: %d %s", res.Status, res.Body)
		}
		noLeak(t, "A's reveal", res)
		// Writes naming B's table land nowhere.
		noLeak(t, "insert into B", ts.Rest(t, a, a.ServiceKey, "POST", "/"+url.PathEscape(bs+".secrets"), nil, map[string]any{"id": 7, "v": "x"}))
		noLeak(t, "insert with B column", ts.Rest(t, a, a.ServiceKey, "POST", "/secrets", nil, map[string]any{"id": 8, bs + ".secrets.v": "x"}))
		noLeak(t, "delete via B", ts.Rest(t, a, a.ServiceKey, "DELETE", "/secrets?id=in.(select id from "+url.QueryEscape(bs)+".secrets)", nil, nil))
	})

	t.Run("auth across projects", func(t *testing.T) {
		ak := map[string]string{"apikey": a.AnonKey}
		// B's user does not exist in A, whatever the password.
		refused(t, "B user signs in to A", ts.Do(t, "POST", aAuth+"/token?grant_type=password", ak,
			map[string]string{"email": bUserEmail, "password": bPassword}), http.StatusBadRequest)
		refused(t, "B refresh token at A", ts.Do(t, "POST", aAuth+"/token?grant_type=refresh_token", ak,
			map[string]string{"refresh_token": bUser.RefreshToken}), http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound)
		for _, m := range []string{"GET", "PUT"} {
			h := map[string]string{"apikey": a.AnonKey, "Authorization": bearer(bUser.AccessToken)}
			refused(t, m+" /user at A with B's JWT", ts.Do(t, m, aAuth+"/user", h, map[string]any{"data": map[string]any{"pwned": true}}), http.StatusUnauthorized, http.StatusForbidden)
		}
		refused(t, "logout at A with B's JWT", ts.Do(t, "POST", aAuth+"/logout", map[string]string{"apikey": a.AnonKey, "Authorization": bearer(bUser.AccessToken)}, nil), http.StatusUnauthorized, http.StatusForbidden)
		refused(t, "A's admin users API with B's JWT", ts.Do(t, "GET", aAuth+"/admin/users", map[string]string{"apikey": a.AnonKey, "Authorization": bearer(bUser.AccessToken)}, nil), http.StatusUnauthorized, http.StatusForbidden)
		// B's auth endpoints with A's keys.
		for _, call := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/signup", map[string]string{"email": "mallory@a.example", "password": "mallory-pw-1"}},
			{"POST", "/token?grant_type=password", map[string]string{"email": bUserEmail, "password": bPassword}},
			{"POST", "/token?grant_type=refresh_token", map[string]string{"refresh_token": bUser.RefreshToken}},
			{"GET", "/user", nil},
			{"PUT", "/user", map[string]any{"password": "new-password-1"}},
			{"POST", "/logout", nil},
			{"GET", "/admin/users", nil},
			{"GET", "/settings", nil},
		} {
			for _, h := range []map[string]string{
				{"apikey": a.AnonKey},
				{"apikey": a.ServiceKey},
				{"apikey": a.ServiceKey, "Authorization": bearer(bUser.AccessToken)},
			} {
				refused(t, "B auth "+call.method+" "+call.path, ts.Do(t, call.method, bAuth+call.path, h, call.body), http.StatusUnauthorized)
			}
		}
	})

	t.Run("admin API as A's owner", func(t *testing.T) {
		p := "/admin/v1/projects/" + b.Ref
		var bKeyList []struct {
			ID string `json:"id"`
		}
		ts.Admin(t, "GET", "/projects/"+b.Ref+"/keys", nil).JSON(t, &bKeyList)
		if len(bKeyList) == 0 {
			t.Fatal("B has no keys")
		}
		calls := []struct {
			method, path string
			body         any
		}{
			{"GET", "", nil}, {"DELETE", "", nil},
			{"GET", "/settings", nil}, {"PATCH", "/settings", map[string]any{"cors_origins": []string{"https://evil.example"}}},
			{"POST", "/sql", map[string]string{"query": "select * from secrets"}},
			{"GET", "/keys", nil}, {"POST", "/keys", map[string]string{"role": "service_role"}}, {"DELETE", "/keys/" + bKeyList[0].ID, nil},
			{"GET", "/audit", nil}, {"GET", "/openapi.json", nil}, {"GET", "/types/typescript", nil}, {"GET", "/types/go", nil},
			{"GET", "/tables", nil}, {"GET", "/tables/secrets", nil}, {"DELETE", "/tables/secrets", nil},
			{"POST", "/tables", map[string]any{"name": "planted", "columns": []map[string]any{{"name": "id", "type": "int"}}}},
			{"PATCH", "/tables/secrets", map[string]any{"drop_columns": []string{"v"}}},
			{"GET", "/members", nil}, {"PUT", "/members", []map[string]string{{"email": "alice@a.example", "role": "owner"}}},
			{"GET", "/rate-limits", nil}, {"PUT", "/rate-limits", map[string]any{"rules": []any{}}}, {"GET", "/usage", nil},
			{"GET", "/rules", nil}, {"PUT", "/rules", map[string]any{"policies": []any{}, "roles": []any{}}},
			{"POST", "/rules/check", map[string]any{"role": "anon", "table": "secrets", "action": "select"}},
			{"GET", "/users", nil}, {"POST", "/users", map[string]string{"email": "m@x.example", "password": "mallory-pw-1"}},
			{"DELETE", "/users/" + bUser.User.ID, nil}, {"PUT", "/users/" + bUser.User.ID + "/roles", []string{"admin"}},
			{"GET", "/rest/v1/secrets", nil}, {"DELETE", "/rest/v1/secrets?id=gt.0", nil},
		}
		for _, c := range calls {
			refused(t, "alice "+c.method+" B"+c.path, ts.Do(t, c.method, p+c.path, alice, c.body), http.StatusNotFound, http.StatusForbidden)
		}
		// Alice's list shows A only; her own project's admin SQL cannot read B.
		res := ts.Do(t, "GET", "/admin/v1/projects", alice, nil)
		noLeak(t, "alice lists projects", res)
		if res.Status != 200 || strings.Contains(string(res.Body), `"`+b.Ref+`"`) || !strings.Contains(string(res.Body), a.Ref) {
			t.Fatalf("alice's project list: %d %s", res.Status, res.Body)
		}
		refused(t, "alice SQL into B", ts.Do(t, "POST", "/admin/v1/projects/"+a.Ref+"/sql", alice,
			map[string]string{"query": "select v from " + b.Schema + ".secrets"}), http.StatusBadRequest)
		noLeak(t, "alice's audit", ts.Do(t, "GET", "/admin/v1/projects/"+a.Ref+"/audit", alice, nil))
		// A project key is never an admin token.
		for _, k := range []string{a.ServiceKey, b.ServiceKey, aUser.AccessToken} {
			refused(t, "key as admin token", ts.Do(t, "GET", p, map[string]string{"Authorization": bearer(k)}, nil), http.StatusUnauthorized)
		}
	})

	// B after all of it: the same rows, user and keys.
	res = ts.Rest(t, b, b.ServiceKey, "GET", "/secrets?select=id,v&order=id", nil, nil)
	if want := fmt.Sprintf(`[{"id":1,"v":%q}, `+"\n"+` {"id":2,"v":%q}]`, bSecret, bSecret+"-2"); res.Status != 200 || string(res.Body) != want {
		t.Fatalf("B's rows changed: %d %s", res.Status, res.Body)
	}
	if rows := ts.SQL(t, b.Ref, "select count(*) as n from secrets where v like 'from A%' or id > 2"); fmt.Sprint(rows[0]["n"]) != "0" {
		t.Fatalf("A's writes reached B: %v", rows)
	}
	if rows := ts.SQL(t, b.Ref, "select count(*) as n from pg_tables where schemaname = '"+b.Schema+"' and tablename <> 'secrets'"); fmt.Sprint(rows[0]["n"]) != "0" {
		t.Fatalf("A created tables in B: %v", rows)
	}
	res = ts.Do(t, "POST", bAuth+"/token?grant_type=password", map[string]string{"apikey": b.AnonKey}, map[string]string{"email": bUserEmail, "password": bPassword})
	if res.Status != 200 {
		t.Fatalf("B's user can no longer sign in: %d %s", res.Status, res.Body)
	}
	res = ts.Admin(t, "GET", "/projects/"+b.Ref+"/users", nil)
	if res.Status != 200 || strings.Count(string(res.Body), `"aud"`) != 1 || !strings.Contains(string(res.Body), bUserEmail) {
		t.Fatalf("B's users changed: %d %s", res.Status, res.Body)
	}
	var bKeys []map[string]any
	ts.Admin(t, "GET", "/projects/"+b.Ref+"/keys", nil).JSON(t, &bKeys)
	if len(bKeys) != 2 {
		t.Fatalf("B's keys changed: %v", bKeys)
	}
	for _, k := range bKeys {
		if k["revoked_at"] != nil {
			t.Fatalf("B's key revoked: %v", k)
		}
	}
	var st struct {
		CORSOrigins []string `json:"cors_origins"`
	}
	ts.Admin(t, "GET", "/projects/"+b.Ref+"/settings", nil).JSON(t, &st)
	for _, o := range st.CORSOrigins {
		if strings.Contains(o, "evil") {
			t.Fatalf("B's settings changed: %v", st)
		}
	}
}
