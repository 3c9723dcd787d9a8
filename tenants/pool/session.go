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
	// ReadOnly runs the query in a read-only transaction (the data API's
	// GET requests, as PostgREST: a GET can never write).
	ReadOnly bool
	// Rollback runs the query in a transaction that is rolled back
	// afterwards (Prefer: tx=rollback).
	Rollback bool
}

const settingsSQL = `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('statement_timeout', $3, true)`

// Read-only can be switched on at any point of a transaction (only going
// back to read-write is restricted), so it joins the settings statement.
const settingsReadOnlySQL = settingsSQL + `, set_config('transaction_read_only', 'on', true)`

func (s Session) settings() string {
	if s.ReadOnly {
		return settingsReadOnlySQL
	}
	return settingsSQL
}

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
// A query that returns no row yields nil values. With s.Rollback the two
// run between BEGIN and ROLLBACK, still in the same round trip.
func QueryRow(ctx context.Context, p *pgxpool.Pool, s Session, sql string, args ...any) ([][]byte, error) {
	if !s.Rollback {
		return queryRow(ctx, p, s, sql, args)
	}
	c, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Release()
	out, err := queryRow(ctx, c, s, sql, args)
	if err != nil && c.Conn().PgConn().TxStatus() != 'I' {
		// The failed statement skipped the queued ROLLBACK; end the
		// transaction so the connection goes back to the pool clean (if
		// this fails too, Release destroys the connection).
		_, _ = c.Exec(context.WithoutCancel(ctx), "rollback")
	}
	return out, err
}

type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

func queryRow(ctx context.Context, p batchSender, s Session, sql string, args []any) ([][]byte, error) {
	b := &pgx.Batch{}
	if s.Rollback {
		b.Queue("begin")
	}
	b.Queue(s.settings(), s.args()...)
	b.Queue(sql, args...)
	if s.Rollback {
		b.Queue("rollback")
	}
	br := p.SendBatch(ctx, b)
	defer br.Close()
	if s.Rollback {
		if _, err := br.Exec(); err != nil {
			return nil, err
		}
	}
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
