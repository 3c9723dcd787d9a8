package authz_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/authz"
	"github.com/plinth-dev/plinth/tenants/principal"
)

const (
	benchProjects = 10_000 // other projects, each with benchPolicies rules
	benchPolicies = 50
)

// benchFixture fills plinth.casbin_rule the way a busy server's is:
// 10,000 projects with 50 policies and a few role links each (500k+ rows),
// plus the measured project "bench", whose 50 policies mix roles, actions,
// a pattern, a function and conditions.
func benchFixture(b *testing.B) *testserver.TS {
	b.Helper()
	ts := testserver.Start(b)
	ts.CreateProject(b, "bench")
	pool := controlPool(b, ts)
	ctx := context.Background()
	start := time.Now()
	// Minimal project rows (no schema or roles: rules only need the row).
	if _, err := pool.Exec(ctx, `insert into plinth.projects (ref, name, schema_name, login_role, login_secret)
		select 'other-' || i, 'other', 'bench_s' || i, 'bench_l' || i, '\x00'::bytea from generate_series(1, $1) i`, benchProjects); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `insert into plinth.casbin_rule (project_ref, ptype, v0, v1, v2, v3)
		select 'other-' || i, 'p', (array['anon','authenticated','editor','admin'])[1 + j % 4], 't' || j,
		       (array['select','insert','update','delete','*'])[1 + j % 5],
		       case when j % 2 = 0 then 'owner_id=eq.{auth.uid}' else '' end
		from generate_series(1, $1) i, generate_series(1, $2) j`, benchProjects, benchPolicies); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `insert into plinth.casbin_rule (project_ref, ptype, v0, v1)
		select 'other-' || i, 'g', r.child, r.parent from generate_series(1, $1) i,
		(values ('editor', 'authenticated'), ('admin', 'editor')) r(child, parent)`, benchProjects); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `analyze plinth.casbin_rule`); err != nil {
		b.Fatal(err)
	}
	// The measured project: 50 policies over 4 roles.
	rows := []string{
		`('bench','role','editor','',  '',      '')`, `('bench','role','admin','',  '',      '')`,
		`('bench','g','editor','authenticated','','')`, `('bench','g','admin','editor','','')`,
		`('bench','g','user:` + alice + `','editor','','')`,
	}
	// 12 tables with 4 policies each, a function and a pattern: 50.
	for k := range 12 {
		t := fmt.Sprintf("t%d", k)
		rows = append(rows,
			"('bench','p','anon','"+t+"','select','public=is.true')",
			"('bench','p','authenticated','"+t+"','select','owner_id=eq.{auth.uid}')",
			"('bench','p','editor','"+t+"','*','or=(public.is.true,team=eq.{auth.claims.team})')",
			"('bench','p','admin','"+t+"','delete','')")
	}
	rows = append(rows, "('bench','p','authenticated','rpc:fn1','execute','')", "('bench','p','admin','x*','select','')")
	sql := `insert into plinth.casbin_rule (project_ref, ptype, v0, v1, v2, v3) values `
	for i, r := range rows {
		if i > 0 {
			sql += ","
		}
		sql += r
	}
	if _, err := pool.Exec(ctx, sql); err != nil {
		b.Fatal(err)
	}
	b.Logf("fixture: %d projects, %d rule rows in %s", benchProjects+1, benchProjects*(benchPolicies+2)+len(rows), time.Since(start).Round(time.Millisecond))
	return ts
}

// BenchmarkRules measures one project's decision (Casbin Enforce plus the
// collection of every matching policy's condition and the substitution of
// the caller's values: what the data API pays per table it touches) while
// 10,000 other projects' rules fill the table and the LRU.
//
//	go test ./platform/authz -run '^$' -bench Rules -benchtime 2s
func BenchmarkRules(b *testing.B) {
	ts := benchFixture(b)
	pool := controlPool(b, ts)
	ctx := context.Background()
	caller := &principal.Principal{Ref: "bench", Role: principal.Authenticated, UserID: alice,
		Claims: map[string]any{"sub": alice, "role": "authenticated", "team": "red"}}

	// Every other project's enforcer in memory, next to the measured one.
	full, err := authz.New(pool, authz.Options{Size: benchProjects + 1})
	if err != nil {
		b.Fatal(err)
	}
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if _, err := full.Rules(ctx, fmt.Sprintf("other-%d", i)); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := 1; i <= benchProjects; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	b.Logf("loaded %d enforcers in %s; heap %.1f KiB per project", full.Len(), time.Since(start).Round(time.Millisecond),
		float64(ms1.HeapAlloc-ms0.HeapAlloc)/benchProjects/1024)

	decide := func(b *testing.B, e *authz.Engine, table, action string) {
		acc, err := e.Access(ctx, caller)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := acc(table, action); err != nil { // warm: load + first decision
			b.Fatal(err)
		}
		b.ResetTimer()
		for b.Loop() {
			if _, err := acc(table, action); err != nil {
				b.Fatal(err)
			}
		}
	}
	uncached, err := authz.New(pool, authz.Options{Size: benchProjects + 1, DecisionCache: -1})
	if err != nil {
		b.Fatal(err)
	}
	// Alice is an editor: select on t3 matches authenticated's and
	// editor's policies, so two conditions are ORed and substituted.
	b.Run("cached/allowed-2-conditions", func(b *testing.B) { decide(b, full, "t3", "select") })
	b.Run("uncached/allowed-2-conditions", func(b *testing.B) { decide(b, uncached, "t3", "select") })
	b.Run("uncached/rpc", func(b *testing.B) { decide(b, uncached, "rpc:fn1", "execute") })
	for _, e := range []struct {
		name string
		e    *authz.Engine
	}{{"cached/denied", full}, {"uncached/denied", uncached}} {
		b.Run(e.name, func(b *testing.B) {
			acc, err := e.e.Access(ctx, caller)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := acc("zzz", "select"); err == nil {
					b.Fatal("allowed")
				}
			}
		})
	}
	// Loading one project's enforcer from the 500k-row table (LRU miss).
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			full.Forget("bench")
			if _, err := full.Rules(ctx, "bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
