package query

// Arg is one argument of a GET /rpc/{fn} call, as name and text value.
// Repeated keys give several Args with the same name (array/variadic args).
type Arg struct {
	Name, Value string
}

// ParseRPC parses the query string of GET /rpc/{fn}. Every key that is not
// reserved (IsReservedKey) and has no embed path is a function argument when
// isArg reports it as one, or when its value is not a filter expression
// (?a=1 is an argument, ?a=eq.1 a filter on the result, as in PostgREST).
// With isArg nil only the second rule applies. The remaining params form the
// Query on the function's result.
func ParseRPC(rawQuery string, isArg func(name string) bool) (*Query, []Arg, error) {
	params, err := splitQuery(rawQuery)
	if err != nil {
		return nil, nil, err
	}
	var args []Arg
	var rest []param
	for _, p := range params {
		if name, ok := rpcArgName(p, isArg); ok {
			args = append(args, Arg{Name: name, Value: p.value})
		} else {
			rest = append(rest, p)
		}
	}
	q, qerr := buildQuery(rest)
	if qerr != nil {
		return nil, nil, qerr
	}
	return q, args, nil
}

// rpcArgName returns the argument name of p, or false when p belongs to the
// query on the result.
func rpcArgName(p param, isArg func(string) bool) (string, bool) {
	if IsReservedKey(p.key) {
		return "", false
	}
	path, field, err := parseFilterKey(p.key)
	if err != nil || len(path) > 0 || len(field.JSON) > 0 {
		return "", false // not a plain name: the filter parser reports it
	}
	if isArg != nil && isArg(field.Name) {
		return field.Name, true
	}
	if _, err := parseFilterValue(field, p.value, nil); err != nil {
		return field.Name, true
	}
	return "", false
}
