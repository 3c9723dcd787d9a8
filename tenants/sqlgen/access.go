package sqlgen

import "github.com/plinth-dev/plinth/tenants/query"

// Access decides whether the caller may perform action on a table and on
// which rows. The returned condition (already free of placeholders) is ANDed
// into the statement for select/update/delete and must hold for every new or
// changed row on insert/update; an empty Expr means every row. A denial is
// returned as an error (an *apierror.Error with PL403, or 401 for anonymous
// callers). A nil Access allows everything (service_role).
//
// Tables are checked by name with actions "select", "insert", "update" and
// "delete"; functions as "rpc:{name}" with action "execute".
type Access func(table, action string) (query.Expr, error)
