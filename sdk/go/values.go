package plinth

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// text renders a value the way JavaScript's `${value}` does in postgrest-js,
// so the same call sends the same URL from either SDK: null for nil, arrays
// joined with commas. Times are RFC 3339 (what Postgres accepts), and maps
// and structs are JSON.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int8, int16, int32, int64:
		return strconv.FormatInt(reflect.ValueOf(x).Int(), 10)
	case uint, uint8, uint16, uint32, uint64:
		return strconv.FormatUint(reflect.ValueOf(x).Uint(), 10)
	case float32:
		return jsNumber(float64(x))
	case float64:
		return jsNumber(x)
	case json.Number:
		return string(x)
	case json.RawMessage:
		return string(x)
	case []byte:
		return string(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case fmt.Stringer:
		return x.String()
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return "null"
		}
		return text(rv.Elem().Interface())
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return ""
		}
		parts := make([]string, rv.Len())
		for i := range parts {
			e := rv.Index(i)
			if (e.Kind() == reflect.Pointer || e.Kind() == reflect.Interface) && e.IsNil() {
				continue // JS prints null elements of an array as ""
			}
			parts[i] = text(e.Interface())
		}
		return strings.Join(parts, ",")
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return jsNumber(rv.Float())
	case reflect.Map, reflect.Struct:
		if b, err := json.Marshal(v); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}

// jsNumber formats like Number.prototype.toString.
func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	a := math.Abs(f)
	if a != 0 && (a >= 1e21 || a < 1e-6) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go writes e-07 / e+21; JavaScript writes e-7 / e+21.
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		return mant + "e" + string(sign) + exp
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// isList reports whether v is a slice or array (not []byte or RawMessage).
func isList(v any) bool {
	switch v.(type) {
	case []byte, json.RawMessage, nil:
		return false
	}
	k := reflect.ValueOf(v).Kind()
	return k == reflect.Slice || k == reflect.Array
}

// elems returns the elements of a slice or array, or v alone.
func elems(v any) []any {
	if !isList(v) {
		return []any{v}
	}
	rv := reflect.ValueOf(v)
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out
}

// reservedInList matches postgrest-js's PostgrestReservedCharsRegexp: values
// of in.() holding one of these are double-quoted.
func reservedInList(s string) bool { return strings.ContainsAny(s, ",()") }

// inList renders in.() contents like postgrest-js: duplicates dropped,
// strings with reserved characters quoted.
func inList(values any) string {
	seen := map[string]bool{}
	var parts []string
	for _, v := range elems(values) {
		s := text(v)
		_, isString := v.(string)
		key := fmt.Sprintf("%T\x00%s", v, s)
		if seen[key] {
			continue
		}
		seen[key] = true
		if isString && reservedInList(s) {
			s = `"` + s + `"`
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

// braces renders an array literal {a,b} for cs/cd/ov and array-valued RPC
// arguments.
func braces(v any) string { return "{" + text(v) + "}" }

// containment renders cs/cd operands: strings raw, lists as {a,b}, other
// values as JSON (jsonb containment).
func containment(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if isList(v) {
		return braces(v)
	}
	if r, ok := v.(json.RawMessage); ok {
		return string(r)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return text(v)
	}
	return string(b)
}
