package query

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// mustQuery parses raw or fails the test.
func mustQuery(t *testing.T, raw string) *Query {
	t.Helper()
	q, err := ParseQuery(raw)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", raw, err)
	}
	return q
}

// asError asserts err is a *Error and returns it.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	var qe *Error
	if !errors.As(err, &qe) {
		t.Fatalf("error %v (%T) is not a *query.Error", err, err)
	}
	return qe
}

func col(name string) Field { return Field{Name: name} }

func leaf(f Filter) Expr { return Expr{Filter: &f} }

func group(op LogicOp, not bool, children ...Expr) Expr {
	return Expr{Op: op, Not: not, Children: children}
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	// Trees are compared without their slot numbers (shape_test covers them).
	if ws, ok := got.([]Where); ok {
		got = unslotted(ws)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("%s:\n got  %s\n want %s", what, g, w)
	}
}

func unslotted(ws []Where) []Where {
	if ws == nil {
		return nil
	}
	out := make([]Where, len(ws))
	for i, w := range ws {
		out[i] = Where{Path: w.Path, Expr: unslottedExpr(w.Expr)}
	}
	return out
}

func unslottedExpr(e Expr) Expr {
	if e.Filter != nil {
		f := *e.Filter
		f.Slot = 0
		e.Filter = &f
	}
	if e.Children != nil {
		kids := make([]Expr, len(e.Children))
		for i, c := range e.Children {
			kids[i] = unslottedExpr(c)
		}
		e.Children = kids
	}
	return e
}
