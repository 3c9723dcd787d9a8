package authz

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what the adapter and the rules store need from the control-plane
// pool (pgxpool.Pool has it).
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Adapter is a Casbin adapter over plinth.casbin_rule bound to ONE project.
// Casbin's LoadPolicy after a filtered load reads the adapter unfiltered, so
// instead of a filtered adapter shared by all projects each enforcer gets
// its own adapter whose every statement is scoped to its project: an
// unfiltered load is the project's rows and nothing else.
//
// Only p (policies) and g (role links) rows are Casbin's; the table also
// holds the rules API's role declarations (ptype "role"), which the adapter
// neither loads nor touches.
type Adapter struct {
	db  DB
	ref string
	// timeout bounds each statement: Casbin's adapter interface has no
	// context.
	timeout time.Duration
}

// NewAdapter binds an adapter to the project ref.
func NewAdapter(db DB, ref string) *Adapter {
	return &Adapter{db: db, ref: ref, timeout: 10 * time.Second}
}

var _ persist.Adapter = (*Adapter)(nil)

func (a *Adapter) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), a.timeout)
}

// LoadPolicy loads the project's p and g rows into m, in insertion order.
func (a *Adapter) LoadPolicy(m model.Model) error {
	ctx, cancel := a.ctx()
	defer cancel()
	rows, err := a.db.Query(ctx, `select ptype, v0, v1, v2, v3, v4, v5 from plinth.casbin_rule
		where project_ref = $1 and ptype in ('p', 'g') order by id`, a.ref)
	if err != nil {
		return fmt.Errorf("load rules of %s: %w", a.ref, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r [7]string
		if err := rows.Scan(&r[0], &r[1], &r[2], &r[3], &r[4], &r[5], &r[6]); err != nil {
			return fmt.Errorf("load rules of %s: %w", a.ref, err)
		}
		// The model's p has four fields (sub, obj, act, cond) and g two;
		// a p row keeps its possibly empty cond.
		n := 3
		if r[0] == "p" {
			n = 5
		}
		if err := persist.LoadPolicyArray(r[:n], m); err != nil {
			return fmt.Errorf("load rules of %s: %w", a.ref, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load rules of %s: %w", a.ref, err)
	}
	return nil
}

// SavePolicy replaces the project's p and g rows with the model's, in one
// transaction.
func (a *Adapter) SavePolicy(m model.Model) error {
	var rows []ruleRow
	for _, sec := range []string{"p", "g"} {
		for ptype, ast := range m[sec] {
			for _, r := range ast.Policy {
				rows = append(rows, newRow(ptype, r))
			}
		}
	}
	ctx, cancel := a.ctx()
	defer cancel()
	return pgx.BeginFunc(ctx, a.db, func(tx pgx.Tx) error {
		if err := lockRules(ctx, tx, a.ref); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `delete from plinth.casbin_rule where project_ref = $1 and ptype in ('p', 'g')`, a.ref); err != nil {
			return err
		}
		return insertRows(ctx, tx, a.ref, rows)
	})
}

// AddPolicy adds one rule (Casbin's auto-save).
func (a *Adapter) AddPolicy(_, ptype string, rule []string) error {
	ctx, cancel := a.ctx()
	defer cancel()
	return insertRows(ctx, a.db, a.ref, []ruleRow{newRow(ptype, rule)})
}

// RemovePolicy removes one rule (Casbin's auto-save).
func (a *Adapter) RemovePolicy(_, ptype string, rule []string) error {
	r := newRow(ptype, rule)
	ctx, cancel := a.ctx()
	defer cancel()
	_, err := a.db.Exec(ctx, `delete from plinth.casbin_rule where project_ref = $1 and ptype = $2
		and v0 = $3 and v1 = $4 and v2 = $5 and v3 = $6 and v4 = $7 and v5 = $8`,
		a.ref, r.ptype, r.v[0], r.v[1], r.v[2], r.v[3], r.v[4], r.v[5])
	return err
}

// RemoveFilteredPolicy removes the rules whose fields from fieldIndex on
// equal fieldValues ("" matches anything), as Casbin defines it.
func (a *Adapter) RemoveFilteredPolicy(_, ptype string, fieldIndex int, fieldValues ...string) error {
	if fieldIndex < 0 || fieldIndex+len(fieldValues) > 6 {
		return fmt.Errorf("remove filtered policy: field index %d out of range", fieldIndex)
	}
	var sb strings.Builder
	sb.WriteString(`delete from plinth.casbin_rule where project_ref = $1 and ptype = $2`)
	args := []any{a.ref, ptype}
	for i, v := range fieldValues {
		if v == "" {
			continue
		}
		args = append(args, v)
		sb.WriteString(" and v" + strconv.Itoa(fieldIndex+i) + " = $" + strconv.Itoa(len(args)))
	}
	ctx, cancel := a.ctx()
	defer cancel()
	_, err := a.db.Exec(ctx, sb.String(), args...)
	return err
}

// ruleRow is one casbin_rule row.
type ruleRow struct {
	ptype string
	v     [6]string
}

func newRow(ptype string, rule []string) ruleRow {
	r := ruleRow{ptype: ptype}
	copy(r.v[:], rule)
	return r
}

// Execer runs a statement (a pool, a connection or a transaction).
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// insertRows writes rows in one statement; ids keep their order.
func insertRows(ctx context.Context, q Execer, ref string, rows []ruleRow) error {
	if len(rows) == 0 {
		return nil
	}
	cols := make([][]string, 7)
	for _, r := range rows {
		cols[0] = append(cols[0], r.ptype)
		for i := range 6 {
			cols[i+1] = append(cols[i+1], r.v[i])
		}
	}
	_, err := q.Exec(ctx, `insert into plinth.casbin_rule (project_ref, ptype, v0, v1, v2, v3, v4, v5)
		select $1, t.ptype, t.v0, t.v1, t.v2, t.v3, t.v4, t.v5 from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
		with ordinality as t(ptype, v0, v1, v2, v3, v4, v5, n) order by t.n`,
		ref, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6])
	return err
}

// lockRules serialises rule writers of one project, so two concurrent
// replacements never interleave their deletes and inserts.
func lockRules(ctx context.Context, q Execer, ref string) error {
	_, err := q.Exec(ctx, `select pg_advisory_xact_lock(hashtextextended('plinth_rules:' || $1, 0))`, ref)
	return err
}
