package pool

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/plinth-dev/plinth/internal/lazyctx"
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
	// Timezone, when set, is the transaction's TimeZone (Prefer:
	// timezone), already checked against pg_timezone_names.
	Timezone string
}

const settingsSQL = `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('statement_timeout', $3, true)`

// Read-only can be switched on at any point of a transaction (only going
// back to read-write is restricted), so it joins the settings statement, as
// does a timezone.
const (
	readOnlySQL  = `, set_config('transaction_read_only', 'on', true)`
	timezoneSQL  = `, set_config('timezone', $4, true)`
	settingsRO   = settingsSQL + readOnlySQL
	settingsTZ   = settingsSQL + timezoneSQL
	settingsROTZ = settingsSQL + readOnlySQL + timezoneSQL
)

func (s Session) settings() string {
	switch {
	case s.ReadOnly && s.Timezone != "":
		return settingsROTZ
	case s.ReadOnly:
		return settingsRO
	case s.Timezone != "":
		return settingsTZ
	}
	return settingsSQL
}

// values are the settings statement's parameters, in text format.
func (s Session) values() [][]byte {
	claims := s.Claims
	if claims == "" {
		claims = "{}"
	}
	v := [][]byte{[]byte(s.Role), []byte(claims), strconv.AppendInt(nil, s.StatementTimeout.Milliseconds(), 10)}
	if s.Timezone != "" {
		v = append(v, []byte(s.Timezone))
	}
	return v
}

// QueryRow runs the settings statement and query as one pipelined implicit
// transaction (one round trip) and returns the raw bytes of the first row's
// columns, without decoding them: Postgres builds the JSON, Go passes it on.
// A query that returns no row yields nil values. With s.Rollback the two
// run between BEGIN and ROLLBACK, still in the same round trip. Both
// statements are prepared on the connection the first time it runs them
// (see prepared.go), in the same round trip.
//
// A request context (lazyctx) is not watched by pgx: the connection's I/O
// deadline bounds the round trip instead, which costs no timer of its own.
func QueryRow(ctx context.Context, p *Pool, s Session, sql string, args ...any) ([][]byte, error) {
	var out [][]byte
	err := QueryRowFunc(ctx, p, s, sql, args, func(raw [][]byte) error {
		if raw == nil {
			return nil
		}
		out = make([][]byte, len(raw))
		for i, v := range raw {
			if v != nil {
				out[i] = append([]byte(nil), v...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// QueryRowFunc is QueryRow handing the first row's raw values (nil without
// a row) to read instead of copying them: they are valid only during the
// call. A later error (the statement failing after its row, or the commit)
// still fails QueryRowFunc, so read must not commit anything to the outside.
func QueryRowFunc(ctx context.Context, p *Pool, s Session, sql string, args []any, read func([][]byte) error) error {
	qctx, unwatched := lazyctx.Unwatched(ctx)
	c, err := p.acquire(ctx, qctx) // a bounded wait: see AcquireWait
	if err != nil {
		return err
	}
	defer c.release()
	conn := c.Conn.Conn()
	var deadline time.Time
	runCtx := qctx
	if unwatched {
		runCtx = context.Background() // pgx then skips its context watch altogether
		deadline, _ = ctx.Deadline()
		if time.Until(deadline) <= 0 {
			return context.DeadlineExceeded
		}
		nc := conn.PgConn().Conn()
		_ = nc.SetDeadline(deadline)
		defer func() { _ = nc.SetDeadline(time.Time{}) }()
	}
	err = queryRow(runCtx, conn, s, sql, args, read)
	if err != nil && unwatched && !time.Now().Before(deadline) {
		// pgx saw an I/O timeout; callers (and apierror) know it as the
		// request's deadline.
		err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	if err != nil && !conn.IsClosed() && conn.PgConn().TxStatus() != 'I' {
		// The failed statement skipped the queued ROLLBACK; end the
		// transaction so the connection goes back to the pool clean (if
		// this fails too, Release destroys the connection).
		_, _ = conn.Exec(context.WithoutCancel(ctx), "rollback")
	}
	return err
}

func queryRow(ctx context.Context, conn *pgx.Conn, s Session, sql string, args []any, read func([][]byte) error) error {
	settings := s.settings()
	pc := conn.PgConn()
	st := statementsOf(pc)
	reset := st.full()
	if reset {
		st.reset()
	}
	setDesc, setName := st.lookup(settings)
	qDesc, qName := st.lookup(sql)
	if setDesc != nil && qDesc != nil && !reset && !s.Rollback {
		if qArgs, ok := st.wire.textArgs(args); ok {
			err := runPrepared(ctx, pc, &st.wire, setDesc, st.wire.settings(s), qDesc, qArgs, read)
			resetIfGone(st, err)
			return err
		}
	}
	// Arguments are encoded as the unnamed-statement mode does (text, types
	// left to Postgres), so a prepared statement sees exactly what an
	// unprepared one would.
	var eqb pgx.ExtendedQueryBuilder
	if err := eqb.Build(conn.TypeMap(), nil, args); err != nil {
		return err
	}

	pl := pc.StartPipeline(ctx)
	if reset {
		pl.SendQueryParams("deallocate all", nil, nil, nil, nil)
	}
	if s.Rollback {
		pl.SendQueryParams("begin", nil, nil, nil, nil)
	}
	send(pl, setDesc, setName, settings, s.values(), nil, nil)
	// Parsed only now, with the project role in force.
	send(pl, qDesc, qName, sql, eqb.ParamValues, eqb.ParamFormats, eqb.ResultFormats)
	if s.Rollback {
		pl.SendQueryParams("rollback", nil, nil, nil, nil)
	}
	pl.SendPipelineSync()

	err := func() error {
		if err := pl.Flush(); err != nil {
			return err
		}
		if reset {
			if err := skipResult(pl); err != nil {
				return err
			}
		}
		if s.Rollback {
			if err := skipResult(pl); err != nil {
				return err
			}
		}
		if setName != "" {
			if err := prepareResult(pl, st, settings, setName); err != nil {
				return err
			}
		}
		if err := skipResult(pl); err != nil {
			return err
		}
		if qName != "" {
			if err := prepareResult(pl, st, sql, qName); err != nil {
				return err
			}
		}
		res, err := pl.GetResults()
		if err != nil {
			return err
		}
		rr, ok := res.(*pgconn.ResultReader)
		if !ok {
			return fmt.Errorf("pipeline: expected a result, got %T", res)
		}
		if rr.NextRow() {
			if err := read(rr.Values()); err != nil {
				_, _ = rr.Close()
				return err
			}
			if _, err := rr.Close(); err != nil {
				return err
			}
		} else {
			// No row: a failed statement says why here.
			if _, err := rr.Close(); err != nil {
				return err
			}
			if err := read(nil); err != nil {
				return err
			}
		}
		if s.Rollback {
			if err := skipResult(pl); err != nil {
				return err
			}
		}
		return nil
	}()
	resetIfGone(st, err)
	if cerr := pl.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// resetIfGone makes the connection prepare everything afresh, under new
// names, after a statement is gone (tenant code can DEALLOCATE, the
// settings statement's too) or its plan no longer fits.
func resetIfGone(st *statements, err error) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "26000" || pe.Code == "0A000") {
		st.reset()
	}
}

// send queues a statement: prepared before (sd), prepared now (name), or
// unnamed.
func send(pl *pgconn.Pipeline, sd *pgconn.StatementDescription, name, sql string, values [][]byte, formats, results []int16) {
	switch {
	case sd != nil:
		pl.SendQueryStatement(sd, values, formats, results)
	case name != "":
		pl.SendPrepare(name, sql, nil)
		pl.SendQueryPrepared(name, values, formats, results)
	default:
		pl.SendQueryParams(sql, values, nil, formats, results)
	}
}

// skipResult reads one statement's result and drops it.
func skipResult(pl *pgconn.Pipeline) error {
	res, err := pl.GetResults()
	if err != nil {
		return err
	}
	rr, ok := res.(*pgconn.ResultReader)
	if !ok {
		return fmt.Errorf("pipeline: expected a result, got %T", res)
	}
	_, err = rr.Close()
	return err
}

// prepareResult reads a prepare's answer and records the statement.
func prepareResult(pl *pgconn.Pipeline, st *statements, sql, name string) error {
	res, err := pl.GetResults()
	if err != nil {
		return err
	}
	sd, ok := res.(*pgconn.StatementDescription)
	if !ok {
		return fmt.Errorf("pipeline: expected a statement description, got %T", res)
	}
	// The pipeline's description does not carry the name it was sent under.
	sd.Name, sd.SQL = name, sql
	st.add(sql, sd)
	return nil
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
func Script(ctx context.Context, p *Pool, role, schema string, timeout time.Duration, sql string) (*Result, error) {
	c, err := p.acquire(ctx, ctx)
	if err != nil {
		return nil, err
	}
	// The slot is held until the script ends: a hijacked connection still
	// counts against the project's connections.
	defer func() { <-p.slots }()
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
