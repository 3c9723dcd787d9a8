package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/tenants/principal"
	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/sqlgen"
)

// Nothing is the condition no row satisfies (NOT of the empty, always-true
// And group). A policy whose placeholder has no value for the caller (an
// {auth.uid} rule for an anonymous caller, a missing claim) grants nothing.
var Nothing = query.Expr{Op: query.And, Not: true}

// errNoValue marks a placeholder the caller has no value for.
var errNoValue = errors.New("no value for placeholder")

// Subjects are the Casbin subjects of a caller: anon; or a signed-in
// user's user:{id} plus "authenticated", which every signed-in user is
// without a stored row. It is nil for service_role, which bypasses rules.
func Subjects(p *principal.Principal) []string {
	switch {
	case p.Role == principal.ServiceRole:
		return nil
	case p.UserID != "":
		// Role links are stored with the canonical (lower-case) UUID.
		return []string{UserSubject(strings.ToLower(p.UserID)), RoleAuthenticated}
	case p.Role == principal.Authenticated:
		return []string{RoleAuthenticated}
	}
	return []string{RoleAnon}
}

// Access builds the data API's rule hook for one request (sqlgen.Access):
// nil for service_role; otherwise a function that decides each table (or
// rpc:{fn}) and action from the project's rules in memory and returns the
// OR of the matched policies' conditions with the caller's values filled
// in. A denial is PL403 naming role, table and action (401 for an
// anonymous caller, as PostgREST answers 42501).
func (e *Engine) Access(ctx context.Context, p *principal.Principal) (sqlgen.Access, error) {
	subjects := Subjects(p)
	if subjects == nil {
		return nil, nil
	}
	r, err := e.Rules(ctx, p.Ref)
	if err != nil {
		return nil, err
	}
	return func(table, action string) (query.Expr, error) {
		d, err := r.Decide(subjects, table, action)
		if err != nil {
			return query.Expr{}, err
		}
		if !d.Allowed {
			return query.Expr{}, Denied(p, table, action)
		}
		return d.Expr(p)
	}, nil
}

// Denied is the error for a request the rules do not allow.
func Denied(p *principal.Principal, object, action string) *apierror.Error {
	status := http.StatusForbidden
	if p.Anonymous() {
		status = http.StatusUnauthorized
	}
	var msg string
	if fn, ok := strings.CutPrefix(object, rpcPrefix); ok {
		msg = fmt.Sprintf("Access rules do not allow role %q to execute function %q", p.Role, fn)
	} else {
		msg = fmt.Sprintf("Access rules do not allow role %q to %s on table %q", p.Role, action, object)
	}
	return apierror.New(status, apierror.CodeForbidden, msg).
		WithDetails(fmt.Sprintf("role: %s, table: %s, action: %s", p.Role, object, action)).
		WithHint("A project admin can add a rule (PUT /admin/v1/projects/" + p.Ref + "/rules); POST …/rules/check explains the decision.")
}

// Expr is the decision's row condition for the caller: the empty Expr
// (every row) when a matched policy has no condition, else the OR of the
// conditions with placeholders replaced by the caller's values. Conditions
// whose placeholders have no value drop out; if none is left the result is
// Nothing.
func (d *Decision) Expr(p *principal.Principal) (query.Expr, error) {
	if !d.Allowed {
		return Nothing, nil
	}
	if d.all {
		return query.Expr{Op: query.And}, nil
	}
	out := make([]query.Expr, 0, len(d.exprs))
	for _, e := range d.exprs {
		se, err := e.Substitute(func(ph query.Placeholder) (string, error) { return placeholderValue(p, ph) })
		if errors.Is(err, errNoValue) {
			continue
		}
		if err != nil {
			return query.Expr{}, err
		}
		out = append(out, se)
	}
	switch len(out) {
	case 0:
		return Nothing, nil
	case 1:
		return out[0], nil
	}
	return query.Expr{Op: query.Or, Children: out}, nil
}

// placeholderValue is the caller's value for {auth.uid}, {auth.role} or
// {auth.claims.a.b}. Claims come from the verified JWT; scalars are used as
// their text, objects and arrays as JSON.
func placeholderValue(p *principal.Principal, ph query.Placeholder) (string, error) {
	switch ph.Kind {
	case query.PlaceholderUID:
		if p.UserID != "" {
			return p.UserID, nil
		}
		if sub, ok := p.Claims["sub"].(string); ok && sub != "" {
			return sub, nil
		}
		return "", errNoValue
	case query.PlaceholderRole:
		return p.Role, nil
	case query.PlaceholderClaim:
		var v any = p.Claims
		for _, k := range ph.Claim {
			m, ok := v.(map[string]any)
			if !ok {
				return "", errNoValue
			}
			if v, ok = m[k]; !ok {
				return "", errNoValue
			}
		}
		switch x := v.(type) {
		case nil:
			return "", errNoValue
		case string:
			return x, nil
		case bool:
			return strconv.FormatBool(x), nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case json.Number:
			return x.String(), nil
		case int:
			return strconv.Itoa(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", errNoValue
		}
		return string(b), nil
	}
	return "", errNoValue
}
