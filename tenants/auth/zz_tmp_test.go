package auth_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestTmpBackfill(t *testing.T) {
	ts := start(t)
	p := ts.CreateProject(t, "old-one")
	ctx := context.Background()
	su, _ := pgx.Connect(ctx, ts.DB.SuperURL)
	defer su.Close(ctx)
	if _, err := su.Exec(ctx, `drop schema auth_`+p.Schema+` cascade`); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile("../../migrations/00003_auth.sql")
	s := string(b)
	i := strings.Index(s, "DO $$")
	j := strings.Index(s[i:], "$$;") + i + 3
	ctl, _ := pgx.Connect(ctx, ts.DB.URL)
	defer ctl.Close(ctx)
	if _, err := ctl.Exec(ctx, s[i:j]); err != nil {
		t.Fatal(err)
	}
	c := &client{ts: ts, p: p}
	c.signUp(t, "x@example.com", "abcdefgh")
	ts.SQL(t, p.Ref, `create table t (u uuid references auth_`+p.Schema+`.users(id))`)
}
