package restapi_test

import (
	"net/http"
	"testing"
)

func TestRPC(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "rpc", "")
	cases := []struct {
		name, method, path string
		headers            map[string]string
		body               any
		status             int
		want               string
		contentRange       string
	}{
		{name: "scalar by POST", method: "POST", path: "/rpc/add", body: `{"a":1,"b":2}`, want: `3`},
		{name: "scalar by GET", method: "GET", path: "/rpc/add?a=40&b=2", want: `42`},
		{name: "overload by argument names", method: "POST", path: "/rpc/hello", body: `{"name":"ann"}`, want: `"hello ann"`},
		{name: "other overload", method: "POST", path: "/rpc/hello", body: `{"name":"ann","greeting":"hi"}`, want: `"hi ann"`},
		{name: "overload by GET", method: "GET", path: "/rpc/hello?name=bob&greeting=yo", want: `"yo bob"`},
		{name: "default argument", method: "POST", path: "/rpc/with_default", body: `{}`, want: `10`},
		{name: "default argument without body", method: "POST", path: "/rpc/with_default", want: `10`},
		{name: "array argument", method: "POST", path: "/rpc/tagged", body: `{"tags":["a","b","c"]}`, want: `3`},
		{name: "array argument by GET", method: "GET", path: "/rpc/tagged?tags={a,b}", want: `2`},
		{name: "single unnamed jsonb argument", method: "POST", path: "/rpc/echo", body: `{"x":[1,2]}`, want: `{"x": [1, 2]}`},
		{name: "params single-object", method: "POST", path: "/rpc/echo", headers: map[string]string{"Prefer": "params=single-object"}, body: `{"a":1}`, want: `{"a": 1}`},
		{name: "setof scalar", method: "GET", path: "/rpc/numbers?n=3", want: `[1,2,3]`, contentRange: "0-2/*"},
		{name: "setof table", method: "POST", path: "/rpc/books_by?select=id,title", body: `{"author":1}`,
			want: `[{"id":1,"title":"A Wizard of Earthsea"},{"id":2,"title":"The Left Hand of Darkness"}]`},
		{name: "setof table with filter order limit", method: "GET", path: "/rpc/books_by?author=1&select=id&pages=gt.100&order=id.desc&limit=1",
			want: `[{"id":2}]`, contentRange: "0-0/*"},
		{name: "setof table with count", method: "GET", path: "/rpc/books_by?author=1&select=id&order=id&limit=1", headers: map[string]string{"Prefer": "count=exact"},
			status: http.StatusPartialContent, want: `[{"id":1}]`, contentRange: "0-0/2"},
		{name: "setof table with embed", method: "GET", path: "/rpc/books_by?author=2&select=title,authors(name)",
			want: `[{"title":"Solaris","authors":{"name":"Stanisław Lem"}}]`},
		{name: "row type returns object", method: "GET", path: "/rpc/get_book?book_id=3&select=id,title", want: `{"id":3,"title":"Solaris"}`},
		{name: "composite type", method: "GET", path: "/rpc/make_pair?b=x", want: `{"a":1,"b":"x"}`},
		{name: "returns table", method: "GET", path: "/rpc/author_stats?book_count=gte.2", want: `[{"author_name":"Ursula K. Le Guin","book_count":2}]`},
		{name: "singular", method: "GET", path: "/rpc/books_by?author=2&select=id", headers: map[string]string{"Accept": "application/vnd.pgrst.object+json"}, want: `{"id":3}`},
		{name: "csv", method: "GET", path: "/rpc/author_stats?order=author_name&limit=1", headers: map[string]string{"Accept": "text/csv"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := e.do(t, c.method, c.path, c.headers, c.body)
			status := c.status
			if status == 0 {
				status = http.StatusOK
			}
			if c.want == "" {
				if res.Status != status || string(res.Body) != "author_name,book_count\n\"Nobody\",0" && string(res.Body) != "author_name,book_count\nNobody,0" {
					t.Fatalf("%d %q", res.Status, res.Body)
				}
				return
			}
			wantJSON(t, res, status, c.want)
			if c.contentRange != "" {
				wantHeader(t, res, "Content-Range", c.contentRange)
			}
		})
	}

	t.Run("HEAD", func(t *testing.T) {
		t.Parallel()
		res := e.do(t, "HEAD", "/rpc/numbers?n=4", map[string]string{"Prefer": "count=exact"}, nil)
		if res.Status != http.StatusOK || len(res.Body) != 0 {
			t.Fatalf("%d %q", res.Status, res.Body)
		}
		wantHeader(t, res, "Content-Range", "0-3/4")
		wantHeader(t, res, "Preference-Applied", "count=exact")
	})
	t.Run("void answers 204", func(t *testing.T) {
		t.Parallel()
		res := e.do(t, "POST", "/rpc/noop", nil, `{}`)
		if res.Status != http.StatusNoContent || len(res.Body) != 0 {
			t.Fatalf("%d %q", res.Status, res.Body)
		}
	})
	t.Run("volatile function by POST writes", func(t *testing.T) {
		t.Parallel()
		wantJSON(t, e.do(t, "POST", "/rpc/bump", nil, nil), http.StatusOK, `1`)
		wantJSON(t, e.do(t, "POST", "/rpc/bump", map[string]string{"Prefer": "tx=rollback"}, nil), http.StatusOK, `2`)
		wantJSON(t, e.do(t, "GET", "/counter", nil, nil), http.StatusOK, `[{"n":1}]`)
	})
	t.Run("unknown function", func(t *testing.T) {
		t.Parallel()
		wantSame(t, e.do(t, "POST", "/rpc/ad", nil, `{"a":1}`), http.StatusNotFound, `{"code":"PGRST202",
			"message":"Could not find the function public.ad(a) in the schema cache",
			"details":"Searched for the function public.ad with parameters a or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.",
			"hint":"Perhaps you meant to call the function public.add"}`)
		wantSame(t, e.do(t, "GET", "/rpc/add", nil, nil), http.StatusNotFound, `{"code":"PGRST202",
			"message":"Could not find the function public.add without parameters in the schema cache",
			"details":"Searched for the function public.add without parameters or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.",
			"hint":null}`)
		wantError(t, e.do(t, "POST", "/rpc/add", nil, `{"a":1,"c":2}`), http.StatusNotFound, "PGRST202", "public.add(a, c)")
	})
	t.Run("bad arguments", func(t *testing.T) {
		t.Parallel()
		wantError(t, e.do(t, "POST", "/rpc/add", nil, `{"a":"x","b":1}`), http.StatusBadRequest, "22P02", "integer")
		wantError(t, e.do(t, "GET", "/rpc/add?a=x&b=1", nil, nil), http.StatusBadRequest, "22P02", "integer")
		wantError(t, e.do(t, "POST", "/rpc/add", nil, `{"a":1,`), http.StatusBadRequest, "PGRST102", "")
		wantError(t, e.do(t, "POST", "/rpc/add", nil, `[1]`), http.StatusBadRequest, "PGRST102", "")
		wantError(t, e.do(t, "GET", "/rpc/books_by?author=1&nope=eq.1", nil, nil), http.StatusBadRequest, "42703", "")
		wantError(t, e.do(t, "GET", "/rpc/add?a=1&b=2&select=x", nil, nil), http.StatusBadRequest, "42703", "")
	})
	t.Run("raise PGRST sets status and body", func(t *testing.T) {
		t.Parallel()
		wantSame(t, e.do(t, "POST", "/rpc/payment_required", nil, nil), http.StatusPaymentRequired,
			`{"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade"}`)
	})
}
