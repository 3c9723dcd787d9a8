package sqlgen

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/tenants/query"
)

// FuzzWriteBody builds inserts, updates and puts from arbitrary JSON bodies
// and query strings: no input may panic, and each either yields SQL whose
// arguments carry the body (never spliced into the text) or a client error.
// Run longer with: go test -run '^$' -fuzz FuzzWriteBody ./tenants/sqlgen/
func FuzzWriteBody(f *testing.F) {
	for _, seed := range []struct{ table, raw, body string }{
		{"authors", "", `{"name":"x","country":"US"}`},
		{"authors", "columns=name", `[{"name":"a","junk":1},{"name":"b"}]`},
		{"authors", "", `[{"name":"a"},{"country":"b"}]`},
		{"authors", "id=eq.7", `{"id":7,"name":"x"}`},
		{"authors", "", `{"name\"; drop table authors; --":1}`},
		{"authors", "", `{"name":"'); drop table authors; --"}`},
		{"authors", "", `[` + strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200) + `]`},
		{"authors", "", `{"meta":` + strings.Repeat(`{"a":`, 300) + `1` + strings.Repeat(`}`, 300) + `}`},
		{"authors", "", "{\"name\":\"\xff\xfe\x00\"}"},
		{"authors", "", `[null]`},
		{"authors", "", `"just a string"`},
		{"authors", "", `{"name":1}{"name":2}`},
		{"authors", "", ``},
		{"books", "on_conflict=id", `{"id":1,"title":"t"}`},
		{"nokey", "", `{"a":"x"}`},
		{"nope", "", `{"a":"x"}`},
		{"authors", "columns=\"na,me\"", `{"na,me":1}`},
	} {
		f.Add(seed.table, seed.raw, []byte(seed.body), uint8(0))
	}
	s := testSchema()
	f.Fuzz(func(t *testing.T, table, raw string, body []byte, mode uint8) {
		q, err := query.ParseQuery(raw)
		if err != nil {
			return // the parser has its own fuzz target
		}
		r := &Request{Query: q, Range: q.RangeFor(nil), NoBody: mode&4 != 0}
		switch mode & 24 {
		case 8:
			r.Prefer.Resolution = query.MergeDuplicates
		case 16:
			r.Prefer.Resolution = query.IgnoreDuplicates
		case 24:
			r.Prefer.Missing = query.MissingDefault
		}
		var st *Statement
		switch mode % 3 {
		case 0:
			st, err = Insert(s, table, r, body)
		case 1:
			st, err = Update(s, table, r, body)
		default:
			st, err = Put(s, table, r, body)
		}
		if err != nil {
			if e := apierror.From(err, false); e.Status >= 500 {
				t.Fatalf("server error %d %s for %q %q %q", e.Status, e.Code, table, raw, body)
			}
			return
		}
		if st == nil || st.SQL == "" {
			t.Fatal("no statement and no error")
		}
		// Values travel as arguments: a body long enough to be unique must
		// not appear in the SQL text.
		if len(body) > 40 && strings.Contains(st.SQL, string(body)) {
			t.Fatalf("body spliced into SQL: %s", st.SQL)
		}
	})
}

// FuzzPayload holds the body walker to encoding/json: a body it accepts is
// valid JSON, and its keys are the ones encoding/json finds. (It refuses
// invalid UTF-8, which encoding/json would pass on as U+FFFD and Postgres
// would then refuse.)
func FuzzPayload(f *testing.F) {
	for _, seed := range []string{`{"a":1,"b":"x"}`, `[{"a":1},{"a":2}]`, `{"a":1,"a":2}`, `{"k\"ey":[1,{"x":"]"}]}`,
		`[]`, `{}`, `[1]`, `{"a":`, `{"a":"\u00e9"}`, "{\"a\":\"\xff\"}", `  {"a" : null}  `, `{"a":1}{"b":2}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parsePayload(body, nil)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		var rows []map[string]json.RawMessage
		if err := json.Unmarshal(p.raw, &rows); err != nil {
			t.Fatalf("raw %q is not an array of objects: %v", p.raw, err)
		}
		if len(rows) != len(p.rows) {
			t.Fatalf("%d rows, encoding/json finds %d", len(p.rows), len(rows))
		}
		if len(rows) > 0 && len(p.keys) != len(rows[0]) {
			t.Fatalf("first object's ordered keys %q, encoding/json finds %d", p.keys, len(rows[0]))
		}
		for i, r := range rows {
			if len(r) != len(p.rows[i]) {
				t.Fatalf("row %d keys %q, encoding/json finds %d", i, p.rows[i], len(r))
			}
			for k := range p.rows[i] {
				if _, ok := r[k]; !ok {
					t.Fatalf("row %d key %q unknown to encoding/json (%v)", i, k, r)
				}
			}
		}
	})
}
