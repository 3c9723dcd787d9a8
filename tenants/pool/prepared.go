package pool

import (
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
)

// Data API statements are prepared once per connection and then only bound
// and executed: measured on this code's own queries, skipping Postgres's
// parse and plan per request more than doubles a small read's throughput.
//
// The statement is prepared inside the request's pipeline, after the
// settings statement has switched to the project role: the NOINHERIT login
// cannot see the project schema, so a prepare of its own would fail. That
// is safe for a statement reused later under another role because Postgres
// checks privileges when a plan executes, not when it is prepared, re-plans
// when row-level security makes a plan depend on the role, and re-analyses
// after DDL. Every generated statement is schema-qualified and returns text
// (or fixed-type) columns, so a re-plan never changes its result type.

// maxStatements bounds the statements kept per connection (each costs the
// backend memory); past it the connection starts afresh.
const maxStatements = 100

// A statement is prepared only the second time a connection sees it: SQL
// that differs per request (an inlined offset while paging) would otherwise
// cost a prepare each time and churn the bound. maxSeen bounds that memory.
const maxSeen = 4 * maxStatements

const customKey = "plinth.statements"

// statements is one connection's prepared statements, by SQL text, with
// their descriptions: a prepared statement then runs as Bind and Execute
// alone, without asking the server to describe its result every time. It
// lives in the connection's custom data, so it goes when the connection
// does; a connection serves one request at a time, so it needs no lock.
type statements struct {
	prepared map[string]*pgconn.StatementDescription
	seen     map[string]struct{}
	next     int
	wire     wire
}

func statementsOf(pc *pgconn.PgConn) *statements {
	d := pc.CustomData()
	st, _ := d[customKey].(*statements)
	if st == nil {
		st = &statements{prepared: map[string]*pgconn.StatementDescription{}, seen: map[string]struct{}{}}
		d[customKey] = st
	}
	return st
}

// lookup returns the statement's description when it is prepared on this
// connection; otherwise the name to prepare it under now, or "" to run it
// unnamed this time.
func (st *statements) lookup(sql string) (*pgconn.StatementDescription, string) {
	if sd, ok := st.prepared[sql]; ok {
		return sd, ""
	}
	if _, ok := st.seen[sql]; !ok {
		if len(st.seen) >= maxSeen {
			clear(st.seen)
		}
		st.seen[sql] = struct{}{}
		return nil, ""
	}
	st.next++
	return nil, "plinth_" + strconv.Itoa(st.next)
}

// full says the connection must deallocate all before preparing more.
func (st *statements) full() bool { return len(st.prepared) >= maxStatements }

func (st *statements) reset() { clear(st.prepared) }

func (st *statements) add(sql string, sd *pgconn.StatementDescription) {
	st.prepared[sql] = sd
	delete(st.seen, sql)
}
