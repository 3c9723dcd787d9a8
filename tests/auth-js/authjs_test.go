// Package authjs runs auth.test.js, which drives a live server with the real
// @supabase/supabase-js (pinned in package-lock.json; `npm ci` in this
// directory, done by scripts/deps.sh, installs it).
package authjs_test

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/config"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// schema is the app the JS test writes to: notes owned by the signed-in
// user, Supabase-style (a foreign key to the project's users, RLS by
// auth.uid()), plus the access rules that let authenticated callers at it.
const schema = `
create table notes (
	id bigserial primary key,
	owner uuid not null default auth.uid() references %s.users(id) on delete cascade,
	body text not null
);
alter table notes enable row level security;
create policy notes_select on notes for select to authenticated using (owner = auth.uid());
create policy notes_insert on notes for insert to authenticated with check (owner = auth.uid());
create policy notes_update on notes for update to authenticated using (owner = auth.uid()) with check (owner = auth.uid());
create policy notes_delete on notes for delete to authenticated using (owner = auth.uid());`

func TestSupabaseJSAuth(t *testing.T) {
	// The JS test signs in more often than a person would.
	ts := testserver.Start(t, func(c *config.Config) {
		c.RateLimitSignin, c.RateLimitRefresh = config.RateSpec{}, config.RateSpec{}
	})
	p := ts.CreateProject(t, "jsauth")
	ts.SQL(t, p.Ref, fmt.Sprintf(schema, "auth_"+p.Schema))
	if res := ts.Admin(t, "PUT", "/projects/"+p.Ref+"/rules", map[string]any{
		"policies": []map[string]any{{"role": "authenticated", "table": "notes", "action": "*", "condition": ""}},
	}); res.Status != http.StatusOK {
		t.Fatalf("rules: %d %s", res.Status, res.Body)
	}
	testenv.NodeTest{
		Dir: ".", Files: []string{"auth.test.js"}, Module: "@supabase/supabase-js",
		Env: []string{
			"PLINTH_PROJECT_URL=" + ts.URL + "/p/" + p.Ref,
			"PLINTH_REF=" + p.Ref,
			"PLINTH_ANON_KEY=" + p.AnonKey,
			"PLINTH_SERVICE_KEY=" + p.ServiceKey,
			"PLINTH_ADMIN_URL=" + ts.URL,
			"PLINTH_ADMIN_TOKEN=" + testserver.AdminToken,
		},
	}.Run(t)
}
