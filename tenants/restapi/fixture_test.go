package restapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/internal/testenv"
	"github.com/plinth-dev/plinth/internal/testserver"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// fixture is the schema every data API test reads: authors and books
// (many-to-one / one-to-many), tags through book_tags (many-to-many),
// author_bios (one-to-one), messages with two keys to people (ambiguous),
// arrays, jsonb, an enum, numeric, dates, a view and functions.
const fixture = `
create type mood as enum ('happy', 'sad', 'meh');
create table authors (id serial primary key, name text not null, country text, born date);
create table books (
  id serial primary key, title text not null, author_id int references authors(id),
  pages int, published date, price numeric(10,2), genres text[] not null default '{}',
  meta jsonb, mood mood
);
create table tags (id serial primary key, name text not null unique);
create table book_tags (book_id int references books(id), tag_id int references tags(id), primary key (book_id, tag_id));
create table author_bios (author_id int primary key references authors(id), bio text);
create table people (id serial primary key, name text);
create table messages (id serial primary key, body text, sender_id int references people(id), receiver_id int references people(id));
create view long_books as select id, title, pages from books where pages > 250;

insert into authors (name, country, born) values
  ('Ursula K. Le Guin', 'US', '1929-10-21'), ('Stanisław Lem', 'PL', '1921-09-12'),
  ('Octavia E. Butler', 'US', '1947-06-22'), ('Nobody', null, null);
insert into books (title, author_id, pages, published, price, genres, meta, mood) values
  ('A Wizard of Earthsea', 1, 183, '1968-11-01', 9.99, '{fantasy,classic}', '{"series": "Earthsea", "order": 1}', 'happy'),
  ('The Left Hand of Darkness', 1, 304, '1969-03-01', 12.50, '{scifi}', '{"awards": ["Hugo", "Nebula"]}', 'sad'),
  ('Solaris', 2, 204, '1961-06-01', 8.00, '{scifi,classic}', '{"translated": true}', 'meh'),
  ('Kindred', 3, 264, '1979-06-01', 10.00, '{scifi}', null, 'sad'),
  ('Untitled', null, null, null, null, '{}', null, null);
insert into tags (name) values ('award-winner'), ('translated'), ('favourite');
insert into book_tags values (2, 1), (3, 2), (1, 3), (2, 3);
insert into author_bios values (1, 'Wrote Earthsea'), (2, 'Polish');
insert into people (name) values ('ann'), ('bob');
insert into messages (body, sender_id, receiver_id) values ('hi', 1, 2), ('yo', 2, 1);

create function add(a int, b int) returns int language sql immutable as $$ select a + b $$;
create function books_by(author int) returns setof books language sql stable as $$ select * from books where author_id = author order by id $$;
create function get_book(book_id int) returns books language sql stable as $$ select * from books where id = book_id $$;
create function author_stats() returns table (author_name text, book_count bigint) language sql stable as
  $$ select a.name, count(b.id) from authors a left join books b on b.author_id = a.id group by a.name order by a.name $$;
create function noop() returns void language sql as $$ select $$;
create function hello(name text) returns text language sql immutable as $$ select 'hello ' || name $$;
create function hello(name text, greeting text) returns text language sql immutable as $$ select greeting || ' ' || name $$;
create function echo(jsonb) returns jsonb language sql immutable as $$ select $1 $$;
create function numbers(n int) returns setof int language sql immutable as $$ select generate_series(1, n) $$;
create function tagged(tags text[]) returns int language sql immutable as $$ select cardinality(tags) $$;
create function with_default(x int default 5) returns int language sql immutable as $$ select x * 2 $$;
create function payment_required() returns int language plpgsql as $$
begin
  raise sqlstate 'PGRST' using message = '{"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade"}',
    detail = '{"status":402}';
end $$;
create type pair as (a int, b text);
create function make_pair(b text) returns pair language sql immutable as $$ select (1, b)::pair $$;
create table counter (n int not null);
insert into counter values (0);
create function bump() returns int language sql volatile as $$ update counter set n = n + 1 returning n $$;
`

// env is a running server with a project holding the fixture.
type env struct {
	ts *testserver.TS
	p  *testserver.Project
}

func newEnv(t *testing.T, ref string, extraSQL string) *env {
	t.Helper()
	ts := testserver.Start(t)
	p := ts.CreateProject(t, ref)
	ts.SQL(t, ref, fixture+extraSQL)
	return &env{ts: ts, p: p}
}

// do calls the data API with the service key (which no rule restricts).
func (e *env) do(t *testing.T, method, path string, headers map[string]string, body any) *testserver.Response {
	t.Helper()
	return e.ts.Rest(t, e.p, e.p.ServiceKey, method, path, headers, body)
}

// compact normalises JSON text (keeping key order) for comparisons.
func compact(t *testing.T, s []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, s); err != nil {
		t.Fatalf("not JSON: %v: %s", err, s)
	}
	return b.String()
}

// wantJSON checks status and the body as JSON (key order included).
func wantJSON(t *testing.T, res *testserver.Response, status int, body string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
	}
	if got, want := compact(t, res.Body), compact(t, []byte(body)); got != want {
		t.Fatalf("body\n got %s\nwant %s", short(got), want)
	}
}

// short keeps failure output readable.
func short(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

// wantSame checks status and that the body is the same JSON value as body
// (object key order aside: error bodies).
func wantSame(t *testing.T, res *testserver.Response, status int, body string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
	}
	var got, want any
	if err := json.Unmarshal(res.Body, &got); err != nil {
		t.Fatalf("not JSON: %s", res.Body)
	}
	if err := json.Unmarshal([]byte(body), &want); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("body\n got %s\nwant %s", compact(t, res.Body), compact(t, []byte(body)))
	}
}

// wantError checks an error answer: status, PostgREST's four keys, the code
// and (when given) a fragment of the message.
func wantError(t *testing.T, res *testserver.Response, status int, code, msgPart string) map[string]any {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
	}
	var e map[string]any
	if err := json.Unmarshal(res.Body, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", res.Body)
	}
	for _, k := range []string{"code", "message", "details", "hint"} {
		if _, ok := e[k]; !ok {
			t.Fatalf("error body lacks %q: %s", k, res.Body)
		}
	}
	if e["code"] != code {
		t.Fatalf("code %v, want %s: %s", e["code"], code, res.Body)
	}
	if msg, _ := e["message"].(string); !strings.Contains(msg, msgPart) {
		t.Fatalf("message %q does not contain %q", msg, msgPart)
	}
	return e
}

func wantHeader(t *testing.T, res *testserver.Response, name, want string) {
	t.Helper()
	if got := res.Header.Get(name); got != want {
		t.Fatalf("%s = %q, want %q (status %d, body %s)", name, got, want, res.Status, res.Body)
	}
}
