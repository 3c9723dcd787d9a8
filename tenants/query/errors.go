package query

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// PostgREST error codes produced by this package.
const (
	CodeParse        = "PGRST100" // query string grammar
	CodeRange        = "PGRST103" // limit/offset/Range not satisfiable
	CodeMediaType    = "PGRST107" // Accept names nothing we can produce
	CodeStrictPrefer = "PGRST122" // Prefer: handling=strict with an unknown preference
)

// Error is a client error in PostgREST's shape. Every error this package
// returns is a *Error, so handlers can render it without inspecting text.
type Error struct {
	Code    string
	Message string
	Details string // "" renders as null
	Hint    string // "" renders as null
	// Pos is the byte offset in the parsed value where parsing failed, or -1
	// when the error is not about a position.
	Pos int
}

func (e *Error) Error() string {
	if e.Details == "" {
		return e.Code + ": " + e.Message
	}
	return e.Code + ": " + e.Message + " (" + e.Details + ")"
}

// Status is the HTTP status PostgREST answers with for this error.
func (e *Error) Status() int {
	switch e.Code {
	case CodeRange:
		return 416
	case CodeMediaType:
		return 406
	}
	return 400
}

// MarshalJSON renders {"code","message","details","hint"} with null for the
// empty optional fields, as PostgREST does.
func (e *Error) MarshalJSON() ([]byte, error) {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return json.Marshal(struct {
		Code    string  `json:"code"`
		Message string  `json:"message"`
		Details *string `json:"details"`
		Hint    *string `json:"hint"`
	}{e.Code, e.Message, opt(e.Details), opt(e.Hint)})
}

// maxEcho bounds how much of the offending input an error message repeats.
const maxEcho = 200

// echo shortens s for inclusion in a message without splitting a rune.
func echo(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// parseError builds a PGRST100 for a failure at pos in src, which was being
// parsed as what ("filter", "select parameter", ...).
func parseError(what, src string, pos int, reason, details string) *Error {
	return &Error{
		Code:    CodeParse,
		Message: fmt.Sprintf("failed to parse %s (%s) at position %d: %s", what, echo(src), pos, reason),
		Details: details,
		Pos:     pos,
	}
}

// describe names the input at pos the way parser errors do: `"x"` or
// `end of input`.
func describe(src string, pos int) string {
	if pos >= len(src) {
		return "end of input"
	}
	r, _ := utf8.DecodeRuneInString(src[pos:])
	return strconv.Quote(string(r))
}

func rangeError(details string) *Error {
	return &Error{Code: CodeRange, Message: "Requested range not satisfiable", Details: details, Pos: -1}
}
