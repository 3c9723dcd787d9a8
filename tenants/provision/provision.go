// Package provision creates and drops a project's Postgres footprint: its
// schema, its NOLOGIN roles owner/anon/authenticated, the NOINHERIT login role
// that is a member of those three and nothing else, default privileges, and
// the project's metadata and keys — all in one transaction, so a failure
// leaves nothing behind.
package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/plinth-dev/plinth/platform/seal"
	"github.com/plinth-dev/plinth/platform/store"
)

// ValidRef reports whether ref is a valid project ref (DESIGN.md §3):
// ^[a-z][a-z0-9-]{1,38}[a-z0-9]$, checked by hand because every project
// request checks it.
func ValidRef(ref string) bool {
	if len(ref) < 3 || len(ref) > 40 {
		return false
	}
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		lower, digit := c >= 'a' && c <= 'z', c >= '0' && c <= '9'
		switch {
		case i == 0 && !lower,
			i == len(ref)-1 && !lower && !digit,
			!lower && !digit && c != '-':
			return false
		}
	}
	return true
}

// Names are a project's Postgres identifiers.
type Names struct {
	Schema, Owner, Anon, Authenticated, Login string
	// Auth is the schema holding the project's end users (tenants/auth).
	Auth string
}

// AuthSchema names the schema of a project's end users. The "auth_" prefix
// (rather than a suffix) keeps it apart from every tenant schema: a ref
// such as "shop-auth" cannot produce it.
func AuthSchema(schema string) string { return "auth_" + schema }

// NamesFor derives identifiers from the tenant prefix and ref.
func NamesFor(prefix, ref string) Names {
	s := prefix + strings.ReplaceAll(ref, "-", "_")
	return Names{Schema: s, Owner: s + "_owner", Anon: s + "_anon", Authenticated: s + "_authenticated", Login: s + "_login", Auth: AuthSchema(s)}
}

// Provisioner creates and drops projects.
type Provisioner struct {
	Store  *store.Store
	Sealer *seal.Sealer
	Prefix string
}

// Result is a new project with the keys that can be shown once.
type Result struct {
	Project    *store.Project
	AnonKey    *store.APIKey
	ServiceKey *store.APIKey
}

// Create provisions a project. It returns store.ErrConflict if the ref (or
// its schema) is taken.
// extra runs inside the same transaction (e.g. to add the creator as owner).
func (p *Provisioner) Create(ctx context.Context, ref, name string, audit store.Audit, extra func(pgx.Tx) error) (*Result, error) {
	if !ValidRef(ref) {
		return nil, fmt.Errorf("invalid ref %q", ref)
	}
	n := NamesFor(p.Prefix, ref)
	password := store.RandomString(40)
	proj := &store.Project{
		Ref: ref, Name: name, Schema: n.Schema, LoginRole: n.Login,
		LoginSecret: p.Sealer.Seal([]byte(password), []byte(ref)),
		Settings:    store.DefaultSettings(),
	}
	res := &Result{Project: proj}
	err := p.Store.Tx(ctx, func(tx pgx.Tx) error {
		// The metadata row first: a duplicate ref fails before any DDL.
		if err := store.InsertProject(ctx, tx, proj); err != nil {
			return err
		}
		if err := createRoles(ctx, tx, n, password); err != nil {
			return err
		}
		var err error
		if res.AnonKey, err = store.NewKey(ctx, tx, ref, store.RoleAnon); err != nil {
			return err
		}
		if res.ServiceKey, err = store.NewKey(ctx, tx, ref, store.RoleServiceRole); err != nil {
			return err
		}
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		audit.ProjectRef = ref
		audit.Action = "project.create"
		audit.Target = ref
		return store.WriteAudit(ctx, tx, audit)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }

func createRoles(ctx context.Context, tx pgx.Tx, n Names, password string) error {
	var db string
	if err := tx.QueryRow(ctx, "select current_database()").Scan(&db); err != nil {
		return err
	}
	o, a, u, l, s := ident(n.Owner), ident(n.Anon), ident(n.Authenticated), ident(n.Login), ident(n.Schema)
	stmts := []string{
		"CREATE ROLE " + o + " NOLOGIN",
		"CREATE ROLE " + a + " NOLOGIN",
		"CREATE ROLE " + u + " NOLOGIN",
		// The password is base62, so quoting it as a literal is safe.
		"CREATE ROLE " + l + " LOGIN NOINHERIT PASSWORD '" + password + "'",
		"GRANT " + o + ", " + a + ", " + u + " TO " + l,
		// Supabase-style group roles: policies TO authenticated reach this
		// project's authenticated role through membership.
		"GRANT anon TO " + a,
		"GRANT authenticated TO " + u,
		"GRANT service_role TO " + o,
		"GRANT CONNECT ON DATABASE " + ident(db) + " TO " + l,
		// On PG15 creating a schema owned by another role needs membership in
		// it; the grant lives only inside this transaction.
		"GRANT " + o + " TO CURRENT_USER",
		"CREATE SCHEMA " + s + " AUTHORIZATION " + o,
		"GRANT USAGE ON SCHEMA " + s + " TO " + a + ", " + u,
		"ALTER DEFAULT PRIVILEGES FOR ROLE " + o + " IN SCHEMA " + s + " GRANT ALL ON TABLES TO " + a + ", " + u,
		"ALTER DEFAULT PRIVILEGES FOR ROLE " + o + " IN SCHEMA " + s + " GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO " + a + ", " + u,
		"ALTER DEFAULT PRIVILEGES FOR ROLE " + o + " IN SCHEMA " + s + " GRANT EXECUTE ON FUNCTIONS TO " + a + ", " + u,
		"REVOKE " + o + " FROM CURRENT_USER",
		// End users, owned by the control role (migrations/00003_auth.sql).
		"SELECT plinth.create_auth_schema(" + quoteLiteral(n.Auth) + ", " + quoteLiteral(n.Owner) + ")",
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("provision %s: %w", n.Schema, err)
		}
	}
	return nil
}

// Drop removes a project: schema and everything in it, its roles, keys,
// rules and users. Sessions of its login are terminated first so no tenant
// connection outlives the project.
func (p *Provisioner) Drop(ctx context.Context, ref string, audit store.Audit) error {
	proj, err := p.Store.Project(ctx, ref)
	if err != nil {
		return err
	}
	n := NamesFor(p.Prefix, ref)
	if proj.Schema != n.Schema {
		// Created under another prefix; trust the stored names.
		n = Names{Schema: proj.Schema, Owner: proj.Schema + "_owner", Anon: proj.Schema + "_anon", Authenticated: proj.Schema + "_authenticated", Login: proj.LoginRole, Auth: AuthSchema(proj.Schema)}
	}
	return p.Store.Tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `select 1 from plinth.projects where ref = $1 for update`, ref); err != nil {
			return err
		}
		o, a, u, l := ident(n.Owner), ident(n.Anon), ident(n.Authenticated), ident(n.Login)
		stmts := []string{
			"GRANT " + o + ", " + a + ", " + u + ", " + l + " TO CURRENT_USER",
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = " + quoteLiteral(n.Login),
			"DROP SCHEMA IF EXISTS " + ident(n.Schema) + " CASCADE",
			"DROP SCHEMA IF EXISTS " + ident(n.Auth) + " CASCADE",
			"DROP OWNED BY " + o + ", " + a + ", " + u + ", " + l,
			"DROP ROLE " + l,
			"DROP ROLE " + o,
			"DROP ROLE " + a,
			"DROP ROLE " + u,
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("drop %s: %w", n.Schema, err)
			}
		}
		if _, err := tx.Exec(ctx, `delete from plinth.projects where ref = $1`, ref); err != nil {
			return err
		}
		audit.ProjectRef = ref
		audit.Action = "project.delete"
		audit.Target = ref
		if err := store.WriteAudit(ctx, tx, audit); err != nil {
			return err
		}
		return store.Notify(ctx, tx, store.ChannelProject, ref)
	})
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
