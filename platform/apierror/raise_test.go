package apierror

import (
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestRaisedErrors(t *testing.T) {
	cases := []struct {
		pe      pgconn.PgError
		status  int
		code    string
		details any
	}{
		// PostgREST's convention: the whole body in MESSAGE, the status in DETAIL.
		{pgconn.PgError{Code: "PGRST", Message: `{"code":"PGRST116","message":"m","details":"d","hint":null}`, Detail: `{"status":406}`}, 406, "PGRST116", "d"},
		{pgconn.PgError{Code: "PGRST", Message: `{"code":"123","message":"Payment Required"}`, Detail: `{"status":402,"headers":{"X-A":"b"}}`}, 402, "123", nil},
		// Malformed: the function's author must fix it; PostgREST answers 500 PGRST121.
		{pgconn.PgError{Code: "PGRST", Message: `not json`, Detail: `{"status":402}`}, 500, "PGRST121", "MESSAGE must be a JSON object with code, message, details and hint; DETAIL a JSON object with status."},
		{pgconn.PgError{Code: "PGRST", Message: `{"code":"x","message":"y"}`, Detail: `{"status":42}`}, 500, "PGRST121", "MESSAGE must be a JSON object with code, message, details and hint; DETAIL a JSON object with status."},
		// PTxyz: status xyz with the raised message.
		{pgconn.PgError{Code: "PT409", Message: "taken", Detail: "d"}, 409, "PT409", "d"},
		// Anything else maps by SQLSTATE as before.
		{pgconn.PgError{Code: "PTABC", Message: "x"}, 400, "PTABC", nil},
		{pgconn.PgError{Code: "42501", Message: "denied"}, 403, "42501", nil},
	}
	for _, c := range cases {
		e := From(&c.pe, false)
		if e.Status != c.status || e.Code != c.code || e.Details != c.details {
			t.Errorf("%s %q: got %d %s %v", c.pe.Code, c.pe.Message, e.Status, e.Code, e.Details)
		}
	}
}
