package restapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestCountsRangesAndMedia covers Prefer: count, Content-Range, 206/416,
// HEAD, singular objects, CSV and content negotiation on reads.
func TestCountsRangesAndMedia(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "media", `
create table big (id int primary key, grp int not null);
insert into big select g, g % 10 from generate_series(1, 3000) g;
analyze big;`)

	runReads(t, e, []readCase{
		{name: "exact count partial", path: "/authors?select=id&order=id&limit=2", headers: map[string]string{"Prefer": "count=exact"},
			status: http.StatusPartialContent, body: `[{"id":1},{"id":2}]`,
			want: map[string]string{"Content-Range": "0-1/4", "Preference-Applied": "count=exact"}},
		{name: "exact count complete", path: "/authors?select=id&country=eq.US&order=id", headers: map[string]string{"Prefer": "count=exact"},
			body: `[{"id":1},{"id":3}]`, want: map[string]string{"Content-Range": "0-1/2"}},
		{name: "exact count with range header", path: "/authors?select=id&order=id", headers: map[string]string{"Prefer": "count=exact", "Range": "1-2"},
			status: http.StatusPartialContent, body: `[{"id":2},{"id":3}]`, want: map[string]string{"Content-Range": "1-2/4"}},
		{name: "range and limit intersect", path: "/authors?select=id&order=id&limit=2", headers: map[string]string{"Range": "1-3"},
			body: `[{"id":2}]`, want: map[string]string{"Content-Range": "1-1/*"}},
		{name: "exact count of nothing", path: "/authors?select=id&id=gt.100", headers: map[string]string{"Prefer": "count=exact"},
			body: `[]`, want: map[string]string{"Content-Range": "*/0"}},
		{name: "offset at the end", path: "/authors?select=id&offset=4", headers: map[string]string{"Prefer": "count=exact"},
			status: http.StatusPartialContent, body: `[]`, want: map[string]string{"Content-Range": "*/4"}},
		{name: "count with inner embed", path: "/authors?select=id,books!inner(id)&books.pages=gt.250&order=id&limit=1", headers: map[string]string{"Prefer": "count=exact"},
			status: http.StatusPartialContent, body: `[{"id":1,"books":[{"id":2}]}]`, want: map[string]string{"Content-Range": "0-0/2"}},
		{name: "estimated below max rows is exact", path: "/big?select=id&grp=eq.3&order=id&limit=1", headers: map[string]string{"Prefer": "count=estimated"},
			status: http.StatusPartialContent, body: `[{"id":3}]`, want: map[string]string{"Content-Range": "0-0/300", "Preference-Applied": "count=estimated"}},
		{name: "offset near the end", path: "/big?select=id&order=id&offset=2997", headers: map[string]string{"Prefer": "count=exact"},
			status: http.StatusPartialContent, body: `[{"id":2998},{"id":2999},{"id":3000}]`, want: map[string]string{"Content-Range": "2997-2999/3000"}},
		{name: "singular object", path: "/authors?select=id,name&id=eq.2", headers: map[string]string{"Accept": "application/vnd.pgrst.object+json"},
			body: `{"id":2,"name":"Stanisław Lem"}`, want: map[string]string{"Content-Type": "application/vnd.pgrst.object+json; charset=utf-8"}},
		{name: "array media type is json", path: "/authors?select=id&id=eq.2", headers: map[string]string{"Accept": "application/vnd.pgrst.array+json"},
			body: `[{"id":2}]`},
	})

	t.Run("max_rows caps every response", func(t *testing.T) {
		// Its own project: the setting applies to the whole project.
		t.Parallel()
		p := e.ts.CreateProject(t, "media-cap")
		e.ts.SQL(t, p.Ref, "create table n (id int primary key); insert into n select generate_series(1, 50);")
		if res := e.ts.Admin(t, "PATCH", "/projects/media-cap/settings", map[string]any{"max_rows": 3}); res.Status != http.StatusOK {
			t.Fatalf("settings: %d %s", res.Status, res.Body)
		}
		res := e.ts.Rest(t, p, p.ServiceKey, "GET", "/n?order=id&offset=10", map[string]string{"Prefer": "count=exact"}, nil)
		wantJSON(t, res, http.StatusPartialContent, `[{"id":11},{"id":12},{"id":13}]`)
		wantHeader(t, res, "Content-Range", "10-12/50")
		res = e.ts.Rest(t, p, p.ServiceKey, "GET", "/n?order=id&limit=100", nil, nil)
		wantJSON(t, res, http.StatusOK, `[{"id":1},{"id":2},{"id":3}]`)
	})
	t.Run("planned count uses the planner", func(t *testing.T) {
		t.Parallel()
		res := e.do(t, "GET", "/big?select=id&limit=1", map[string]string{"Prefer": "count=planned"}, nil)
		// The table was analyzed: the estimate of all rows is exact here.
		wantJSON(t, res, http.StatusPartialContent, `[{"id":1}]`)
		wantHeader(t, res, "Content-Range", "0-0/3000")
		res = e.do(t, "GET", "/big?select=id&grp=eq.1&limit=1", map[string]string{"Prefer": "count=planned"}, nil)
		_, total, _ := strings.Cut(res.Header.Get("Content-Range"), "/")
		n, err := strconv.Atoi(total)
		if err != nil || n < 100 || n > 1000 {
			t.Fatalf("planned count of a filter: %q", res.Header.Get("Content-Range"))
		}
	})
	t.Run("estimated above max rows is planned", func(t *testing.T) {
		t.Parallel()
		res := e.do(t, "GET", "/big?select=id&limit=1", map[string]string{"Prefer": "count=estimated"}, nil)
		wantHeader(t, res, "Content-Range", "0-0/3000")
	})
	t.Run("offset past the end is 416", func(t *testing.T) {
		t.Parallel()
		res := e.do(t, "GET", "/authors?select=id&offset=10", map[string]string{"Prefer": "count=exact"}, nil)
		wantSame(t, res, http.StatusRequestedRangeNotSatisfiable, `{"code":"PGRST103","message":"Requested range not satisfiable",
			"details":"An offset of 10 was requested, but there are only 4 rows.","hint":null}`)
		wantHeader(t, res, "Content-Range", "*/4")
	})
	t.Run("bad range header is 416", func(t *testing.T) {
		t.Parallel()
		wantError(t, e.do(t, "GET", "/authors", map[string]string{"Range": "5-2"}, nil), http.StatusRequestedRangeNotSatisfiable, "PGRST103", "")
		wantError(t, e.do(t, "GET", "/authors?limit=-1", nil, nil), http.StatusRequestedRangeNotSatisfiable, "PGRST103", "")
		wantError(t, e.do(t, "GET", "/authors?offset=x", nil, nil), http.StatusRequestedRangeNotSatisfiable, "PGRST103", "")
	})
	t.Run("HEAD has headers and no body", func(t *testing.T) {
		t.Parallel()
		res := e.do(t, "HEAD", "/authors?select=id", map[string]string{"Prefer": "count=exact"}, nil)
		if res.Status != http.StatusOK || len(res.Body) != 0 {
			t.Fatalf("HEAD: %d %q", res.Status, res.Body)
		}
		wantHeader(t, res, "Content-Range", "0-3/4")
	})
	t.Run("singular with no or many rows is 406", func(t *testing.T) {
		t.Parallel()
		obj := map[string]string{"Accept": "application/vnd.pgrst.object+json"}
		wantSame(t, e.do(t, "GET", "/authors?id=eq.99", obj, nil), http.StatusNotAcceptable,
			`{"code":"PGRST116","message":"JSON object requested, multiple (or no) rows returned","details":"The result contains 0 rows","hint":null}`)
		wantSame(t, e.do(t, "GET", "/authors?country=eq.US", obj, nil), http.StatusNotAcceptable,
			`{"code":"PGRST116","message":"JSON object requested, multiple (or no) rows returned","details":"The result contains 2 rows","hint":null}`)
	})
	t.Run("csv", func(t *testing.T) {
		t.Parallel()
		res := e.do(t, "GET", "/books?select=id,title,genres,meta&id=in.(1,3)&order=id", map[string]string{"Accept": "text/csv"}, nil)
		want := "id,title,genres,meta\n" +
			`1,"A Wizard of Earthsea","{fantasy,classic}","{""order"": 1, ""series"": ""Earthsea""}"` + "\n" +
			`3,Solaris,"{scifi,classic}","{""translated"": true}"`
		if res.Status != http.StatusOK || string(res.Body) != want {
			t.Fatalf("csv: %d\n%s\nwant\n%s", res.Status, res.Body, want)
		}
		wantHeader(t, res, "Content-Type", "text/csv; charset=utf-8")
		res = e.do(t, "GET", "/books?id=eq.100", map[string]string{"Accept": "text/csv"}, nil)
		if string(res.Body) != "\n" {
			t.Fatalf("empty csv: %q", res.Body)
		}
	})
	t.Run("unknown media type is 406", func(t *testing.T) {
		t.Parallel()
		wantSame(t, e.do(t, "GET", "/authors", map[string]string{"Accept": "application/xml"}, nil), http.StatusNotAcceptable,
			`{"code":"PGRST107","message":"None of these media types are available: application/xml","details":null,"hint":null}`)
	})
	t.Run("profiles", func(t *testing.T) {
		t.Parallel()
		wantJSON(t, e.do(t, "GET", "/authors?select=id&id=eq.1", map[string]string{"Accept-Profile": "public"}, nil), http.StatusOK, `[{"id":1}]`)
		wantJSON(t, e.do(t, "GET", "/authors?select=id&id=eq.1", map[string]string{"Accept-Profile": e.p.Schema}, nil), http.StatusOK, `[{"id":1}]`)
		wantError(t, e.do(t, "GET", "/authors", map[string]string{"Accept-Profile": "plinth"}, nil), http.StatusNotAcceptable, "PGRST106", "")
		wantError(t, e.do(t, "POST", "/authors", map[string]string{"Content-Profile": "other"}, map[string]any{"name": "x"}), http.StatusNotAcceptable, "PGRST106", "")
	})
	t.Run("reads cannot write", func(t *testing.T) {
		t.Parallel()
		// GET runs read-only, as in PostgREST: a volatile function that
		// writes fails with 25006, answered 405.
		wantError(t, e.do(t, "GET", "/rpc/bump", nil, nil), http.StatusMethodNotAllowed, "25006", "read-only transaction")
	})
}
