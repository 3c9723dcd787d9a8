package plinth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Error is a failed request: the HTTP status and the server's error body.
// The data and admin APIs answer PostgREST's shape {code,message,details,hint};
// the auth API answers GoTrue's shape {code|error_code, msg|message}; both
// land in the same fields.
type Error struct {
	Status  int    // HTTP status, e.g. 409
	Code    string // SQLSTATE ("23505"), PostgREST code ("PGRST116"), Plinth code ("PL403") or GoTrue code ("invalid_credentials")
	Message string
	Details string
	Hint    string
	Body    []byte // the raw response body
}

func (e *Error) Error() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "plinth: %d", e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Details != "" {
		fmt.Fprintf(&b, " (%s)", e.Details)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, " hint: %s", e.Hint)
	}
	return b.String()
}

// StatusOf returns the HTTP status of a request error, or 0 when err is not
// an *Error (a transport failure, a cancelled context, nil).
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// CodeOf returns the error code of a request error ("" when none).
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// parseError builds an *Error from a non-2xx response.
func parseError(status int, body []byte) *Error {
	e := &Error{Status: status, Body: body}
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		e.Message = string(bytes.TrimSpace(body))
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
		return e
	}
	e.Code = firstText(raw, "code", "error_code", "error")
	e.Message = firstText(raw, "message", "msg", "error_description")
	e.Details = firstText(raw, "details")
	e.Hint = firstText(raw, "hint")
	// GoTrue sends a numeric "code" (the status) next to the string
	// "error_code"; prefer the string.
	if ec := firstText(raw, "error_code"); ec != "" {
		e.Code = ec
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// firstText returns the first present, non-null field as text: strings
// unquoted, anything else as its JSON.
func firstText(m map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		v, ok := m[k]
		if !ok || string(v) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			if s != "" {
				return s
			}
			continue
		}
		return string(v)
	}
	return ""
}
