// Package apierror is the one place where failures become HTTP answers. Every
// handler returns an error; the server's error handler turns it into the
// PostgREST shape {code,message,details,hint} with the status chosen here.
package apierror

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Error is an error with an HTTP status and a PostgREST-shaped body.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details"`
	Hint    any    `json:"hint"`
	cause   error
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }
func (e *Error) Unwrap() error { return e.cause }

// New makes an Error.
func New(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// Newf makes an Error with a formatted message.
func Newf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithDetails returns a copy carrying details.
func (e *Error) WithDetails(d any) *Error { c := *e; c.Details = d; return &c }

// WithHint returns a copy carrying a hint.
func (e *Error) WithHint(h any) *Error { c := *e; c.Hint = h; return &c }

// GoTrue renders e in the auth API's error shape (DESIGN.md §6), which
// auth-js reads: GoTrue's {code, message} plus its legacy {error_code, msg}.
// A map in Details adds top-level fields, as GoTrue's weak_password does.
func (e *Error) GoTrue() map[string]any {
	out := map[string]any{}
	if d, ok := e.Details.(map[string]any); ok {
		for k, v := range d {
			out[k] = v
		}
	} else if e.Details != nil {
		out["details"] = e.Details
	}
	if e.Hint != nil {
		out["hint"] = e.Hint
	}
	out["code"], out["error_code"] = e.Code, e.Code
	out["message"], out["msg"] = e.Message, e.Message
	return out
}

// Plinth's own codes. The README lists them; keep both in step.
const (
	CodeBadRequest     = "PL400"
	CodeUnauthorized   = "PL401"
	CodeForbidden      = "PL403"
	CodeNotFound       = "PL404"
	CodeConflict       = "PL409"
	CodeTooLarge       = "PL413"
	CodeHeaderTooLarge = "PL431"
	CodeRateLimited    = "PL429"
	CodeInternal       = "PL500"
	CodeUnavailable    = "PL503"
	CodeTimeout        = "PL504"
)

// Common errors.
var (
	ErrNoAPIKey       = New(http.StatusUnauthorized, CodeUnauthorized, "No API key found in request").WithHint("Send the project's key in the apikey header or as a Bearer token.")
	ErrBadAPIKey      = New(http.StatusUnauthorized, CodeUnauthorized, "Invalid API key")
	ErrProjectUnknown = New(http.StatusNotFound, CodeNotFound, "Project not found")
	ErrAdminAuth      = New(http.StatusUnauthorized, CodeUnauthorized, "Admin authentication required").WithHint("Send Authorization: Bearer <admin token>.")
	ErrUnavailable    = New(http.StatusServiceUnavailable, CodeUnavailable, "Database unavailable, try again shortly")
)

// Internal hides err from the client while keeping it for logs.
func Internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "Internal server error", cause: err}
}

// ClientError is implemented by errors of pure packages (the query parser)
// that know their HTTP status and PostgREST code.
type ClientError interface {
	error
	Status() int
	Fields() (code, message, details, hint string)
}

// From converts any error to an *Error: ours pass through, Postgres errors map
// like PostgREST, connection failures become 503.
func From(err error, anonymous bool) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var ce ClientError
	if errors.As(err, &ce) {
		code, msg, details, hint := ce.Fields()
		e := &Error{Status: ce.Status(), Code: code, Message: msg, cause: err}
		if details != "" {
			e.Details = details
		}
		if hint != "" {
			e.Hint = hint
		}
		return e
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fromPG(pe, anonymous)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeTimeout, Message: "The request took too long and was cancelled", cause: err}
	}
	if isConnectionError(err) {
		e := *ErrUnavailable
		e.cause = err
		return &e
	}
	return Internal(err)
}

func isConnectionError(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.Timeout(err) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// pgx does not export its "conn closed" error; it is what a terminated
	// backend or a pool closed during shutdown produce.
	msg := err.Error()
	for _, s := range []string{"conn closed", "unexpected EOF", "connection reset", "broken pipe", "closed pool"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// fromPG maps SQLSTATE classes to HTTP statuses as PostgREST does.
func fromPG(pe *pgconn.PgError, anonymous bool) *Error {
	if e := fromRaise(pe); e != nil {
		return e
	}
	e := &Error{Code: pe.Code, Message: pe.Message, cause: pe}
	if pe.Detail != "" {
		e.Details = pe.Detail
	}
	if pe.Hint != "" {
		e.Hint = pe.Hint
	}
	e.Status = pgStatus(pe.Code, anonymous)
	return e
}

func pgStatus(code string, anonymous bool) int {
	switch code {
	case "23505", "23503", "23P01", "40001", "40P01", "42710":
		return http.StatusConflict
	case "42501":
		if anonymous {
			return http.StatusUnauthorized
		}
		return http.StatusForbidden
	case "42883", "42P01":
		return http.StatusNotFound
	case "25006":
		return http.StatusMethodNotAllowed
	case "57014":
		return http.StatusServiceUnavailable
	case "53300", "53400", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004":
		return http.StatusServiceUnavailable
	case "P0001":
		return http.StatusBadRequest
	}
	switch code[:2] {
	case "08", "53", "57", "58":
		return http.StatusServiceUnavailable
	case "09", "0L", "0P", "28":
		return http.StatusForbidden
	case "XX":
		return http.StatusInternalServerError
	}
	// Classes 22 (data), 23 (integrity), 42 (syntax/access), 2F, P0 and the
	// rest are the client's doing.
	return http.StatusBadRequest
}
