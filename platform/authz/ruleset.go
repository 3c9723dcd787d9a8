package authz

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/schema"
)

// RoleDef declares a custom role and, optionally, a role it inherits from.
// A role inheriting several roles appears once per parent.
type RoleDef struct {
	Role     string `json:"role"`
	Inherits string `json:"inherits,omitempty"`
}

// RuleSet is a project's rules as the rules API reads and writes them.
// User role assignments are not part of it (PUT /users/{id}/roles).
type RuleSet struct {
	Policies []Policy  `json:"policies"`
	Roles    []RoleDef `json:"roles"`
}

// Limits on one rule set: Casbin's decision cost grows with the number of
// policies, and its role manager stops following links after 10 levels
// (user -> role -> ...), so inheritance chains are kept below that.
const (
	maxPolicies  = 1000
	maxRoles     = 200
	maxRoleDepth = 8
	maxProblems  = 20
)

var roleName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// ptypeRole marks a role declaration row; Casbin never loads it.
const ptypeRole = "role"

func builtinRole(r string) bool {
	return r == RoleAnon || r == RoleAuthenticated || r == RoleServiceRole
}

// problems collects validation failures so one answer lists them all.
type problems []string

func (p *problems) addf(format string, args ...any) {
	if len(*p) < maxProblems {
		*p = append(*p, fmt.Sprintf(format, args...))
	}
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	e := apierror.Newf(http.StatusBadRequest, apierror.CodeBadRequest, "Invalid access rules: %s", p[0])
	if len(p) > 1 {
		e = e.WithDetails(strings.Join(p, "; "))
	}
	return e.WithHint("Roles: anon, authenticated, user:{uuid} or a role declared in \"roles\". Tables: a table or view name, a prefix ending in *, or rpc:{function}. Actions: select, insert, update, delete or * (execute or * for rpc:). Conditions use the data API's filter grammar, e.g. owner_id=eq.{auth.uid}.")
}

// Validate checks and normalises a rule set against the project's schema:
// role names and inheritance (no cycles, bounded depth), actions per kind of
// object, tables and functions that exist (patterns may match nothing yet),
// and every condition parsed with the data API's parser and its columns
// checked on every table the policy covers. Duplicates are dropped.
func Validate(in RuleSet, sch *schema.Schema) (RuleSet, error) {
	var bad problems
	out := RuleSet{Policies: []Policy{}, Roles: []RoleDef{}}
	if len(in.Policies) > maxPolicies {
		bad.addf("more than %d policies", maxPolicies)
	}
	if len(in.Roles) > maxRoles {
		bad.addf("more than %d role entries", maxRoles)
	}
	if len(bad) > 0 {
		return out, bad.err()
	}

	declared := map[string]bool{}
	for i, r := range in.Roles {
		name := strings.TrimSpace(r.Role)
		switch {
		case builtinRole(name):
			bad.addf("roles[%d]: %q is built in and cannot be declared", i, name)
		case !roleName.MatchString(name):
			bad.addf("roles[%d]: invalid role name %q (lower-case letters, digits, _ and -, starting with a letter, at most 63)", i, name)
		default:
			declared[name] = true
		}
	}
	parents := map[string][]string{}
	seenRole := map[RoleDef]bool{}
	for i, r := range in.Roles {
		d := RoleDef{Role: strings.TrimSpace(r.Role), Inherits: strings.TrimSpace(r.Inherits)}
		if !declared[d.Role] {
			continue
		}
		switch {
		case d.Inherits == "":
		case d.Inherits == d.Role:
			bad.addf("roles[%d]: %q cannot inherit itself", i, d.Role)
			continue
		case d.Inherits == RoleServiceRole:
			bad.addf("roles[%d]: no role can inherit service_role (it bypasses rules instead of having any)", i)
			continue
		case d.Inherits != RoleAnon && d.Inherits != RoleAuthenticated && !declared[d.Inherits]:
			bad.addf("roles[%d]: %q inherits unknown role %q (declare it in \"roles\")", i, d.Role, d.Inherits)
			continue
		}
		if seenRole[d] {
			continue
		}
		seenRole[d] = true
		out.Roles = append(out.Roles, d)
		if d.Inherits != "" {
			parents[d.Role] = append(parents[d.Role], d.Inherits)
		}
	}
	checkHierarchy(parents, &bad)

	seenPolicy := map[Policy]bool{}
	for i, p := range in.Policies {
		n := Policy{
			Role:      strings.TrimSpace(p.Role),
			Table:     strings.TrimSpace(p.Table),
			Action:    strings.ToLower(strings.TrimSpace(p.Action)),
			Condition: strings.TrimSpace(p.Condition),
		}
		at := fmt.Sprintf("policies[%d]", i)
		var ok bool
		n.Role, ok = checkPolicyRole(at, n.Role, declared, &bad)
		ok = checkObject(at, n, sch, &bad) && ok
		if !ok || seenPolicy[n] {
			continue
		}
		seenPolicy[n] = true
		out.Policies = append(out.Policies, n)
	}
	return out, bad.err()
}

// checkPolicyRole returns the role as stored (user ids canonical, as the
// subjects of requests are) and whether it is valid.
func checkPolicyRole(at, role string, declared map[string]bool, bad *problems) (string, bool) {
	switch {
	case role == RoleAnon || role == RoleAuthenticated || declared[role]:
		return role, true
	case role == RoleServiceRole:
		bad.addf("%s: service_role bypasses access rules and needs no policy", at)
	case strings.HasPrefix(role, userPrefix):
		if id, err := uuid.Parse(strings.TrimPrefix(role, userPrefix)); err == nil && len(role) == len(userPrefix)+36 {
			return UserSubject(id.String()), true
		}
		bad.addf("%s: %q is not user:{uuid}", at, role)
	case role == "":
		bad.addf("%s: role is required", at)
	default:
		bad.addf("%s: unknown role %q (use anon, authenticated, user:{uuid} or declare it in \"roles\")", at, role)
	}
	return role, false
}

// checkPattern accepts a name or a keyMatch prefix pattern: "*" only at
// the end (keyMatch ignores anything after the first *, so "a*b" would
// silently mean "a*").
func checkPattern(at, what, name string, bad *problems) bool {
	if name == "" {
		bad.addf("%s: %s name is required", at, what)
		return false
	}
	if i := strings.IndexByte(name, '*'); i >= 0 && i != len(name)-1 {
		bad.addf("%s: %q: '*' is only allowed at the end of a %s pattern", at, name, what)
		return false
	}
	return true
}

func checkObject(at string, p Policy, sch *schema.Schema, bad *problems) bool {
	if fn, ok := strings.CutPrefix(p.Table, rpcPrefix); ok {
		if !checkPattern(at, "function", fn, bad) {
			return false
		}
		good := true
		if !strings.HasSuffix(fn, "*") {
			if _, ok := sch.Functions[fn]; !ok {
				bad.addf("%s: unknown function %q in the project schema", at, fn)
				good = false
			}
		}
		if p.Action != ActExecute && p.Action != ActAll {
			bad.addf("%s: action %q does not apply to functions (use execute or *)", at, p.Action)
			good = false
		}
		if p.Condition != "" {
			bad.addf("%s: functions take no row condition", at)
			good = false
		}
		return good
	}
	if !checkPattern(at, "table", p.Table, bad) {
		return false
	}
	good := true
	var tables []*schema.Table
	if strings.HasSuffix(p.Table, "*") {
		for _, name := range sch.TableNames() {
			if objMatch(name, p.Table) {
				tables = append(tables, sch.Tables[name])
			}
		}
	} else if t, ok := sch.Table(p.Table); ok {
		tables = []*schema.Table{t}
	} else {
		bad.addf("%s: unknown table %q in the project schema", at, p.Table)
		good = false
	}
	switch p.Action {
	case ActSelect, ActInsert, ActUpdate, ActDelete, ActAll:
	case ActExecute:
		bad.addf("%s: execute applies to functions; write the object as rpc:{function}", at)
		good = false
	case "":
		bad.addf("%s: action is required", at)
		good = false
	default:
		bad.addf("%s: unknown action %q (use select, insert, update, delete or *)", at, p.Action)
		good = false
	}
	if p.Condition == "" {
		return good
	}
	e, err := query.ParseCondition(p.Condition)
	if err != nil {
		msg := err.Error()
		var qe *query.Error
		if errors.As(err, &qe) {
			msg = qe.Message
			if qe.Details != "" {
				msg += " (" + qe.Details + ")"
			}
		}
		bad.addf("%s: invalid condition %q: %s", at, p.Condition, msg)
		return false
	}
	for _, col := range conditionColumns(e) {
		for _, t := range tables {
			if _, ok := t.Column(col); !ok {
				bad.addf("%s: condition names column %q, which table %q does not have", at, col, t.Name)
				good = false
			}
		}
	}
	return good
}

// conditionColumns lists the columns a condition filters on.
func conditionColumns(e query.Expr) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(query.Expr)
	walk = func(e query.Expr) {
		if e.Filter != nil && !seen[e.Filter.Field.Name] {
			seen[e.Filter.Field.Name] = true
			out = append(out, e.Filter.Field.Name)
		}
		for _, c := range e.Children {
			walk(c)
		}
	}
	walk(e)
	return out
}

// checkHierarchy rejects inheritance cycles and chains Casbin would not
// follow to the end.
func checkHierarchy(parents map[string][]string, bad *problems) {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	depth := map[string]int{}
	reported := false
	var visit func(r string) int
	visit = func(r string) int {
		switch state[r] {
		case visiting:
			if !reported {
				bad.addf("roles: inheritance cycle through %q", r)
				reported = true
			}
			return 0
		case done:
			return depth[r]
		}
		state[r] = visiting
		d := 0
		for _, p := range parents[r] {
			d = max(d, visit(p)+1)
		}
		state[r] = done
		depth[r] = d
		return d
	}
	names := make([]string, 0, len(parents))
	for r := range parents {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		if visit(r) > maxRoleDepth && !reported {
			bad.addf("roles: inheritance from %q is more than %d levels deep", r, maxRoleDepth)
			reported = true
		}
	}
}

// RuleSet reads a project's rules (policies, declared roles, inheritance).
func (e *Engine) RuleSet(ctx context.Context, ref string) (RuleSet, error) {
	out := RuleSet{Policies: []Policy{}, Roles: []RoleDef{}}
	rows, err := e.db.Query(ctx, `select ptype, v0, v1, v2, v3 from plinth.casbin_rule
		where project_ref = $1 and (ptype in ('p', 'role') or (ptype = 'g' and v0 not like 'user:%')) order by id`, ref)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	var declared []string
	inherits := map[string][]string{}
	for rows.Next() {
		var ptype string
		var v [4]string
		if err := rows.Scan(&ptype, &v[0], &v[1], &v[2], &v[3]); err != nil {
			return out, err
		}
		switch ptype {
		case "p":
			out.Policies = append(out.Policies, Policy{Role: v[0], Table: v[1], Action: v[2], Condition: v[3]})
		case ptypeRole:
			declared = append(declared, v[0])
		case "g":
			if _, ok := inherits[v[0]]; !ok {
				inherits[v[0]] = nil
			}
			inherits[v[0]] = append(inherits[v[0]], v[1])
		}
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	listed := map[string]bool{}
	for _, r := range declared {
		listed[r] = true
		if len(inherits[r]) == 0 {
			out.Roles = append(out.Roles, RoleDef{Role: r})
		}
		for _, p := range inherits[r] {
			out.Roles = append(out.Roles, RoleDef{Role: r, Inherits: p})
		}
	}
	// Links written by hand without a declaration still show.
	var extra []string
	for r := range inherits {
		if !listed[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(extra)
	for _, r := range extra {
		for _, p := range inherits[r] {
			out.Roles = append(out.Roles, RoleDef{Role: r, Inherits: p})
		}
	}
	return out, nil
}

// Replace stores a validated rule set in place of the project's policies,
// roles and inheritance (user role assignments stay), with its audit record
// and a NOTIFY in the same transaction, then reloads this instance's copy.
func (e *Engine) Replace(ctx context.Context, ref string, rs RuleSet, audit store.Audit) error {
	var rows []ruleRow
	declared := map[string]bool{}
	for _, r := range rs.Roles {
		if !declared[r.Role] {
			declared[r.Role] = true
			rows = append(rows, newRow(ptypeRole, []string{r.Role}))
		}
	}
	for _, r := range rs.Roles {
		if r.Inherits != "" {
			rows = append(rows, newRow("g", []string{r.Role, r.Inherits}))
		}
	}
	for _, p := range rs.Policies {
		rows = append(rows, newRow("p", []string{p.Role, p.Table, p.Action, p.Condition}))
	}
	err := pgx.BeginFunc(ctx, e.db, func(tx pgx.Tx) error {
		if err := lockRules(ctx, tx, ref); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `delete from plinth.casbin_rule where project_ref = $1
			and (ptype in ('p', 'role') or (ptype = 'g' and v0 not like 'user:%'))`, ref); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, ref, rows); err != nil {
			return err
		}
		if err := store.WriteAudit(ctx, tx, audit); err != nil {
			return err
		}
		return store.Notify(ctx, tx, store.ChannelRules, ref)
	})
	if err != nil {
		return fmt.Errorf("save access rules of %s: %w", ref, err)
	}
	e.Reload(ref)
	return nil
}

// ParseUserID checks an end user's id (a UUID) and returns it canonical.
func ParseUserID(id string) (string, error) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 { // the plain form only, not {…} or urn:uuid:…
		return "", apierror.Newf(http.StatusBadRequest, apierror.CodeBadRequest, "User id %q is not a UUID", id)
	}
	return u.String(), nil
}

// UserRoles lists the custom roles given to a user.
func (e *Engine) UserRoles(ctx context.Context, ref, userID string) ([]string, error) {
	rows, err := e.db.Query(ctx, `select v1 from plinth.casbin_rule where project_ref = $1 and ptype = 'g' and v0 = $2 order by id`,
		ref, UserSubject(userID))
	if err != nil {
		return nil, err
	}
	roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if roles == nil {
		roles = []string{}
	}
	return roles, nil
}

// SetUserRoles replaces the custom roles of a user; every role must be
// declared in the project's rules. Audit record and NOTIFY commit with it.
func (e *Engine) SetUserRoles(ctx context.Context, ref, userID string, roles []string, audit store.Audit) ([]string, error) {
	var bad problems
	out := []string{}
	seen := map[string]bool{}
	for i, r := range roles {
		r = strings.TrimSpace(r)
		switch {
		case r == RoleAuthenticated:
			bad.addf("roles[%d]: every signed-in user is authenticated already", i)
		case builtinRole(r):
			bad.addf("roles[%d]: %q cannot be given to a user", i, r)
		case !roleName.MatchString(r):
			bad.addf("roles[%d]: invalid role name %q", i, r)
		case !seen[r]:
			seen[r] = true
			out = append(out, r)
		}
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	subject := UserSubject(userID)
	err := pgx.BeginFunc(ctx, e.db, func(tx pgx.Tx) error {
		if err := lockRules(ctx, tx, ref); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `select v0 from plinth.casbin_rule where project_ref = $1 and ptype = 'role' and v0 = any($2)`, ref, out)
		if err != nil {
			return err
		}
		known, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, k := range known {
			have[k] = true
		}
		for i, r := range out {
			if !have[r] {
				bad.addf("roles[%d]: unknown role %q (declare it with PUT /admin/v1/projects/%s/rules first)", i, r, ref)
			}
		}
		if err := bad.err(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `delete from plinth.casbin_rule where project_ref = $1 and ptype = 'g' and v0 = $2`, ref, subject); err != nil {
			return err
		}
		links := make([]ruleRow, len(out))
		for i, r := range out {
			links[i] = newRow("g", []string{subject, r})
		}
		if err := insertRows(ctx, tx, ref, links); err != nil {
			return err
		}
		if err := store.WriteAudit(ctx, tx, audit); err != nil {
			return err
		}
		return store.Notify(ctx, tx, store.ChannelRules, ref)
	})
	if err != nil {
		return nil, err
	}
	e.Reload(ref)
	return out, nil
}

// RemoveUser deletes a user's role assignments and personal policies in
// the caller's transaction (for deleting an end user) and queues the NOTIFY
// that makes every instance reload the project's rules.
func RemoveUser(ctx context.Context, tx Execer, ref, userID string) error {
	subject := UserSubject(userID)
	if _, err := tx.Exec(ctx, `delete from plinth.casbin_rule where project_ref = $1 and ptype in ('p', 'g') and v0 = $2`, ref, subject); err != nil {
		return err
	}
	return store.Notify(ctx, tx, store.ChannelRules, ref)
}
