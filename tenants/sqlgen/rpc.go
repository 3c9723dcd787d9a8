package sqlgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/schema"
)

// CallInput is the arguments of an RPC.
type CallInput struct {
	// Get says the arguments come from the query string (GET/HEAD), in Args;
	// otherwise Body holds the JSON object of named arguments (POST).
	Get  bool
	Args []query.Arg
	Body []byte
	// SingleObject is Prefer: params=single-object: the body is the one
	// json/jsonb argument of the function.
	SingleObject bool
}

// IsArg returns the test query.ParseRPC needs to tell a function's
// arguments from filters on its result: any argument name of any overload.
func IsArg(s *schema.Schema, fn string) func(name string) bool {
	return func(name string) bool {
		for _, f := range s.Functions[fn] {
			for _, a := range f.Args {
				if a.Name == name {
					return true
				}
			}
		}
		return false
	}
}

// callMode is how arguments reach the function.
type callMode uint8

const (
	byName    callMode = iota // named arguments
	wholeBody                 // the body is the single json/jsonb argument
)

// Call builds POST/GET /rpc/{fn}: the function of the project schema chosen
// by argument names (as PostgREST picks among overloads), called once; a
// result of rows can be selected, filtered, ordered, embedded and counted
// like a table.
func Call(s *schema.Schema, name string, req *Request, in CallInput) (*Statement, error) {
	b := newBuilder(s, req)
	args := map[string][]string{} // GET: name -> values
	var keys []string
	var body map[string]json.RawMessage
	if in.Get {
		for _, a := range in.Args {
			if _, ok := args[a.Name]; !ok {
				keys = append(keys, a.Name)
			}
			args[a.Name] = append(args[a.Name], a.Value)
		}
	} else if !in.SingleObject {
		trimmed := bytes.TrimSpace(in.Body)
		if len(trimmed) > 0 {
			if trimmed[0] != '{' {
				if !json.Valid(trimmed) {
					return nil, errInvalidBody("")
				}
				return nil, errInvalidBody("the arguments of a function call must be a JSON object")
			}
			if err := json.Unmarshal(trimmed, &body); err != nil {
				return nil, errInvalidBody(jsonError(err))
			}
			keys = objectKeys(trimmed)
		}
	}
	f, mode, err := chooseFunction(s, name, keys, !in.Get, in.SingleObject)
	if err != nil {
		return nil, err
	}
	cond, err := b.access("rpc:"+f.Name, "execute")
	if err != nil {
		return nil, err
	}

	call, err := b.callExpr(f, mode, keys, in.Get, args, in.Body)
	if err != nil {
		return nil, err
	}
	st := &Statement{ReadOnly: f.Volatile != "v"}
	root := &node{alias: "t0", cond: cond}
	var source string
	switch {
	case f.ReturnType == "void":
		st.Void = true
		source = "select from " + call + " t0"
	case f.ReturnTable != "":
		root.table = s.Tables[f.ReturnTable]
		if root.table == nil {
			// A composite type of its own (CREATE TYPE … AS): its fields
			// are not in the schema cache, so only select=* applies.
			root.table = &schema.Table{Name: f.ReturnTable}
		}
		source = "select t0.* from " + call + " t0"
	case len(f.Columns) > 0:
		root.table = resultTable(f)
		source = "select t0.* from " + call + " t0"
	case f.ReturnType == "record":
		return nil, apierror.Newf(http.StatusBadRequest, "PGRST100", "function %s returns an untyped record, which cannot be called through the API", f.Name).
			WithHint("Declare OUT parameters or RETURNS TABLE (...).")
	default:
		st.Scalar = true
		root.scalar = true
		root.table = &schema.Table{Name: f.Name}
		source = "select t0.pgrst_scalar from " + call + " t0(pgrst_scalar)"
	}
	if st.Void {
		f := &final{with: "with pgrst_source as materialized (" + source + ") ", rows: "select from pgrst_source", shape: shapeNone}
		st.SQL, st.Args = b.finish(f), b.args
		return st, nil
	}
	if err := b.planItems(root, req.Query.Select); err != nil {
		return nil, err
	}
	if err := b.checkPaths(root); err != nil {
		return nil, err
	}
	r, err := b.render(root, "pgrst_source t0", nil, req.Range, req.MaxRows)
	if err != nil {
		return nil, err
	}
	fin := &final{with: "with pgrst_source as materialized (" + source + ") ", rows: r.query(), keys: root.outputKeys()}
	fin.shape = b.shapeFor(root)
	if !f.ReturnsSet && fin.shape == shapeArray {
		fin.shape = shapeObject // a function returning one row type answers an object
		if root.scalar {
			fin.shape = shapeScalar
		}
	}
	if f.ReturnsSet && root.scalar && fin.shape == shapeArray {
		fin.shape = shapeScalars
	}
	if req.Prefer.Count != "" {
		// Planned counts would EXPLAIN the call; count the rows, which the
		// CTE has computed anyway.
		fin.total = "(select count(*) from " + r.countSource() + ")"
	}
	if req.singular() {
		fin.checks = append(fin.checks, b.singularCheck())
	}
	st.SQL, st.Args = b.finish(fin), b.args
	return st, nil
}

// resultTable describes the rows of a function returning TABLE(...) or OUT
// parameters, so they can be selected and filtered like a table's.
func resultTable(f *schema.Function) *schema.Table {
	t := &schema.Table{Name: f.Name, ColumnIndex: map[string]*schema.Column{}}
	for i, a := range f.Columns {
		c := &schema.Column{Name: a.Name, Position: i + 1, Type: a.Type, Nullable: true}
		t.Columns = append(t.Columns, c)
		t.ColumnIndex[c.Name] = c
	}
	return t
}

// callExpr renders the function call (a FROM item without alias).
func (b *builder) callExpr(f *schema.Function, mode callMode, keys []string, isGet bool, get map[string][]string, body []byte) (string, error) {
	fn := b.qualified(f.Name)
	if mode == wholeBody {
		raw := bytes.TrimSpace(body)
		if len(raw) == 0 {
			raw = []byte("{}")
		}
		if !json.Valid(raw) {
			return "", errInvalidBody("")
		}
		return fn + "(" + b.arg(string(raw)) + "::" + f.Args[0].Type + ")", nil
	}
	if len(keys) == 0 {
		return fn + "()", nil
	}
	named := make([]string, 0, len(keys))
	if isGet {
		for _, k := range keys {
			a := argByName(f, k)
			vals := get[k]
			v := vals[0]
			if len(vals) > 1 {
				if !a.variadic {
					return "", errBadRequest("PGRST100", "argument %q of function %s given more than once", k, f.Name)
				}
				v = arrayLiteral(vals)
			}
			named = append(named, a.prefix+quote(k)+" := "+b.arg(v)+"::"+a.Type)
		}
		return fn + "(" + strings.Join(named, ", ") + ")", nil
	}
	// POST: json_to_record converts every argument to its declared type
	// (arrays, json, composite values included).
	defs := make([]string, 0, len(keys))
	for _, k := range keys {
		a := argByName(f, k)
		defs = append(defs, quote(k)+" "+a.Type)
		named = append(named, a.prefix+quote(k)+" := _a."+quote(k))
	}
	return "json_to_record(" + b.arg(string(bytes.TrimSpace(body))) + "::json) as _a(" + strings.Join(defs, ", ") +
		"), lateral " + fn + "(" + strings.Join(named, ", ") + ")", nil
}

type namedArg struct {
	schema.Arg
	variadic bool
	prefix   string // "variadic " for the variadic argument
}

func argByName(f *schema.Function, name string) namedArg {
	for i, a := range f.Args {
		if a.Name == name {
			na := namedArg{Arg: a}
			if f.Variadic && i == len(f.Args)-1 {
				na.variadic, na.prefix = true, "variadic "
			}
			return na
		}
	}
	return namedArg{}
}

func isJSONType(t string) bool { return t == "json" || t == "jsonb" }

// chooseFunction picks the overload of name whose argument names fit keys
// (every key an argument, every argument without a default given), or, for
// a JSON body that fits none, the overload taking one unnamed json/jsonb
// argument.
func chooseFunction(s *schema.Schema, name string, keys []string, post, single bool) (*schema.Function, callMode, error) {
	fns := s.Functions[name]
	if single {
		for _, f := range fns {
			if len(f.Args) == 1 && isJSONType(f.Args[0].Type) {
				return f, wholeBody, nil
			}
		}
		return nil, 0, errNoFunction(s, name, keys)
	}
	var fits []*schema.Function
	for _, f := range fns {
		if fitsArgs(f, keys) {
			fits = append(fits, f)
		}
	}
	if len(fits) > 1 {
		// Prefer the overloads that take exactly the given arguments.
		var exact []*schema.Function
		for _, f := range fits {
			if len(f.Args) == len(keys) {
				exact = append(exact, f)
			}
		}
		if len(exact) > 0 {
			fits = exact
		}
	}
	switch len(fits) {
	case 1:
		return fits[0], byName, nil
	case 0:
		if post {
			for _, f := range fns {
				if len(f.Args) == 1 && f.Args[0].Name == "" && isJSONType(f.Args[0].Type) {
					return f, wholeBody, nil
				}
			}
		}
		return nil, 0, errNoFunction(s, name, keys)
	}
	sigs := make([]string, len(fits))
	for i, f := range fits {
		parts := make([]string, len(f.Args))
		for j, a := range f.Args {
			parts[j] = a.Name + " => " + a.Type
		}
		sigs[i] = apiSchema + "." + f.Name + "(" + strings.Join(parts, ", ") + ")"
	}
	return nil, 0, apierror.Newf(http.StatusMultipleChoices, "PGRST203", "Could not choose the best candidate function between: %s", strings.Join(sigs, ", ")).
		WithHint("Try renaming the parameters or the function itself in the database so function overloading can be resolved")
}

func fitsArgs(f *schema.Function, keys []string) bool {
	for _, k := range keys {
		if !slices.ContainsFunc(f.Args, func(a schema.Arg) bool { return a.Name == k }) {
			return false
		}
	}
	for _, a := range f.Args {
		if a.Name == "" || !a.HasDefault && !slices.Contains(keys, a.Name) {
			return false
		}
	}
	return true
}

// errNoFunction is PostgREST's PGRST202.
func errNoFunction(s *schema.Schema, name string, keys []string) error {
	sorted := slices.Clone(keys)
	sort.Strings(sorted)
	fq := apiSchema + "." + name
	var msg, details string
	if len(sorted) == 0 {
		msg = fmt.Sprintf("Could not find the function %s without parameters in the schema cache", fq)
		details = fmt.Sprintf("Searched for the function %s without parameters or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.", fq)
	} else {
		list := strings.Join(sorted, ", ")
		msg = fmt.Sprintf("Could not find the function %s(%s) in the schema cache", fq, list)
		details = fmt.Sprintf("Searched for the function %s with parameters %s or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.", fq, list)
	}
	e := apierror.New(http.StatusNotFound, "PGRST202", msg).WithDetails(details)
	if _, ok := s.Functions[name]; !ok {
		if near := nearestFunction(s, name); near != "" {
			e = e.WithHint("Perhaps you meant to call the function " + apiSchema + "." + near)
		}
	}
	return e
}

// nearestFunction suggests a function whose name differs little from name.
func nearestFunction(s *schema.Schema, name string) string {
	best, bestD := "", 3
	for n := range s.Functions {
		if d := distance(n, name); d < bestD || d == bestD && best != "" && n < best {
			best, bestD = n, d
		}
	}
	return best
}

// distance is the Levenshtein distance (bounded inputs: function names).
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
