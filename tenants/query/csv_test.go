package query

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestCSVBody(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"rows", "name,country\nUrsula,US\nStanisław,PL\n", `[{"name":"Ursula","country":"US"},{"name":"Stanisław","country":"PL"}]`},
		{"null and empty", "a,b\nNULL,\n", `[{"a":null,"b":""}]`},
		{"quotes, commas, newlines", "a,b\n\"x, \"\"y\"\"\",\"line\nbreak\"\n", `[{"a":"x, \"y\"","b":"line\nbreak"}]`},
		{"control characters stay JSON", "a\n\"\x01\t<\"\n", `[{"a":"\u0001\t\u003c"}]`},
		{"header only", "a,b\n", `[]`},
		{"CRLF", "a\r\n1\r\n", `[{"a":"1"}]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := CSVBody([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got) || string(got) != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
	for _, bad := range []string{"", "a,b\n1\n", "a\n\"unterminated\n", "a\n\xff\n"} {
		_, err := CSVBody([]byte(bad))
		var qe *Error
		if !errors.As(err, &qe) || qe.Code != CodeBody || qe.Status() != 400 {
			t.Fatalf("%q: %v, want a PGRST102", bad, err)
		}
	}
}

// FuzzCSVBody: whatever the CSV, the result is an error or a JSON array of
// objects with one key per header field.
func FuzzCSVBody(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a\nNULL\n", "\"a\"\"\",b\n\"x\ny\",\n", "a\n\x00\n", "", "a,a\n1,2\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := CSVBody(body)
		if err != nil {
			return
		}
		var rows []map[string]any
		if err := json.Unmarshal(out, &rows); err != nil {
			t.Fatalf("%q gave invalid JSON %s: %v", body, out, err)
		}
	})
}
