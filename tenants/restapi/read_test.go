package restapi_test

import (
	"net/http"
	"testing"
)

// readCase is one GET with its exact expected answer.
type readCase struct {
	name    string
	path    string
	headers map[string]string
	status  int
	body    string            // JSON, compared with key order
	want    map[string]string // response headers
}

func runReads(t *testing.T, e *env, cases []readCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := e.do(t, "GET", c.path, c.headers, nil)
			status := c.status
			if status == 0 {
				status = http.StatusOK
			}
			wantJSON(t, res, status, c.body)
			for k, v := range c.want {
				wantHeader(t, res, k, v)
			}
		})
	}
}

func TestReads(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "reads", "")
	runReads(t, e, []readCase{
		{name: "columns and order", path: "/authors?select=id,name&order=id",
			body: `[{"id":1,"name":"Ursula K. Le Guin"},{"id":2,"name":"Stanisław Lem"},{"id":3,"name":"Octavia E. Butler"},{"id":4,"name":"Nobody"}]`,
			want: map[string]string{"Content-Range": "0-3/*", "Content-Type": "application/json; charset=utf-8"}},
		{name: "star renders types like PostgREST", path: "/books?id=eq.1",
			body: `[{"id":1,"title":"A Wizard of Earthsea","author_id":1,"pages":183,"published":"1968-11-01","price":9.99,"genres":["fantasy","classic"],"meta":{"order": 1, "series": "Earthsea"},"mood":"happy"}]`},
		{name: "alias and cast", path: "/books?select=t:title,p:price::text&id=eq.3",
			body: `[{"t":"Solaris","p":"8.00"}]`},
		{name: "json paths", path: "/books?select=id,meta->>series,first:meta->awards->0&id=in.(1,2)&order=id",
			body: `[{"id":1,"series":"Earthsea","first":null},{"id":2,"series":null,"first":"Hugo"}]`},
		{name: "json path filter", path: "/books?select=id&meta->>series=eq.Earthsea", body: `[{"id":1}]`},
		{name: "empty select gives empty objects", path: "/authors?select=&id=lt.3&order=id", body: `[{},{}]`},
		{name: "limit and offset", path: "/authors?select=id&order=id&limit=2&offset=1", body: `[{"id":2},{"id":3}]`,
			want: map[string]string{"Content-Range": "1-2/*"}},
		{name: "range header", path: "/authors?select=id&order=id", headers: map[string]string{"Range": "0-1"},
			body: `[{"id":1},{"id":2}]`, want: map[string]string{"Content-Range": "0-1/*"}},
		{name: "order desc nulls last", path: "/books?select=id&order=pages.desc.nullslast", body: `[{"id":2},{"id":4},{"id":3},{"id":1},{"id":5}]`},
		{name: "order nulls first then id", path: "/books?select=id&order=author_id.nullsfirst,id.desc", body: `[{"id":5},{"id":2},{"id":1},{"id":3},{"id":4}]`},

		// Operators.
		{name: "neq", path: "/authors?select=id&country=neq.US", body: `[{"id":2}]`},
		{name: "gt lte", path: "/books?select=id&pages=gt.200&pages=lte.264&order=id", body: `[{"id":3},{"id":4}]`},
		{name: "like with star", path: "/books?select=id&title=like.*Dark*", body: `[{"id":2}]`},
		{name: "ilike", path: "/books?select=id&title=ilike.*SOLARIS", body: `[{"id":3}]`},
		{name: "match and imatch", path: "/books?select=id&title=match.^K&order=id", body: `[{"id":4}]`},
		{name: "imatch", path: "/books?select=id&title=imatch.^k", body: `[{"id":4}]`},
		{name: "in with quotes", path: `/authors?select=id&name=in.("Nobody","Stanisław Lem")&order=id`, body: `[{"id":2},{"id":4}]`},
		{name: "empty in", path: "/authors?select=id&id=in.()", body: `[]`, want: map[string]string{"Content-Range": "*/*"}},
		{name: "is null", path: "/books?select=id&author_id=is.null", body: `[{"id":5}]`},
		{name: "not is null", path: "/books?select=id&author_id=not.is.null&order=id", body: `[{"id":1},{"id":2},{"id":3},{"id":4}]`},
		{name: "isdistinct", path: "/authors?select=id&country=isdistinct.US&order=id", body: `[{"id":2},{"id":4}]`},
		{name: "not eq", path: "/authors?select=id&id=not.eq.1&country=eq.US", body: `[{"id":3}]`},
		{name: "array contains", path: "/books?select=id&genres=cs.{classic}&order=id", body: `[{"id":1},{"id":3}]`},
		{name: "array contained", path: "/books?select=id&genres=cd.{scifi,classic}&order=id", body: `[{"id":2},{"id":3},{"id":4},{"id":5}]`},
		{name: "array overlap", path: "/books?select=id&genres=ov.{fantasy,nope}", body: `[{"id":1}]`},
		{name: "jsonb contains", path: `/books?select=id&meta=cs.{"translated":true}`, body: `[{"id":3}]`},
		{name: "enum", path: "/books?select=id&mood=eq.sad&order=id", body: `[{"id":2},{"id":4}]`},
		{name: "eq any", path: "/books?select=id&id=eq(any).{1,3}&order=id", body: `[{"id":1},{"id":3}]`},
		{name: "like all", path: "/books?select=id&title=like(all).{*a*,*e*}&order=id", body: `[{"id":1},{"id":2}]`},
		{name: "like any", path: "/books?select=id&title=ilike(any).{sol*,kin*}&order=id", body: `[{"id":3},{"id":4}]`},
		{name: "fts", path: "/books?select=id&title=fts.wizard", body: `[{"id":1}]`},
		{name: "plfts with language", path: "/books?select=id&title=plfts(english).left%20hand", body: `[{"id":2}]`},
		{name: "phfts", path: "/books?select=id&title=phfts(english).left%20hand", body: `[{"id":2}]`},
		{name: "wfts", path: "/books?select=id&title=wfts(english).%22left%20hand%22%20-wizard", body: `[{"id":2}]`},
		{name: "is true", path: "/books?select=id&meta->translated=eq.true", body: `[{"id":3}]`},
		{name: "date compare", path: "/authors?select=id&born=lt.1930-01-01&order=id", body: `[{"id":1},{"id":2}]`},

		// Logic trees.
		{name: "or", path: "/books?select=id&or=(pages.lt.190,pages.gt.300)&order=id", body: `[{"id":1},{"id":2}]`},
		{name: "nested and in or", path: "/books?select=id&or=(id.eq.5,and(pages.gt.200,mood.eq.sad))&order=id", body: `[{"id":2},{"id":4},{"id":5}]`},
		{name: "not or", path: "/books?select=id&not.or=(author_id.eq.1,author_id.is.null)&order=id", body: `[{"id":3},{"id":4}]`},
		{name: "and with not inside", path: "/books?select=id&and=(pages.gte.200,mood.not.eq.sad)", body: `[{"id":3}]`},
		{name: "or with quoted value", path: `/authors?select=id&or=(name.eq."Le Guin, Ursula",name.eq.Nobody)`, body: `[{"id":4}]`},
		{name: "or with in", path: `/authors?select=id&or=(id.in.(1,2),country.is.null)&order=id`, body: `[{"id":1},{"id":2},{"id":4}]`},

		// Views.
		{name: "view", path: "/long_books?select=title&order=id", body: `[{"title":"The Left Hand of Darkness"},{"title":"Kindred"}]`},
	})
}

func TestEmbeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "embeds", "")
	runReads(t, e, []readCase{
		{name: "many-to-one", path: "/books?select=title,authors(name)&id=in.(1,5)&order=id",
			body: `[{"title":"A Wizard of Earthsea","authors":{"name":"Ursula K. Le Guin"}},{"title":"Untitled","authors":null}]`},
		{name: "many-to-one by fk column with alias", path: "/books?select=title,writer:author_id(name,country)&id=eq.3",
			body: `[{"title":"Solaris","writer":{"name":"Stanisław Lem","country":"PL"}}]`},
		{name: "many-to-one by constraint name", path: "/books?select=id,books_author_id_fkey(id)&id=eq.4",
			body: `[{"id":4,"books_author_id_fkey":{"id":3}}]`},
		{name: "one-to-many", path: "/authors?select=name,books(title)&id=in.(2,4)&order=id",
			body: `[{"name":"Stanisław Lem","books":[{"title":"Solaris"}]},{"name":"Nobody","books":[]}]`},
		{name: "one-to-many with order and limit", path: "/authors?select=id,books(id)&id=eq.1&books.order=id.desc&books.limit=1",
			body: `[{"id":1,"books":[{"id":2}]}]`},
		{name: "embed filter keeps parent", path: "/authors?select=id,books(id)&books.pages=gt.200&id=in.(1,4)&order=id",
			body: `[{"id":1,"books":[{"id":2}]},{"id":4,"books":[]}]`},
		{name: "inner join filters parent", path: "/authors?select=id,books!inner(id)&books.pages=gt.200&order=id",
			body: `[{"id":1,"books":[{"id":2}]},{"id":2,"books":[{"id":3}]},{"id":3,"books":[{"id":4}]}]`},
		{name: "to-one filter with inner", path: "/books?select=id,authors!inner(name)&authors.country=eq.PL",
			body: `[{"id":3,"authors":{"name":"Stanisław Lem"}}]`},
		{name: "to-one filter without inner nulls the embed", path: "/books?select=id,authors(name)&authors.country=eq.PL&id=in.(1,3)&order=id",
			body: `[{"id":1,"authors":null},{"id":3,"authors":{"name":"Stanisław Lem"}}]`},
		{name: "explicit left", path: "/authors?select=id,books!left(id)&id=eq.4", body: `[{"id":4,"books":[]}]`},
		{name: "many-to-many", path: "/books?select=id,tags(name)&id=in.(2,4)&order=id&tags.order=name",
			body: `[{"id":2,"tags":[{"name":"award-winner"},{"name":"favourite"}]},{"id":4,"tags":[]}]`},
		{name: "many-to-many reverse with hint", path: "/tags?select=name,books!book_tags(id)&id=eq.3&books.order=id",
			body: `[{"name":"favourite","books":[{"id":1},{"id":2}]}]`},
		{name: "one-to-one", path: "/authors?select=id,author_bios(bio)&id=in.(1,3)&order=id",
			body: `[{"id":1,"author_bios":{"bio":"Wrote Earthsea"}},{"id":3,"author_bios":null}]`},
		{name: "nested embeds", path: "/authors?select=name,books(title,tags(name))&id=eq.2",
			body: `[{"name":"Stanisław Lem","books":[{"title":"Solaris","tags":[{"name":"translated"}]}]}]`},
		{name: "star plus embed", path: "/author_bios?select=*,authors(id)&author_id=eq.2",
			body: `[{"author_id":2,"bio":"Polish","authors":{"id":2}}]`},
		{name: "spread", path: "/books?select=title,...authors(author:name,country)&id=eq.4",
			body: `[{"title":"Kindred","author":"Octavia E. Butler","country":"US"}]`},
		{name: "spread without match gives nulls", path: "/books?select=id,...authors(name)&id=eq.5",
			body: `[{"id":5,"name":null}]`},
		{name: "order by to-one embed", path: "/books?select=id,authors(name)&author_id=not.is.null&order=authors(name).desc,id",
			body: `[{"id":1,"authors":{"name":"Ursula K. Le Guin"}},{"id":2,"authors":{"name":"Ursula K. Le Guin"}},{"id":3,"authors":{"name":"Stanisław Lem"}},{"id":4,"authors":{"name":"Octavia E. Butler"}}]`},
		{name: "null filter on embed", path: "/authors?select=id,books()&books=is.null", body: `[{"id":4}]`},
		{name: "not null filter on embed", path: "/authors?select=id,books(id)&books.id=eq.3&books=not.is.null", body: `[{"id":2,"books":[{"id":3}]}]`},
		{name: "hint by fk on ambiguous", path: "/messages?select=body,sender:people!messages_sender_id_fkey(name),receiver:people!receiver_id(name)&order=id",
			body: `[{"body":"hi","sender":{"name":"ann"},"receiver":{"name":"bob"}},{"body":"yo","sender":{"name":"bob"},"receiver":{"name":"ann"}}]`},
		{name: "logic tree on an embed", path: "/authors?select=id,books(id)&id=eq.1&books.or=(id.eq.2,pages.lt.100)",
			body: `[{"id":1,"books":[{"id":2}]}]`},
		{name: "offset on an embed", path: "/authors?select=id,books(id)&id=eq.1&books.order=id&books.offset=1", body: `[{"id":1,"books":[{"id":2}]}]`},
		{name: "same table embedded twice", path: "/books?select=id,a:authors(name),b:authors(country)&id=eq.3",
			body: `[{"id":3,"a":{"name":"Stanisław Lem"},"b":{"country":"PL"}}]`},
		{name: "embed on a view row", path: "/long_books?select=title&id=eq.4", body: `[{"title":"Kindred"}]`},
	})

	t.Run("ambiguous relationship", func(t *testing.T) {
		t.Parallel()
		res := e.do(t, "GET", "/messages?select=*,people(*)", nil, nil)
		wantSame(t, res, http.StatusMultipleChoices, `{"code":"PGRST201",
			"details":[
			  {"cardinality":"many-to-one","embedding":"messages with people","relationship":"messages_receiver_id_fkey using messages(receiver_id) and people(id)"},
			  {"cardinality":"many-to-one","embedding":"messages with people","relationship":"messages_sender_id_fkey using messages(sender_id) and people(id)"}],
			"hint":"Try changing 'people' to one of the following: 'people!messages_receiver_id_fkey', 'people!messages_sender_id_fkey'. Find the desired relationship in the 'details' key.",
			"message":"Could not embed because more than one relationship was found for 'messages' and 'people'"}`)
	})
	t.Run("no relationship", func(t *testing.T) {
		t.Parallel()
		res := e.do(t, "GET", "/authors?select=*,people(*)", nil, nil)
		wantSame(t, res, http.StatusBadRequest, `{"code":"PGRST200",
			"details":"Searched for a foreign key relationship between 'authors' and 'people' in the schema 'public', but no matches were found.",
			"hint":null,"message":"Could not find a relationship between 'authors' and 'people' in the schema cache"}`)
		res = e.do(t, "GET", "/authors?select=*,books!nope(*)", nil, nil)
		wantError(t, res, http.StatusBadRequest, "PGRST200", "'authors' and 'books'")
	})
	t.Run("filter on a resource not embedded", func(t *testing.T) {
		t.Parallel()
		res := e.do(t, "GET", "/authors?select=id&books.id=eq.1", nil, nil)
		wantSame(t, res, http.StatusBadRequest, `{"code":"PGRST108","details":null,
			"hint":"Verify that 'books' is included in the 'select' query parameter.",
			"message":"'books' is not an embedded resource in this request"}`)
	})
	t.Run("order by to-many embed", func(t *testing.T) {
		t.Parallel()
		wantError(t, e.do(t, "GET", "/authors?select=id,books(id)&order=books(id)", nil, nil), http.StatusBadRequest, "PGRST118", "related order on 'books'")
	})
	t.Run("spread of to-many", func(t *testing.T) {
		t.Parallel()
		wantError(t, e.do(t, "GET", "/authors?select=id,...books(id)", nil, nil), http.StatusBadRequest, "PGRST119", "spread operation on 'books'")
	})
}
