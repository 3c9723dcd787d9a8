package query

import (
	"encoding/json"
	"net/http"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestPrefer(t *testing.T) {
	tests := []struct {
		values  []string
		want    Preferences
		applied string
	}{
		{nil, Preferences{}, ""},
		{[]string{"return=representation"}, Preferences{Return: ReturnRepresentation}, "return=representation"},
		{[]string{"return=minimal, count=exact"}, Preferences{Return: ReturnMinimal, Count: CountExact}, "return=minimal, count=exact"},
		{[]string{"return=headers-only", "count=planned"}, Preferences{Return: ReturnHeadersOnly, Count: CountPlanned}, "return=headers-only, count=planned"},
		{[]string{"count=estimated"}, Preferences{Count: CountEstimated}, "count=estimated"},
		{[]string{"resolution=merge-duplicates,missing=default,return=representation"},
			Preferences{Resolution: MergeDuplicates, Missing: MissingDefault, Return: ReturnRepresentation},
			"resolution=merge-duplicates, missing=default, return=representation"},
		{[]string{"resolution=ignore-duplicates"}, Preferences{Resolution: IgnoreDuplicates}, "resolution=ignore-duplicates"},
		{[]string{"tx=rollback"}, Preferences{Tx: TxRollback}, "tx=rollback"},
		{[]string{"tx=commit, tx=rollback"}, Preferences{Tx: TxCommit}, "tx=commit"},
		{[]string{"handling=lenient, bogus, return=nope"}, Preferences{Handling: HandlingLenient, Invalid: []string{"bogus", "return=nope"}}, "handling=lenient"},
		{[]string{"  count=exact ,   tx=commit  ,, "}, Preferences{Count: CountExact, Tx: TxCommit}, "count=exact, tx=commit"},
		{[]string{"timezone=Europe/Paris, max-affected=10"}, Preferences{Timezone: "Europe/Paris", MaxAffected: ptr(int64(10))}, "timezone=Europe/Paris"},
		{[]string{"handling=strict, max-affected=5"}, Preferences{Handling: HandlingStrict, MaxAffected: ptr(int64(5))}, "handling=strict, max-affected=5"},
		{[]string{"max-affected=x"}, Preferences{Invalid: []string{"max-affected=x"}}, ""},
		{[]string{"params=single-object"}, Preferences{Invalid: []string{"params=single-object"}}, ""},
	}
	for _, tt := range tests {
		got, err := ParsePrefer(tt.values)
		if err != nil {
			t.Errorf("%q: %v", tt.values, err)
			continue
		}
		equal(t, "prefer", got, tt.want)
		if a := got.Applied(); a != tt.applied {
			t.Errorf("%q: Applied() = %q, want %q", tt.values, a, tt.applied)
		}
	}

	_, err := ParsePrefer([]string{"handling=strict, foo, bar=1"})
	e := asError(t, err)
	if e.Code != CodeStrictPrefer || e.Message != "Invalid preferences given with handling=strict" ||
		e.Details != "Invalid preferences: foo, bar=1" || e.Status() != 400 {
		t.Errorf("strict: %+v", e)
	}
}

func TestRange(t *testing.T) {
	tests := []struct {
		value, unit string
		want        Range
		ok          bool
		errCode     string
	}{
		{"0-9", "", Range{0, 10}, true, ""},
		{"0-9", "items", Range{0, 10}, true, ""},
		{"items=5-5", "", Range{5, 1}, true, ""},
		{"10-", "", Range{10, NoLimit}, true, ""},
		{" 10-19 ", "ITEMS", Range{10, 10}, true, ""},
		{"0-9", "bytes", Range{}, false, ""},
		{"", "", Range{}, false, ""},
		{"abc", "", Range{}, false, ""},
		{"-5", "", Range{}, false, ""},
		{"1-2-3", "", Range{}, false, ""},
		{"9-0", "", Range{}, false, CodeRange},
		{"99999999999999999999-", "", Range{}, false, CodeRange},
		{"0-9223372036854775807", "", Range{}, false, CodeRange},
	}
	for _, tt := range tests {
		got, ok, err := ParseRange(tt.value, tt.unit)
		if tt.errCode != "" {
			if e := asError(t, err); e.Code != tt.errCode || e.Status() != 416 {
				t.Errorf("%q: %v", tt.value, err)
			}
			continue
		}
		if err != nil || ok != tt.ok || got != tt.want {
			t.Errorf("ParseRange(%q,%q) = %+v %v %v, want %+v %v", tt.value, tt.unit, got, ok, err, tt.want, tt.ok)
		}
	}
}

func TestRangeIntersect(t *testing.T) {
	tests := []struct{ a, b, want Range }{
		{Range{0, NoLimit}, Range{0, NoLimit}, Range{0, NoLimit}},
		{Range{0, 10}, Range{0, NoLimit}, Range{0, 10}},
		{Range{0, 10}, Range{5, 10}, Range{5, 5}},
		{Range{5, NoLimit}, Range{0, 10}, Range{5, 5}},
		{Range{20, 5}, Range{0, 10}, Range{20, 0}},
		{Range{1<<63 - 10, 100}, Range{0, NoLimit}, Range{1<<63 - 10, 9}},
	}
	for _, tt := range tests {
		if got := tt.a.Intersect(tt.b); got != tt.want {
			t.Errorf("%+v ∩ %+v = %+v, want %+v", tt.a, tt.b, got, tt.want)
		}
		if got := tt.b.Intersect(tt.a); got != tt.want {
			t.Errorf("%+v ∩ %+v = %+v, want %+v", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestAccept(t *testing.T) {
	tests := []struct {
		accept  string
		offered []MediaType
		want    MediaType
	}{
		{"", nil, MediaJSON},
		{"*/*", nil, MediaJSON},
		{"application/json", nil, MediaJSON},
		{"application/json, text/plain, */*", nil, MediaJSON},
		{"application/vnd.pgrst.object+json", nil, MediaObject},
		{"application/vnd.pgrst.object+json;nulls=stripped", nil, MediaObject},
		{"Application/VND.pgrst.object+JSON", nil, MediaObject},
		{"application/vnd.pgrst.array+json", nil, MediaJSON},
		{"text/csv", nil, MediaCSV},
		{"text/*", nil, MediaCSV},
		{"application/*", nil, MediaJSON},
		{"text/csv;q=0.5, application/json", nil, MediaJSON},
		{"application/json;q=0.1, text/csv;q=0.9", nil, MediaCSV},
		{"*/*, text/csv", nil, MediaCSV},
		{"text/unknown, */*;q=0.1", nil, MediaJSON},
		{"application/json;q=0, text/csv", nil, MediaCSV},
		{",", nil, MediaJSON},
		{"application/openapi+json", []MediaType{MediaOpenAPI, MediaJSON}, MediaOpenAPI},
		{"*/*", []MediaType{MediaOpenAPI, MediaJSON}, MediaOpenAPI},
	}
	for _, tt := range tests {
		got, err := ParseAccept(tt.accept, tt.offered...)
		if err != nil || got != tt.want {
			t.Errorf("ParseAccept(%q) = %q, %v; want %q", tt.accept, got, err, tt.want)
		}
	}
	for accept, msg := range map[string]string{
		"text/plain":                  "None of these media types are available: text/plain",
		"text/plain, image/png;q=0.5": "None of these media types are available: text/plain, image/png",
		"application/json;q=0":        "None of these media types are available: application/json",
		"undefined":                   "None of these media types are available: undefined",
	} {
		_, err := ParseAccept(accept)
		e := asError(t, err)
		if e.Code != CodeMediaType || e.Message != msg || e.Status() != 406 {
			t.Errorf("ParseAccept(%q): %+v", accept, e)
		}
	}
	if _, err := ParseAccept("text/csv", MediaOpenAPI); err == nil {
		t.Error("csv accepted for an openapi-only endpoint")
	}
}

func TestParseHeadersAndRequest(t *testing.T) {
	h := http.Header{}
	h.Add("Prefer", "count=exact")
	h.Add("Prefer", "return=representation")
	h.Set("Range", "0-9")
	h.Set("Range-Unit", "items")
	h.Set("Accept", "application/vnd.pgrst.object+json")
	h.Set("Accept-Profile", " public ")
	h.Set("Content-Profile", "proj_abc")

	r, err := Parse("select=id&limit=5&offset=3", h)
	if err != nil {
		t.Fatal(err)
	}
	if r.Prefer.Count != CountExact || r.Prefer.Return != ReturnRepresentation {
		t.Errorf("prefer = %+v", r.Prefer)
	}
	if !r.HasRange || r.Headers.Range != (Range{0, 10}) {
		t.Errorf("range = %+v %v", r.Headers.Range, r.HasRange)
	}
	if r.Accept != MediaObject || r.AcceptProfile != "public" || r.ContentProfile != "proj_abc" {
		t.Errorf("headers = %+v", r.Headers)
	}
	if got := r.TopRange(); got != (Range{3, 5}) {
		t.Errorf("TopRange = %+v", got)
	}
	equal(t, "select", r.Select, []SelectItem{column("id")})

	// Absent headers: defaults.
	r, err = Parse("", HeaderFunc(func(string) []string { return nil }))
	if err != nil || r.Accept != MediaJSON || r.HasRange || !r.TopRange().IsAll() {
		t.Errorf("defaults: %+v %v", r, err)
	}
	if hd, err := ParseHeaders(nil); err != nil || hd.Accept != MediaJSON {
		t.Errorf("nil header: %+v %v", hd, err)
	}

	for name, h := range map[string]http.Header{
		CodeMediaType:    {"Accept": {"image/png"}},
		CodeRange:        {"Range": {"9-1"}},
		CodeStrictPrefer: {"Prefer": {"handling=strict,nope"}},
	} {
		_, err := Parse("", h)
		if e := asError(t, err); e.Code != name {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Parse("id=bad", nil); asError(t, err).Code != CodeParse {
		t.Errorf("query error not reported: %v", err)
	}
}

func TestErrorJSON(t *testing.T) {
	b, err := json.Marshal(&Error{Code: CodeMediaType, Message: "m", Pos: -1})
	if err != nil || string(b) != `{"code":"PGRST107","message":"m","details":null,"hint":null}` {
		t.Errorf("json = %s %v", b, err)
	}
	b, _ = json.Marshal(&Error{Code: CodeParse, Message: "m", Details: "d", Hint: "h"})
	if string(b) != `{"code":"PGRST100","message":"m","details":"d","hint":"h"}` {
		t.Errorf("json = %s", b)
	}
}

func TestSmallStringers(t *testing.T) {
	if s := (&Error{Code: CodeParse, Message: "m", Details: "d"}).Error(); s != "PGRST100: m (d)" {
		t.Errorf("Error() = %q", s)
	}
	if s := (&Error{Code: CodeRange, Message: "m"}).Error(); s != "PGRST103: m" {
		t.Errorf("Error() = %q", s)
	}
	if s := (Path{"books", "reviews"}).String(); s != "books.reviews" {
		t.Errorf("Path.String() = %q", s)
	}
	if And.String() != "and" || Or.String() != "or" || LogicOp(0).String() != "" {
		t.Error("LogicOp.String")
	}
}
