package pool

import (
	"context"
	"strconv"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// runPrepared is the steady state of a data request, both statements
// prepared on the connection: Bind/Execute the settings, Bind/Execute the
// query, Sync, written at once, then the answers read back in order. It
// speaks the protocol through pgconn's frontend directly because pgx's
// pipeline keeps bookkeeping (a list element per message, result readers)
// that costs a small request as much as everything else pgx does for it.
//
// Writing everything before reading cannot deadlock: the server buffers
// the small answers of the settings statement and flushes only at Sync.
func runPrepared(ctx context.Context, pc *pgconn.PgConn, w *wire, set *pgconn.StatementDescription, setArgs [][]byte,
	q *pgconn.StatementDescription, qArgs [][]byte, read func([][]byte) error) error {
	f := pc.Frontend()
	w.bind = pgproto3.Bind{PreparedStatement: set.Name, Parameters: setArgs}
	f.SendBind(&w.bind)
	f.SendExecute(&w.exec)
	w.bind = pgproto3.Bind{PreparedStatement: q.Name, Parameters: qArgs}
	f.SendBind(&w.bind)
	f.SendExecute(&w.exec)
	f.SendSync(&w.sync)
	if err := f.Flush(); err != nil {
		return broken(pc, err)
	}
	var failed error
	done, read1 := 0, false // statements completed; the query's row read
	for {
		msg, err := pc.ReceiveMessage(ctx)
		if err != nil {
			return broken(pc, err)
		}
		switch m := msg.(type) {
		case *pgproto3.DataRow:
			if done == 1 && !read1 && failed == nil {
				read1 = true
				failed = read(m.Values)
			}
		case *pgproto3.CommandComplete, *pgproto3.EmptyQueryResponse:
			done++
		case *pgproto3.ErrorResponse:
			if failed == nil {
				failed = pgconn.ErrorResponseToPgError(m)
			}
		case *pgproto3.ReadyForQuery:
			if failed == nil && !read1 {
				failed = read(nil)
			}
			return failed
		}
		// BindComplete, and what may come at any time (notices, parameter
		// statuses, notifications: pgconn has handled them).
	}
}

// broken closes a connection whose protocol state is unknown after an I/O
// error, so the pool discards it instead of handing out a half-read reply.
func broken(pc *pgconn.PgConn, err error) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = pc.Close(ctx)
	return err
}

// wire is a connection's reusable message values (a connection serves one
// request at a time).
type wire struct {
	bind pgproto3.Bind
	exec pgproto3.Execute
	sync pgproto3.Sync
	args [][]byte
	set  [5][]byte
	// The statement timeout as text, rendered again only when it changes.
	timeout     time.Duration
	timeoutText []byte
}

// textArgs returns args as text parameters when all are strings or nil
// (as sqlgen's always are), without copying them: the frontend only reads them
// while encoding. ok is false when some argument needs pgx's encoding.
func (w *wire) textArgs(args []any) ([][]byte, bool) {
	w.args = w.args[:0]
	for _, a := range args {
		if a == nil {
			w.args = append(w.args, nil) // NULL
			continue
		}
		s, ok := a.(string)
		if !ok {
			return nil, false
		}
		w.args = append(w.args, bytesOf(s))
	}
	return w.args, true
}

// bytesOf views s as bytes without copying; the bytes must not be changed.
func bytesOf(s string) []byte {
	if s == "" {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// settings returns s's settings parameters (see Session.values) without
// allocating: they point into s's strings and w.
func (w *wire) settings(s Session) [][]byte {
	if w.timeoutText == nil || w.timeout != s.StatementTimeout {
		w.timeout, w.timeoutText = s.StatementTimeout, strconv.AppendInt(nil, s.StatementTimeout.Milliseconds(), 10)
	}
	claims := s.Claims
	if claims == "" {
		claims = "{}"
	}
	v := append(w.set[:0], bytesOf(s.Role), bytesOf(claims), w.timeoutText)
	if s.Timezone != "" {
		v = append(v, bytesOf(s.Timezone))
	}
	return v
}
