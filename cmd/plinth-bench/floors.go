package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// httpFloor is the least an HTTP service can do for these scenarios: a
// net/http handler that runs the same SQL on pgx and returns the JSON
// Postgres built. With tx set it also does what Plinth does per request:
// role and claims set by a statement pipelined before the query, in one
// implicit transaction.
type httpFloor struct {
	pool      *pgxpool.Pool
	scenarios map[string]Scenario
	schema    string
	role      string
	tx        bool
}

func (f *httpFloor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s, ok := f.scenarios[strings.TrimPrefix(r.URL.Path, "/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	i, _ := strconv.Atoi(r.URL.Query().Get("i"))
	sql, args := s.SQL, []any(nil)
	if s.Args != nil {
		args = s.Args(i)
	}
	if s.Copy {
		body, _ := io.ReadAll(r.Body)
		sql = `insert into ` + pgx.Identifier{f.schema, "sink"}.Sanitize() + ` (title, score) select title, score from json_populate_recordset(null::` +
			pgx.Identifier{f.schema, "sink"}.Sanitize() + `, $1)`
		args = []any{string(body)}
	} else if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	role, claims := f.role, `{"role":"anon"}`
	if s.Role != "" {
		role, claims = s.Role, s.Claims
	}
	out, err := f.exec(r.Context(), role, claims, sql, args)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if out == nil {
		w.WriteHeader(http.StatusCreated)
		return
	}
	_, _ = w.Write(out)
}

func (f *httpFloor) exec(ctx context.Context, role, claims, sql string, args []any) ([]byte, error) {
	b := &pgx.Batch{}
	if f.tx {
		b.Queue(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('statement_timeout', $3, true)`,
			role, claims, "8000")
	}
	b.Queue(sql, args...)
	br := f.pool.SendBatch(ctx, b)
	defer br.Close()
	if f.tx {
		if _, err := br.Exec(); err != nil {
			return nil, err
		}
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	var out []byte
	if rows.Next() {
		if v := rows.RawValues(); len(v) > 0 && v[0] != nil {
			out = append([]byte(nil), v[0]...)
		}
	}
	rows.Close()
	return out, rows.Err()
}

// startFloor serves h on a loopback port.
func startFloor(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// floorOp sends a scenario to an HTTP floor.
func floorOp(client *http.Client, base string, s Scenario) op {
	return plinthOp(client, base, nil, atFloor(s))
}

// atFloor is s as an HTTP floor gets it: the scenario's name and the
// request's index (the floor knows the SQL), no user headers.
func atFloor(s Scenario) Scenario {
	fs := s
	fs.Path = func(i int) string { return "/" + s.Name + "?i=" + strconv.Itoa(i) }
	fs.Headers = nil
	return fs
}
