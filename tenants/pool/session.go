package pool

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Session is what a request sets before its query runs: the project role it
// acts as, the JWT claims that auth.uid()/auth.jwt() read, and a time bound.
type Session struct {
	Role             string
	Claims           string // JSON
	StatementTimeout time.Duration
}

const settingsSQL = `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('statement_timeout', $3, true)`

func (s Session) args() []any {
	claims := s.Claims
	if claims == "" {
		claims = "{}"
	}
	return []any{s.Role, claims, strconv.FormatInt(s.StatementTimeout.Milliseconds(), 10)}
}

// QueryRow runs the settings statement and query as one pipelined implicit
// transaction (one round trip) and returns the raw bytes of the first row's
// columns, without decoding them: Postgres builds the JSON, Go passes it on.
// A query that returns no row yields nil values.
func QueryRow(ctx context.Context, p *pgxpool.Pool, s Session, sql string, args ...any) ([][]byte, error) {
	b := &pgx.Batch{}
	b.Queue(settingsSQL, s.args()...)
	b.Queue(sql, args...)
	br := p.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]byte
	if rows.Next() {
		raw := rows.RawValues()
		out = make([][]byte, len(raw))
		for i, v := range raw {
			if v != nil {
				out[i] = append([]byte(nil), v...)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, br.Close()
}

// Result is one statement's outcome in a script.
type Result struct {
	Fields []pgconn.FieldDescription
	Rows   [][][]byte // text format
	Tag    string
}

// Script runs admin SQL (possibly several statements) as role in a transaction
// on a connection of its own that is thrown away afterwards: tenant SQL may
// leave session state behind (SET, temp tables, an open transaction) and no
// later request may inherit it. It returns the last statement's result.
func Script(ctx context.Context, p *pgxpool.Pool, role, schema string, timeout time.Duration, sql string) (*Result, error) {
	c, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	conn := c.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	pc := conn.PgConn()

	setup := fmt.Sprintf("BEGIN; SELECT set_config('role', %s, true), set_config('search_path', %s, true), set_config('statement_timeout', '%d', true)",
		literal(role), literal(pgx.Identifier{schema}.Sanitize()), timeout.Milliseconds())
	if _, err := pc.Exec(ctx, setup).ReadAll(); err != nil {
		return nil, err
	}
	results, err := pc.Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, err
	}
	if _, err := pc.Exec(ctx, "COMMIT").ReadAll(); err != nil {
		return nil, err
	}
	if len(results) == 0 {
		return nil, errors.New("empty query")
	}
	last := results[len(results)-1]
	return &Result{Fields: last.FieldDescriptions, Rows: last.Rows, Tag: last.CommandTag.String()}, nil
}

func literal(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}
