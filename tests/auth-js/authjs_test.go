// Package authjs runs auth.test.js, which drives a live server with the real
// @supabase/supabase-js (pinned in package-lock.json; `npm ci` in this
// directory, done by scripts/deps.sh, installs it).
package authjs_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

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
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat("node_modules/@supabase/supabase-js/package.json"); err != nil {
		t.Fatal("@supabase/supabase-js is not installed here: run `sh scripts/deps.sh` (npm ci in tests/auth-js)")
	}
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

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "auth.test.js")
	cmd.Env = append(os.Environ(),
		"PLINTH_PROJECT_URL="+ts.URL+"/p/"+p.Ref,
		"PLINTH_REF="+p.Ref,
		"PLINTH_ANON_KEY="+p.AnonKey,
		"PLINTH_SERVICE_KEY="+p.ServiceKey,
		"PLINTH_ADMIN_URL="+ts.URL,
		"PLINTH_ADMIN_TOKEN="+testserver.AdminToken,
		"NO_COLOR=1",
	)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("supabase-js auth test failed: %v", err)
	}
}
