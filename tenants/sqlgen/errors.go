package sqlgen

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/plinth-dev/plinth/platform/apierror"
)

// The client-facing schema name in messages: supabase-js addresses every
// project as "public", and the real schema name is an implementation detail.
const apiSchema = "public"

func errTableNotFound(table string) error {
	return apierror.Newf(http.StatusNotFound, "PGRST205", "Could not find the table '%s.%s' in the schema cache", apiSchema, table).
		WithHint("Check the table name; tables live in the project's schema.")
}

func errColumnNotFound(table, col string) error {
	return apierror.Newf(http.StatusBadRequest, "42703", "column %s.%s does not exist", table, col)
}

func errPayloadColumn(table, col string) error {
	return apierror.Newf(http.StatusBadRequest, "PGRST204", "Could not find the '%s' column of '%s' in the schema cache", col, table)
}

func errBadRequest(code, format string, args ...any) *apierror.Error {
	return apierror.Newf(http.StatusBadRequest, code, format, args...)
}

func errInvalidBody(details string) error {
	e := apierror.New(http.StatusBadRequest, "PGRST102", "Empty or invalid json")
	if details != "" {
		e = e.WithDetails(details)
	}
	return e
}

func errNotEmbedded(name string) error {
	return apierror.Newf(http.StatusBadRequest, "PGRST108", "'%s' is not an embedded resource in this request", name).
		WithHint(fmt.Sprintf("Verify that '%s' is included in the 'select' query parameter.", name))
}

func errNoRelationship(origin, target, hint string) error {
	using := ""
	if hint != "" {
		using = "' using the hint '" + hint
	}
	return apierror.Newf(http.StatusBadRequest, "PGRST200", "Could not find a relationship between '%s' and '%s' in the schema cache", origin, target).
		WithDetails(fmt.Sprintf("Searched for a foreign key relationship between '%s' and '%s%s' in the schema '%s', but no matches were found.", origin, target, using, apiSchema))
}

// errAmbiguous is PGRST201 with PostgREST's list of candidates.
func errAmbiguous(origin, target string, rels []*relation) error {
	details := make([]map[string]string, 0, len(rels))
	hints := make([]string, 0, len(rels))
	for _, r := range rels {
		details = append(details, map[string]string{
			"cardinality":  r.card.String(),
			"embedding":    r.from.Name + " with " + r.to.Name,
			"relationship": r.describe(),
		})
		hints = append(hints, "'"+r.to.Name+"!"+r.hintName()+"'")
	}
	return apierror.Newf(http.StatusMultipleChoices, "PGRST201", "Could not embed because more than one relationship was found for '%s' and '%s'", origin, target).
		WithDetails(details).
		WithHint(fmt.Sprintf("Try changing '%s' to one of the following: %s. Find the desired relationship in the 'details' key.", target, strings.Join(hints, ", ")))
}

// pgrstRaise renders a (boolean) call of plinth_api.raise that fails the statement
// with a PostgREST-shaped error and the given HTTP status (see
// apierror's handling of SQLSTATE 'PGRST'). details is a SQL text
// expression, or "" for none.
func (b *builder) pgrstRaise(status int, code, message, detailsSQL, hint string) string {
	msg := map[string]any{"code": code, "message": message, "details": nil, "hint": nil}
	if hint != "" {
		msg["hint"] = hint
	}
	base, _ := json.Marshal(msg)
	body := b.arg(string(base)) + "::jsonb"
	if detailsSQL != "" {
		body = "jsonb_set(" + body + ", '{details}', to_jsonb(" + detailsSQL + "))"
	}
	return "plinth_api.raise('PGRST', (" + body + ")::text, " + b.arg(fmt.Sprintf(`{"status":%d}`, status)) + ")"
}

// errorRaise fails the statement with a plain SQLSTATE (mapped by
// apierror like any Postgres error).
func (b *builder) errorRaise(sqlstate, message, hint string) string {
	return "plinth_api.raise(" + lit(sqlstate) + ", " + b.arg(message) + ", null, " + b.arg(hint) + ")"
}
