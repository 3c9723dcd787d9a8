package restapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/internal/fasthdr"
	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/sqlgen"
)

// result is the one row every statement returns (see sqlgen's Col*), but
// for its body, which run puts into the response.
type result struct {
	count    int64
	total    int64 // -1: not counted
	location []string
}

func parseResult(row [][]byte) (*result, error) {
	// A one-object insert returns its result row from RETURNING (see
	// sqlgen's direct inserts): no row when a trigger dropped the object.
	if row == nil {
		return &result{total: -1}, nil
	}
	if len(row) <= sqlgen.ColLocation {
		return nil, fmt.Errorf("data API: statement returned %d columns", len(row))
	}
	res := &result{total: -1}
	var err error
	if res.count, err = strconv.ParseInt(string(row[sqlgen.ColCount]), 10, 64); err != nil {
		return nil, fmt.Errorf("data API: row count: %w", err)
	}
	if t := row[sqlgen.ColTotal]; t != nil {
		if res.total, err = strconv.ParseInt(string(t), 10, 64); err != nil {
			return nil, fmt.Errorf("data API: total: %w", err)
		}
	}
	if l := row[sqlgen.ColLocation]; l != nil {
		if err := json.Unmarshal(l, &res.location); err != nil {
			return nil, fmt.Errorf("data API: location: %w", err)
		}
	}
	return res, nil
}

// contentRange renders PostgREST's Content-Range: "0-9/*", "*/0", "0-9/100".
func contentRange(lower, upper, total int64) string {
	t := "*"
	if total >= 0 {
		t = strconv.FormatInt(total, 10)
	}
	if total == 0 || lower > upper {
		return "*/" + t
	}
	return strconv.FormatInt(lower, 10) + "-" + strconv.FormatInt(upper, 10) + "/" + t
}

func contentType(m query.MediaType) string {
	switch m {
	case query.MediaCSV:
		return "text/csv; charset=utf-8"
	case query.MediaObject:
		return "application/vnd.pgrst.object+json; charset=utf-8"
	}
	return "application/json; charset=utf-8"
}

// setPreferenceApplied echoes the preferences this request honoured:
// reads and calls honour count, tx and handling; writes also return,
// missing, max-affected (with handling=strict) and, for POST, resolution.
func (r *request) setPreferenceApplied() {
	p := r.hdr.Prefer
	if r.isRead() || r.rpc {
		p.Return, p.Resolution, p.Missing, p.MaxAffected = "", "", "", nil
	} else if r.c.Method() != fiber.MethodPost {
		p.Resolution = ""
	}
	if v := p.Applied(); v != "" {
		fasthdr.Set(&r.c.Response().Header, "Preference-Applied", v)
	}
}

// respondRows answers a read or a function call: 200, 206 when the count
// shows more rows than returned, 416 when the offset is past the end.
func (r *request) respondRows(res *result) error {
	c := r.c
	lower := r.sql.Range.Offset
	upper := lower + res.count - 1
	r.setPreferenceApplied()
	if res.total >= 0 && lower > res.total {
		c.Set("Content-Range", contentRange(lower, upper, res.total))
		return apierror.New(http.StatusRequestedRangeNotSatisfiable, query.CodeRange, "Requested range not satisfiable").
			WithDetails(fmt.Sprintf("An offset of %d was requested, but there are only %d rows.", lower, res.total))
	}
	fasthdr.Set(&c.Response().Header, "Content-Range", contentRange(lower, upper, res.total))
	status := http.StatusOK
	if res.total >= 0 && res.count < res.total {
		status = http.StatusPartialContent
	}
	c.Status(status)
	fasthdr.Set(&c.Response().Header, fiber.HeaderContentType, contentType(r.sql.Media))
	return nil
}

// respondWrite answers POST (201), and PATCH, PUT, DELETE (200 with a
// representation, else 204).
func (r *request) respondWrite(res *result, stmt *sqlgen.Statement, table string) error {
	c := r.c
	r.setPreferenceApplied()
	if c.Method() == fiber.MethodPost {
		c.Set("Content-Range", contentRange(1, 0, res.total))
		if r.sql.Prefer.Return == query.ReturnHeadersOnly && res.count == 1 && len(res.location) == len(stmt.PrimaryKey) && len(res.location) > 0 {
			c.Set(fiber.HeaderLocation, location(table, stmt.PrimaryKey, res.location))
		}
		c.Status(http.StatusCreated)
	} else {
		c.Set("Content-Range", contentRange(0, res.count-1, res.total))
		if r.sql.NoBody {
			return c.SendStatus(http.StatusNoContent)
		}
		c.Status(http.StatusOK)
	}
	if r.sql.NoBody {
		return nil
	}
	c.Set(fiber.HeaderContentType, contentType(r.sql.Media))
	return nil
}

// location is PostgREST's Location of an inserted row: /table?pk=eq.value.
func location(table string, pk, vals []string) string {
	var sb strings.Builder
	sb.WriteString("/" + url.PathEscape(table) + "?")
	for i, col := range pk {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(url.QueryEscape(col) + "=eq." + url.QueryEscape(vals[i]))
	}
	return sb.String()
}
