package sqlgen

import (
	"testing"

	"github.com/plinth-dev/plinth/tenants/query"
)

// Parse + SQL build of typical data API requests (no I/O): the cost the
// data API adds in Go before the one round trip to Postgres.
func BenchmarkParseAndBuild(b *testing.B) {
	s := testSchema()
	reads := []struct{ name, table, raw string }{
		{"read/simple", "books", "select=id,title&pages=gt.100&order=id.desc&limit=20"},
		{"read/filters", "books", "select=*&or=(pages.lt.100,and(title.ilike.*dark*,owner.is.null))&id=in.(1,2,3,4,5)&order=title.asc.nullslast&limit=50&offset=100"},
		{"read/embeds", "books", "select=id,title,authors(name,country),tags(name)&authors.country=eq.US&tags.order=name&order=id&limit=10"},
		{"read/nested", "authors", "select=name,books!inner(title,tags(name))&books.pages=gt.200&books.limit=5&order=name"},
	}
	for _, c := range reads {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				q, err := query.ParseQuery(c.raw)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Read(s, c.table, &Request{Query: q, Range: q.RangeFor(nil), MaxRows: 1000}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("read/count-exact-object", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			q, _ := query.ParseQuery("select=id,title&id=eq.1")
			r := &Request{Query: q, Range: q.RangeFor(nil), Media: query.MediaObject, Prefer: query.Preferences{Count: query.CountExact}}
			if _, err := Read(s, "books", r); err != nil {
				b.Fatal(err)
			}
		}
	})
	body := []byte(`{"title":"Dune","author_id":1,"pages":412,"owner":"u1"}`)
	b.Run("insert/representation", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			q, _ := query.ParseQuery("select=id,title")
			r := &Request{Query: q, Range: q.RangeFor(nil), Prefer: query.Preferences{Return: query.ReturnRepresentation}}
			if _, err := Insert(s, "books", r, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	bulk := []byte(`[` + string(body) + `,` + string(body) + `,` + string(body) + `,` + string(body) + `]`)
	b.Run("insert/bulk-4", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			q, _ := query.ParseQuery("")
			if _, err := Insert(s, "books", &Request{Query: q, Range: q.RangeFor(nil), NoBody: true}, bulk); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("update/filter", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			q, _ := query.ParseQuery("id=eq.7&owner=eq.u1")
			if _, err := Update(s, "books", &Request{Query: q, Range: q.RangeFor(nil), NoBody: true}, []byte(`{"title":"x"}`)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rpc/setof", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			q, args, err := query.ParseRPC("author=1&select=id,title&order=id&limit=5", IsArg(s, "books_by"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Call(s, "books_by", &Request{Query: q, Range: q.RangeFor(nil)}, CallInput{Get: true, Args: args}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
