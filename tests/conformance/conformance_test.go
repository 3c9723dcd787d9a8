// Package conformance drives a live Plinth server with the real Supabase
// clients (@supabase/postgrest-js, supabase-js) and openapi-typescript,
// through node's built-in test runner. The node tests are the *.test.mjs
// files beside this one; fixture.sql is the schema and data they expect.
package conformance

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/internal/testserver"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func TestSupabaseClients(t *testing.T) {
	ts := testserver.Start(t)
	p := ts.CreateProject(t, "conformance")
	fixture, err := os.ReadFile("fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	ts.SQL(t, p.Ref, string(fixture))
	files, err := filepath.Glob("*.test.mjs")
	if err != nil || len(files) == 0 {
		t.Fatalf("no node test files: %v", err)
	}
	testenv.NodeTest{
		Dir: ".", Files: files, Module: "@supabase/postgrest-js",
		Env: []string{
			"PLINTH_URL=" + ts.URL,
			"PLINTH_REF=" + p.Ref,
			"PLINTH_ANON_KEY=" + p.AnonKey,
			"PLINTH_SERVICE_KEY=" + p.ServiceKey,
			"PLINTH_ADMIN_TOKEN=" + testserver.AdminToken,
		},
	}.Run(t)
}
