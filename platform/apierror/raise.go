package apierror

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// fromRaise maps the errors SQL may raise to choose its own HTTP answer,
// following PostgREST 12:
//
//   - RAISE SQLSTATE 'PGRST' USING MESSAGE = '{"code","message","details","hint"}',
//     DETAIL = '{"status":402}' — the whole error body and status;
//   - RAISE SQLSTATE 'PT402' — status 402 with the raised message.
//
// The data API's own generated SQL uses the first form (via
// plinth_api.raise) for errors that must roll the request back, such as a
// singular response with the wrong number of rows. It returns nil for any
// other SQLSTATE.
func fromRaise(pe *pgconn.PgError) *Error {
	if pe.Code == "PGRST" {
		var body struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details any    `json:"details"`
			Hint    any    `json:"hint"`
		}
		var detail struct {
			Status int `json:"status"`
		}
		if json.Unmarshal([]byte(pe.Message), &body) != nil || json.Unmarshal([]byte(pe.Detail), &detail) != nil ||
			detail.Status < 100 || detail.Status > 599 {
			return &Error{
				Status: http.StatusInternalServerError, Code: "PGRST121", cause: pe,
				Message: "Could not parse JSON in the RAISE SQLSTATE 'PGRST' error",
				Details: "MESSAGE must be a JSON object with code, message, details and hint; DETAIL a JSON object with status.",
			}
		}
		return &Error{Status: detail.Status, Code: body.Code, Message: body.Message, Details: body.Details, Hint: body.Hint, cause: pe}
	}
	if status, ok := strings.CutPrefix(pe.Code, "PT"); ok {
		if n, err := strconv.Atoi(status); err == nil && n >= 100 && n <= 599 {
			e := &Error{Status: n, Code: pe.Code, Message: pe.Message, cause: pe}
			if pe.Detail != "" {
				e.Details = pe.Detail
			}
			if pe.Hint != "" {
				e.Hint = pe.Hint
			}
			return e
		}
	}
	return nil
}
