package sqlgen

import (
	"github.com/plinth-dev/plinth/tenants/query"
	"github.com/plinth-dev/plinth/tenants/schema"
)

// testSchema is a schema literal shaped like the data API fixture: authors
// and books (many-to-one / one-to-many), tags through book_tags
// (many-to-many), author_bios (one-to-one), messages with two keys to
// people (ambiguous), and functions.
func testSchema() *schema.Schema {
	s := &schema.Schema{Name: "p_demo", Tables: map[string]*schema.Table{}, Functions: map[string][]*schema.Function{}}
	table := func(name string, pk []string, cols ...string) *schema.Table {
		t := &schema.Table{Name: name, Kind: "table", Insertable: true, PrimaryKey: pk, ColumnIndex: map[string]*schema.Column{}}
		for i, c := range cols {
			col := &schema.Column{Name: c, Position: i + 1, Type: "text", Nullable: true}
			t.Columns = append(t.Columns, col)
			t.ColumnIndex[c] = col
		}
		s.Tables[name] = t
		return t
	}
	fk := func(t *schema.Table, name string, cols []string, ref string, refCols []string) {
		t.ForeignKeys = append(t.ForeignKeys, &schema.ForeignKey{Name: name, Table: t.Name, Columns: cols, RefTable: ref, RefColumns: refCols})
	}
	authors := table("authors", []string{"id"}, "id", "name", "country", "meta")
	authors.ColumnIndex["id"].Default = "nextval('authors_id_seq'::regclass)"
	books := table("books", []string{"id"}, "id", "title", "author_id", "pages", "owner")
	fk(books, "books_author_id_fkey", []string{"author_id"}, "authors", []string{"id"})
	table("tags", []string{"id"}, "id", "name")
	bt := table("book_tags", []string{"book_id", "tag_id"}, "book_id", "tag_id")
	fk(bt, "book_tags_book_id_fkey", []string{"book_id"}, "books", []string{"id"})
	fk(bt, "book_tags_tag_id_fkey", []string{"tag_id"}, "tags", []string{"id"})
	bios := table("author_bios", []string{"author_id"}, "author_id", "bio")
	fk(bios, "author_bios_author_id_fkey", []string{"author_id"}, "authors", []string{"id"})
	table("people", []string{"id"}, "id", "name")
	msgs := table("messages", []string{"id"}, "id", "body", "sender_id", "receiver_id")
	fk(msgs, "messages_sender_id_fkey", []string{"sender_id"}, "people", []string{"id"})
	fk(msgs, "messages_receiver_id_fkey", []string{"receiver_id"}, "people", []string{"id"})
	table("nokey", nil, "a", "b")

	s.Functions["add"] = []*schema.Function{{Name: "add", Args: []schema.Arg{{Name: "a", Type: "integer"}, {Name: "b", Type: "integer"}}, ReturnType: "integer", Volatile: "i"}}
	s.Functions["hello"] = []*schema.Function{
		{Name: "hello", Args: []schema.Arg{{Name: "name", Type: "text"}}, ReturnType: "text", Volatile: "i"},
		{Name: "hello", Args: []schema.Arg{{Name: "name", Type: "text"}, {Name: "greeting", Type: "text"}}, ReturnType: "text", Volatile: "i"},
	}
	s.Functions["books_by"] = []*schema.Function{{Name: "books_by", Args: []schema.Arg{{Name: "author", Type: "integer"}}, ReturnType: "p_demo.books", ReturnsSet: true, ReturnTable: "books", Volatile: "s"}}
	s.Functions["stats"] = []*schema.Function{{Name: "stats", ReturnType: "record", ReturnsSet: true, Volatile: "s",
		Columns: []schema.Arg{{Name: "author_name", Type: "text"}, {Name: "n", Type: "bigint"}}}}
	s.Functions["noop"] = []*schema.Function{{Name: "noop", ReturnType: "void", Volatile: "v"}}
	s.Functions["echo"] = []*schema.Function{{Name: "echo", Args: []schema.Arg{{Type: "jsonb"}}, ReturnType: "jsonb", Volatile: "i"}}
	s.Functions["ambiguous"] = []*schema.Function{
		{Name: "ambiguous", Args: []schema.Arg{{Name: "x", Type: "integer", HasDefault: true}}, ReturnType: "integer", Volatile: "i"},
		{Name: "ambiguous", Args: []schema.Arg{{Name: "y", Type: "integer", HasDefault: true}}, ReturnType: "integer", Volatile: "i"},
	}
	return s
}

// mustQuery parses a query string for tests.
func mustQuery(raw string) *query.Query {
	q, err := query.ParseQuery(raw)
	if err != nil {
		panic(err)
	}
	return q
}

// req builds a Request over raw with the whole-result range.
func req(raw string) *Request {
	q := mustQuery(raw)
	return &Request{Query: q, Range: q.RangeFor(nil)}
}
