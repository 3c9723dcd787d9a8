package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plinth-dev/plinth/internal/testserver"
	"github.com/plinth-dev/plinth/platform/config"
)

// rawHTTP writes req as-is on a new connection and reads one response; it
// lets a test send what net/http refuses to (NUL bytes and invalid UTF-8 in
// the request line and headers, bodies the server refuses mid-upload).
func rawHTTP(t *testing.T, ts *testserver.TS, req string) *testserver.Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to %.80q: %v", req, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &testserver.Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// assertClientError checks a clean refusal: the wanted 4xx (or any 4xx for
// want 0) with a JSON error body that has a code and a message.
func assertClientError(t *testing.T, res *testserver.Response, want int) {
	t.Helper()
	if want != 0 && res.Status != want || res.Status < 400 || res.Status >= 500 {
		t.Fatalf("status %d, want %d (a 4xx): %.300s", res.Status, want, res.Body)
	}
	var e map[string]any
	if err := json.Unmarshal(res.Body, &e); err != nil {
		t.Fatalf("error body is not JSON: %.300q", res.Body)
	}
	if e["code"] == nil || e["message"] == nil {
		t.Fatalf("error body lacks code/message: %.300s", res.Body)
	}
}

// TestHostileRequests sends malformed and abusive requests to every layer:
// each gets a clean 4xx JSON error (never a 500, a hang or a dropped
// connection), nothing it carries runs as SQL, and the server keeps serving.
func TestHostileRequests(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t, func(c *config.Config) { c.ReadTimeout = time.Second })
	p := ts.CreateProject(t, "hostile")
	ts.SQL(t, p.Ref, `create table t (id int primary key, name text, data jsonb);
		insert into t select g, 'n' || g, '{"a":1}' from generate_series(1, 20) g`)
	key := map[string]string{"apikey": p.ServiceKey}
	rest := "/p/" + p.Ref + "/rest/v1"
	auth := "/p/" + p.Ref + "/auth/v1"
	raw := func(method, target, headers, body string) string {
		return method + " " + target + " HTTP/1.1\r\nHost: x\r\napikey: " + p.ServiceKey + "\r\n" + headers +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body
	}
	inList := func(n int) string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = strconv.Itoa(i + 1)
		}
		return strings.Join(ids, ",")
	}
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

	const anyClean = -1 // success, or a clean 4xx
	cases := []struct {
		name string
		send func(t *testing.T) *testserver.Response
		want int // 0: any 4xx
	}{
		// Size limits: answered before the body is read.
		{"declared huge body, data API", func(t *testing.T) *testserver.Response {
			return rawHTTP(t, ts, fmt.Sprintf("POST %s/t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n[", rest, 64<<20))
		}, http.StatusRequestEntityTooLarge},
		{"declared huge body, auth", func(t *testing.T) *testserver.Response {
			return rawHTTP(t, ts, fmt.Sprintf("POST %s/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", auth, 9<<20))
		}, http.StatusRequestEntityTooLarge},
		{"declared huge body, admin", func(t *testing.T) *testserver.Response {
			return rawHTTP(t, ts, fmt.Sprintf("POST /admin/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", 9<<20))
		}, http.StatusRequestEntityTooLarge},
		{"URL past the read buffer", func(t *testing.T) *testserver.Response {
			return ts.Do(t, "GET", rest+"/t?id=in.("+inList(9000)+")", key, nil)
		}, http.StatusRequestHeaderFieldsTooLarge},
		{"header past the read buffer", func(t *testing.T) *testserver.Response {
			return ts.Do(t, "GET", rest+"/t", map[string]string{"apikey": p.ServiceKey, "X-Junk": strings.Repeat("j", 40<<10)}, nil)
		}, http.StatusRequestHeaderFieldsTooLarge},
		{"many headers past the read buffer", func(t *testing.T) *testserver.Response {
			var h strings.Builder
			for i := range 3000 {
				fmt.Fprintf(&h, "X-H%d: v\r\n", i)
			}
			return rawHTTP(t, ts, raw("GET", rest+"/t", h.String(), ""))
		}, http.StatusRequestHeaderFieldsTooLarge},
		{"huge bearer token", func(t *testing.T) *testserver.Response {
			return ts.Do(t, "GET", auth+"/user", map[string]string{"apikey": p.AnonKey, "Authorization": "Bearer " + strings.Repeat("e", 20<<10)}, nil)
		}, http.StatusUnauthorized},

		// Deep nesting: the parsers have depth limits, Postgres' JSON has a stack.
		{"deep JSON body, data API", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "POST", "/t", nil, `{"id":100,"data":`+deep(100000)+`}`)
		}, http.StatusBadRequest},
		{"deep JSON body, auth", func(t *testing.T) *testserver.Response {
			return ts.Do(t, "POST", auth+"/signup", map[string]string{"apikey": p.AnonKey}, `{"email":"d@e.f","password":"secret123","data":{"x":`+deep(100000)+`}}`)
		}, 0},
		{"deep JSON body, admin", func(t *testing.T) *testserver.Response {
			return ts.Admin(t, "PUT", "/projects/"+p.Ref+"/rules", `{"policies":`+deep(100000)+`}`)
		}, http.StatusBadRequest},
		{"deep or= nesting", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t?or="+strings.Repeat("(", 5000)+strings.Repeat(")", 5000), nil, nil)
		}, http.StatusBadRequest},
		{"deep select nesting", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t?select="+strings.Repeat("t(", 3000)+strings.Repeat(")", 3000), nil, nil)
		}, http.StatusBadRequest},

		// Invalid UTF-8 and NUL bytes, escaped and raw, in every place.
		{"NUL in table name", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t%00", nil, nil)
		}, http.StatusNotFound},
		{"invalid UTF-8 in table name", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t%ff%fe", nil, nil)
		}, http.StatusNotFound},
		{"raw NUL in the request line", func(t *testing.T) *testserver.Response {
			return rawHTTP(t, ts, raw("GET", rest+"/t?name=eq.a\x00b", "", ""))
		}, 0},
		{"NUL in a filter value", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t?name=eq.a%00b", nil, nil)
		}, http.StatusBadRequest},
		{"invalid UTF-8 in a filter value", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t?name=eq.%ff%fe", nil, nil)
		}, http.StatusBadRequest},
		{"invalid UTF-8 in a column name", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t?select=%ff", nil, nil)
		}, http.StatusBadRequest},
		{"bad percent escape", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t?name=eq.%zz", nil, nil)
		}, http.StatusBadRequest},
		{"NUL in a JSON body", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "POST", "/t", nil, `{"id":101,"name":"a\u0000b"}`)
		}, http.StatusBadRequest},
		{"raw invalid UTF-8 in a JSON body", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "POST", "/t", nil, []byte("{\"id\":102,\"name\":\"a\xff\xfeb\"}"))
		}, http.StatusBadRequest},
		{"raw NUL in a JSON body", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "POST", "/t", nil, []byte("{\"id\":103,\"name\":\"a\x00b\"}"))
		}, http.StatusBadRequest},
		{"NUL in an auth email", func(t *testing.T) *testserver.Response {
			return ts.Do(t, "POST", auth+"/signup", map[string]string{"apikey": p.AnonKey}, `{"email":"a\u0000@b.c","password":"secret123"}`)
		}, 0},
		{"invalid UTF-8 in an auth password", func(t *testing.T) *testserver.Response {
			return ts.Do(t, "POST", auth+"/signup", map[string]string{"apikey": p.AnonKey}, []byte("{\"email\":\"u8@b.c\",\"password\":\"\xff\xfe\xfd\xfc\xfb\xfa\"}"))
		}, anyClean}, // JSON decoding turns the bytes into U+FFFD: a legal password
		{"invalid UTF-8 in Prefer", func(t *testing.T) *testserver.Response {
			return rawHTTP(t, ts, raw("GET", rest+"/t", "Prefer: count=\xff\xfe\r\n", ""))
		}, anyClean}, // unknown preferences are ignored, as in PostgREST
		{"NUL in Accept-Profile", func(t *testing.T) *testserver.Response {
			return rawHTTP(t, ts, raw("GET", rest+"/t", "Accept-Profile: public\x00x\r\n", ""))
		}, 0},
		{"invalid UTF-8 in apikey", func(t *testing.T) *testserver.Response {
			return rawHTTP(t, ts, "GET "+rest+"/t HTTP/1.1\r\nHost: x\r\napikey: \xff\xfe\x00\r\nConnection: close\r\n\r\n")
		}, http.StatusUnauthorized},
		{"invalid UTF-8 in admin token", func(t *testing.T) *testserver.Response {
			return rawHTTP(t, ts, "GET /admin/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n")
		}, http.StatusUnauthorized},
		{"NUL in an admin SQL body", func(t *testing.T) *testserver.Response {
			return ts.Admin(t, "POST", "/projects/"+p.Ref+"/sql", map[string]string{"query": "select 1\x00; drop table t"})
		}, http.StatusBadRequest},

		// Identifiers with quotes and semicolons: names are checked against
		// the schema and quoted, never spliced.
		{"quote in table name", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/"+url.PathEscape(`t"; drop table t; --`), nil, nil)
		}, http.StatusNotFound},
		{"quote in select", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t?select="+url.QueryEscape(`id,"na""me"`), nil, nil)
		}, http.StatusBadRequest},
		{"semicolon in order", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t?order="+url.QueryEscape("id;drop table t"), nil, nil)
		}, http.StatusBadRequest},
		{"cast with SQL", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t?select="+url.QueryEscape("id::text);drop table t;--"), nil, nil)
		}, http.StatusBadRequest},
		{"quote in a JSON key", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "POST", "/t", nil, `{"id":104,"name\"); drop table t; --":"x"}`)
		}, http.StatusBadRequest},
		{"quote in columns=", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "POST", "/t?columns="+url.QueryEscape(`id,"x""y"`), nil, `{"id":105}`)
		}, http.StatusBadRequest},
		{"quote in on_conflict", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "POST", "/t?on_conflict="+url.QueryEscape(`id") do nothing; drop table t; --`),
				map[string]string{"Prefer": "resolution=merge-duplicates"}, `{"id":106}`)
		}, http.StatusBadRequest},
		{"quote in a function name", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "POST", "/rpc/"+url.PathEscape(`pg_sleep"(10);--`), nil, `{}`)
		}, http.StatusNotFound},
		{"quote in Accept-Profile", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t", map[string]string{"Accept-Profile": `public"; drop table t; --`}, nil)
		}, http.StatusNotAcceptable},
		{"quote in a JSON path", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t?select="+url.QueryEscape(`data->>'a'');drop table t;--`), nil, nil)
		}, 0},
		{"quote in a project ref", func(t *testing.T) *testserver.Response {
			return ts.Do(t, "GET", "/p/"+url.PathEscape(`x'; drop schema p;--`)+"/rest/v1/t", key, nil)
		}, http.StatusNotFound},
		{"quote in an admin table name", func(t *testing.T) *testserver.Response {
			return ts.Admin(t, "GET", "/projects/"+p.Ref+"/tables/"+url.PathEscape(`t"; drop table t;--`), nil)
		}, http.StatusNotFound},
		{"bad range header", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t", map[string]string{"Range": "0-99999999999999999999999"}, nil)
		}, 0},
		{"huge limit", func(t *testing.T) *testserver.Response {
			return ts.Rest(t, p, p.ServiceKey, "GET", "/t?limit=99999999999999999999999", nil, nil)
		}, 0},
		{"wrong JSON types in auth", func(t *testing.T) *testserver.Response {
			return ts.Do(t, "POST", auth+"/token?grant_type=password", map[string]string{"apikey": p.AnonKey}, `{"email":["a"],"password":{"$ne":null}}`)
		}, http.StatusBadRequest},
		{"unknown grant type", func(t *testing.T) *testserver.Response {
			return ts.Do(t, "POST", auth+"/token?grant_type=%00'", map[string]string{"apikey": p.AnonKey}, `{}`)
		}, http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := c.send(t)
			if c.want == anyClean && res.Status < 400 {
				return
			}
			assertClientError(t, res, max(c.want, 0))
		})
	}

	// SQL-ish values are data: they match nothing, and break nothing.
	for _, v := range []string{`'; drop table t; --`, `1 or 1=1`, `1); delete from t; --`, `$1`, `\x27`} {
		res := ts.Rest(t, p, p.ServiceKey, "GET", "/t?name=eq."+url.QueryEscape(v), nil, nil)
		if res.Status != 200 || string(res.Body) != "[]" {
			t.Fatalf("SQL-ish filter value %q: %d %s", v, res.Status, res.Body)
		}
	}
	res := ts.Rest(t, p, p.ServiceKey, "POST", "/t", map[string]string{"Prefer": "return=representation"}, `{"id":200,"name":"'); drop table t; --"}`)
	if res.Status != 201 || !strings.Contains(string(res.Body), `"'); drop table t; --"`) {
		t.Fatalf("SQL-ish value stored as data: %d %s", res.Status, res.Body)
	}

	// A huge but legal in-list (under the URL limit) is just a filter.
	res = ts.Rest(t, p, p.ServiceKey, "GET", "/t?select=id&id=in.("+inList(4000)+")", map[string]string{"Prefer": "count=exact"}, nil)
	if res.Status != 200 || !strings.HasSuffix(res.Header.Get("Content-Range"), "/21") {
		t.Fatalf("big in-list: %d %v %.200s", res.Status, res.Header, res.Body)
	}

	// Slowloris: a client that dribbles its headers is cut off by the read
	// timeout (1s here) instead of holding the connection.
	t.Run("slowloris", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		closed := false
		_, _ = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
		for i := 0; i < 40 && !closed; i++ {
			time.Sleep(200 * time.Millisecond) // the attack is the pace
			if _, err := fmt.Fprintf(conn, "X-Slow-%d: v\r\n", i); err != nil {
				closed = true
				break
			}
			_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
			var one [1]byte
			if _, err := conn.Read(one[:]); err != nil && !isTimeout(err) || err == nil {
				closed = true // EOF/reset, or the server's 408 answer
			}
		}
		if !closed {
			t.Fatalf("slow client still connected after %v", time.Since(start))
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("slow client cut off only after %v", d)
		}
	})

	// Still serving, with the table and its rows intact.
	res = ts.Rest(t, p, p.ServiceKey, "GET", "/t?select=id&id=lte.20", map[string]string{"Prefer": "count=exact"}, nil)
	if res.Status != 200 || res.Header.Get("Content-Range") != "0-19/20" {
		t.Fatalf("after the hostile requests: %d %v %s", res.Status, res.Header, res.Body)
	}
	if rows := ts.SQL(t, p.Ref, "select count(*) as n from t"); fmt.Sprint(rows[0]["n"]) != "21" {
		t.Fatalf("rows changed by hostile requests: %v", rows)
	}
	if strings.Contains(ts.Logs.String(), `"level":"ERROR"`) {
		t.Fatalf("hostile requests logged server errors:\n%s", errorLines(ts.Logs.String()))
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// errorLines picks the ERROR lines of a JSON log.
func errorLines(logs string) string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"level":"ERROR"`) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
