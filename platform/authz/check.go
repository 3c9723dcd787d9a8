package authz

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/plinth-dev/plinth/platform/apierror"
)

// CheckRequest asks whether a role, or an end user, may perform an action.
type CheckRequest struct {
	Role   string `json:"role"`
	UserID string `json:"user_id"`
	Table  string `json:"table"`
	Action string `json:"action"`
}

// CheckResult explains a decision: the dashboard's "why was this denied?".
type CheckResult struct {
	Allowed bool `json:"allowed"`
	// Matched lists every policy that allows the request.
	Matched []Policy `json:"matched"`
	// Condition is the effective row condition: the OR of the matched
	// policies' conditions, "" for every row.
	Condition string `json:"condition"`
	// Subjects are the roles the decision considered, inherited ones
	// included (e.g. user:…, editor, authenticated).
	Subjects []string `json:"subjects"`
	Reason   string   `json:"reason"`
}

func badCheck(format string, args ...any) error {
	return apierror.Newf(http.StatusBadRequest, apierror.CodeBadRequest, format, args...)
}

// Check decides a request the way the data API would, and says why.
func (e *Engine) Check(ctx context.Context, ref string, req CheckRequest) (*CheckResult, error) {
	role, userID := strings.TrimSpace(req.Role), strings.TrimSpace(req.UserID)
	obj, act := strings.TrimSpace(req.Table), strings.ToLower(strings.TrimSpace(req.Action))
	if (role == "") == (userID == "") {
		return nil, badCheck("Give exactly one of \"role\" and \"user_id\"")
	}
	if obj == "" {
		return nil, badCheck("\"table\" is required (a table name or rpc:{function})")
	}
	isRPC := strings.HasPrefix(obj, rpcPrefix)
	switch {
	case isRPC && act != ActExecute:
		return nil, badCheck("Functions (%s) are checked with action \"execute\", not %q", obj, act)
	case !isRPC && act != ActSelect && act != ActInsert && act != ActUpdate && act != ActDelete:
		return nil, badCheck("Unknown action %q for a table (use select, insert, update or delete)", act)
	}

	var subjects []string
	who := role
	switch {
	case userID != "":
		id, err := ParseUserID(userID)
		if err != nil {
			return nil, err
		}
		subjects = []string{UserSubject(id), RoleAuthenticated}
		who = "user " + id
	case role == RoleServiceRole:
		return &CheckResult{Allowed: true, Matched: []Policy{}, Subjects: []string{RoleServiceRole},
			Reason: "service_role bypasses access rules (it also bypasses the project's row-level security)"}, nil
	case role == RoleAnon || role == RoleAuthenticated:
		subjects = []string{role}
	default:
		var declared bool
		if err := e.db.QueryRow(ctx, `select exists (select 1 from plinth.casbin_rule where project_ref = $1 and ptype = 'role' and v0 = $2)`,
			ref, role).Scan(&declared); err != nil {
			return nil, err
		}
		if !declared {
			return nil, badCheck("Unknown role %q (use anon, authenticated, service_role or a role declared in the rules)", role)
		}
		// A custom role is held by signed-in users, who are authenticated too.
		subjects = []string{role, RoleAuthenticated}
	}

	r, err := e.Rules(ctx, ref)
	if err != nil {
		return nil, err
	}
	d, err := r.Decide(subjects, obj, act)
	if err != nil {
		return nil, err
	}
	roles, err := r.roles(subjects)
	if err != nil {
		return nil, err
	}
	res := &CheckResult{Allowed: d.Allowed, Matched: d.Matched, Condition: d.Condition(), Subjects: roles}
	if res.Matched == nil {
		res.Matched = []Policy{}
	}
	what := fmt.Sprintf("%s on table %q", act, obj)
	if fn, ok := strings.CutPrefix(obj, rpcPrefix); ok {
		what = fmt.Sprintf("executing function %q", fn)
	}
	switch {
	case !d.Allowed:
		res.Reason = fmt.Sprintf("Denied: no policy for %s allows %s (roles considered: %s). Without a matching rule everything is denied.",
			who, what, strings.Join(roles, ", "))
	case res.Condition == "":
		res.Reason = fmt.Sprintf("Allowed by %d polic%s; every row.", len(d.Matched), plural(len(d.Matched)))
	default:
		res.Reason = fmt.Sprintf("Allowed by %d polic%s; only rows matching the condition.", len(d.Matched), plural(len(d.Matched)))
	}
	return res, nil
}

func plural(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}
