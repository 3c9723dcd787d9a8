package adminapi

import (
	"encoding/json"
	"errors"

	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/pool"
)

// maxSQLLength bounds admin SQL scripts.
const maxSQLLength = 1 << 20

// runSQL runs admin SQL as the project's owner role on the project's own
// login (never a shared or superuser session), then reloads the schema cache
// on every instance.
func (a *API) runSQL(c *fiber.Ctx) error {
	var in struct {
		Query string `json:"query"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Query) == "" {
		return apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "query is empty")
	}
	if len(in.Query) > maxSQLLength {
		return apierror.New(http.StatusRequestEntityTooLarge, apierror.CodeTooLarge, "query is longer than 1 MiB")
	}
	// The wire protocol cannot carry a NUL in query text: Postgres would
	// answer with a protocol error (08P01), which reads as an outage.
	if strings.IndexByte(in.Query, 0) >= 0 {
		return apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "query contains a NUL byte")
	}
	p := project(c)
	ctx := c.UserContext()
	tp, err := a.d.Pools.Get(ctx, p.Ref)
	if err != nil {
		return err
	}
	res, runErr := pool.Script(ctx, tp, p.Schema+"_owner", p.Schema, a.d.StatementTimeout, in.Query)
	// DDL may have happened even if a later statement failed and rolled
	// back; reloading is cheap and always safe.
	_ = store.Notify(ctx, a.d.Store.Pool, store.ChannelSchema, p.Ref)
	a.d.Schemas.Invalidate(p.Ref)
	if runErr != nil {
		return sqlError(runErr)
	}
	audit := store.Audit{ProjectRef: p.Ref, Actor: caller(c).actor(), Action: "sql.run", Target: res.Tag,
		Detail: map[string]any{"query": truncate(in.Query, 500)}}
	if err := store.WriteAudit(ctx, a.d.Store.Pool, audit); err != nil {
		return err
	}
	rows, err := rowsJSON(res)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"rows": rows, "command": res.Tag})
}

// sqlError reports a failed script as 400 with the Postgres message and the
// 1-based character position of the error in the query, when known.
func sqlError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err // connection trouble: 503 via the common mapping
	}
	e := apierror.New(http.StatusBadRequest, pe.Code, pe.Message)
	if pe.Code[:2] == "57" || pe.Code[:2] == "08" || pe.Code[:2] == "53" {
		e.Status = http.StatusServiceUnavailable
	}
	var details []string
	if pe.Position > 0 {
		details = append(details, "position: "+strconv.Itoa(int(pe.Position)))
	}
	if pe.Detail != "" {
		details = append(details, pe.Detail)
	}
	if len(details) > 0 {
		e.Details = strings.Join(details, "; ")
	}
	if pe.Hint != "" {
		e.Hint = pe.Hint
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// rowsJSON renders text-format rows as JSON objects the way row_to_json
// would for the common types: numbers and booleans unquoted, json inline,
// everything else as its text.
func rowsJSON(res *pool.Result) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(res.Rows))
	for _, r := range res.Rows {
		var sb strings.Builder
		sb.WriteByte('{')
		for i, f := range res.Fields {
			if i > 0 {
				sb.WriteByte(',')
			}
			k, _ := json.Marshal(f.Name)
			sb.Write(k)
			sb.WriteByte(':')
			sb.WriteString(valueJSON(f.DataTypeOID, r[i]))
		}
		sb.WriteByte('}')
		out = append(out, json.RawMessage(sb.String()))
	}
	return out, nil
}

func valueJSON(oid uint32, v []byte) string {
	if v == nil {
		return "null"
	}
	s := string(v)
	switch oid {
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID:
		return s
	case pgtype.Float4OID, pgtype.Float8OID, pgtype.NumericOID:
		if _, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "IN") {
			return s
		}
	case pgtype.BoolOID:
		if s == "t" {
			return "true"
		}
		return "false"
	case pgtype.JSONOID, pgtype.JSONBOID:
		if json.Valid(v) {
			return s
		}
	}
	b, _ := json.Marshal(s)
	return string(b)
}
