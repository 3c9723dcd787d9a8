package restapi_test

import (
	"encoding/json"
	"math/rand"
	"net/url"
	"strings"
	"testing"
)

// TestBadInputNever500 sends malformed and hostile requests: each must get
// a 4xx in PostgREST's error shape, with the expected code where one is
// given, and never a 500.
func TestBadInputNever500(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "badinput", "")
	cases := []struct {
		method, path string
		headers      map[string]string
		body         any
		status       int
		code         string
	}{
		{"GET", "/nope", nil, nil, 404, "PGRST205"},
		{"GET", "/authors?select=nope", nil, nil, 400, "42703"},
		{"GET", "/authors?nope=eq.1", nil, nil, 400, "42703"},
		{"GET", "/authors?order=nope", nil, nil, 400, "42703"},
		{"GET", "/authors?select=id,books(nope)", nil, nil, 400, "42703"},
		{"GET", "/authors?select=id,books(id)&books.nope=eq.1", nil, nil, 400, "42703"},
		{"GET", "/authors?id=zz.1", nil, nil, 400, "PGRST100"},
		{"GET", "/authors?id=eq", nil, nil, 400, "PGRST100"},
		{"GET", "/authors?id=in.(1,2", nil, nil, 400, "PGRST100"},
		{"GET", "/authors?or=(id.eq.1", nil, nil, 400, "PGRST100"},
		{"GET", "/authors?or=id.eq.1", nil, nil, 400, "PGRST100"},
		{"GET", "/authors?select=id,books(", nil, nil, 400, "PGRST100"},
		{"GET", "/authors?select=id::", nil, nil, 400, "PGRST100"},
		{"GET", "/authors?select=id::text;drop", nil, nil, 400, "PGRST100"},
		{"GET", "/authors?order=id.sideways", nil, nil, 400, "PGRST100"},
		{"GET", "/authors?id=eq.abc", nil, nil, 400, "22P02"},
		{"GET", "/authors?born=gt.yesterday-ish", nil, nil, 400, "22007"},
		{"GET", "/books?genres=cs.notanarray", nil, nil, 400, "22P02"},
		{"GET", "/books?mood=eq.angry", nil, nil, 400, "22P02"},
		{"GET", "/books?meta=cs.{bad json", nil, nil, 400, "22P02"},
		{"GET", "/books?title=match.(", nil, nil, 400, "2201B"},
		{"GET", "/books?title=fts(nolang).x", nil, nil, 400, "42704"},
		{"GET", "/books?id=eq(any).1", nil, nil, 400, "22P02"},
		{"GET", "/authors?limit=-5", nil, nil, 416, "PGRST103"},
		{"GET", "/authors?limit=99999999999999999999", nil, nil, 416, "PGRST103"},
		{"GET", "/authors?offset=-1", nil, nil, 416, "PGRST103"},
		{"GET", "/authors", map[string]string{"Range": "9-1"}, nil, 416, "PGRST103"},
		{"GET", "/authors", map[string]string{"Range": "0-9223372036854775807"}, nil, 416, "PGRST103"},
		{"GET", "/authors", map[string]string{"Accept": "image/png"}, nil, 406, "PGRST107"},
		{"GET", "/authors", map[string]string{"Prefer": "handling=strict, bogus=1"}, nil, 400, "PGRST122"},
		{"GET", "/authors?select=*,self(*)", nil, nil, 400, "PGRST200"},
		{"GET", "/authors?select=*,books!!inner(*)", nil, nil, 400, "PGRST100"},
		{"GET", "/authors?select=id&x.y.z=eq.1", nil, nil, 400, "PGRST108"},
		{"GET", "/authors?id=eq.%00", nil, nil, 400, "PGRST100"},
		{"GET", "/authors?id=eq.%ff", nil, nil, 400, "PGRST100"},
		{"GET", "/authors?id=eq.%zz", nil, nil, 400, "PGRST100"},
		{"GET", "/rpc/nope", nil, nil, 404, "PGRST202"},
		{"POST", "/rpc/add", nil, `{"a":1,"b":2,"c":3}`, 404, "PGRST202"},
		{"POST", "/rpc/add", nil, `"text"`, 400, "PGRST102"},
		{"POST", "/authors", nil, `{"name":"x","born":"not a date"}`, 400, "22007"},
		{"POST", "/authors", nil, `{"id":"1e999","name":"x"}`, 400, "22P02"},
		{"POST", "/authors", nil, `{"name":"x",}`, 400, "PGRST102"},
		{"POST", "/authors", nil, `[{"name":"x"},"y"]`, 400, "PGRST102"},
		{"POST", "/authors", nil, `null`, 400, "PGRST102"},
		{"POST", "/authors?on_conflict=nope", map[string]string{"Prefer": "resolution=merge-duplicates"}, `{"name":"x"}`, 400, "42703"},
		{"PATCH", "/authors", nil, `"x"`, 400, "PGRST102"},
		{"PATCH", "/authors?id=eq.1", nil, `{"name":null}`, 400, "23502"},
		{"PUT", "/authors", nil, `{"id":1,"name":"x"}`, 400, "PGRST105"},
		{"PUT", "/author_bios?author_id=eq.1", nil, `{"author_id":"x"}`, 400, "22P02"},
		{"DELETE", "/authors?or=(", nil, nil, 400, "PGRST100"},
		{"DELETE", "/authors?id=eq.1&order=nope&limit=1", nil, nil, 400, "42703"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			t.Parallel()
			res := e.do(t, c.method, c.path, c.headers, c.body)
			if c.code == "" {
				if res.Status != c.status {
					t.Fatalf("status %d, want %d: %s", res.Status, c.status, res.Body)
				}
				return
			}
			wantError(t, res, c.status, c.code, "")
		})
	}

	// Random garbage in every position of typical requests: whatever comes
	// back must be a well-formed answer below 500.
	t.Run("random mutations", func(t *testing.T) {
		t.Parallel()
		rng := rand.New(rand.NewSource(1))
		seeds := []string{
			"select=id,name,books(title,tags(name))&books.order=id.desc&books.limit=2&name=ilike.*le*",
			"select=*,authors!inner(name)&authors.country=eq.US&or=(pages.gt.200,and(mood.eq.sad,price.lt.20))&order=authors(name).desc",
			"select=t:title,meta->>series,price::text&genres=ov.{scifi}&id=in.(1,2,3)&limit=3&offset=1",
			"select=title,...authors(name)&title=fts(english).dark&not.or=(id.eq.1,id.is.null)",
		}
		junk := []string{"(", ")", ",", ".", "!", "*", "::", "->", "'", `"`, "%27", "%22", "%28", ";", "eq", "not.", "{", "}", "&", "=", "\\", "%00", "..."}
		for i := 0; i < 300; i++ {
			q := []byte(seeds[rng.Intn(len(seeds))])
			for n := rng.Intn(3) + 1; n > 0; n-- {
				pos := rng.Intn(len(q) + 1)
				ins := junk[rng.Intn(len(junk))]
				q = append(q[:pos], append([]byte(ins), q[pos:]...)...)
			}
			path := "/books?" + string(q)
			if strings.HasPrefix(seeds[0], string(q[:min(len(q), 10)])) {
				path = "/authors?" + string(q)
			}
			if _, err := url.ParseQuery(string(q)); err != nil && strings.Contains(err.Error(), "invalid URL escape") {
				continue // the HTTP client would refuse to send it
			}
			res := e.do(t, "GET", path, nil, nil)
			if res.Status >= 500 {
				t.Fatalf("%s: %d %s", path, res.Status, res.Body)
			}
			if res.Status >= 400 {
				var body map[string]any
				if err := json.Unmarshal(res.Body, &body); err != nil || body["code"] == nil || body["message"] == nil {
					t.Fatalf("%s: %d malformed error %s", path, res.Status, res.Body)
				}
			}
		}
	})
	// Once every subtest is done (cleanups run before the server's own),
	// the request log must show no 500 at all.
	t.Cleanup(func() {
		if strings.Contains(e.ts.Logs.String(), `"status":500`) {
			t.Error("a request was answered 500")
		}
	})
}
