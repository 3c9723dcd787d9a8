package typegen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/tenants/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func col(name string, pos int, typ, typName, cat string, nullable bool, def string) *schema.Column {
	return &schema.Column{Name: name, Position: pos, Type: typ, TypeName: typName, Category: cat, Nullable: nullable, Default: def}
}

// testSchema covers the common Postgres types, enums (and arrays of them),
// identity, defaulted, generated and nullable columns, one-to-many and
// one-to-one foreign keys, a view, a read-only view, and functions of each
// return shape.
func testSchema() *schema.Schema {
	mood := []string{"happy", "sad", "in progress"}
	authors := &schema.Table{Name: "authors", Kind: "table", Insertable: true, PrimaryKey: []string{"id"}, Columns: []*schema.Column{
		{Name: "id", Position: 1, Type: "bigint", TypeName: "int8", Category: "N", Identity: true, IsPK: true},
		col("name", 2, "text", "text", "S", false, ""),
		col("email", 3, "citext", "citext", "S", true, ""),
		col("created_at", 4, "timestamp with time zone", "timestamptz", "D", false, "now()"),
	}}
	books := &schema.Table{Name: "books", Kind: "table", Insertable: true, PrimaryKey: []string{"id"}, Columns: []*schema.Column{
		col("id", 1, "uuid", "uuid", "U", false, "gen_random_uuid()"),
		col("author_id", 2, "bigint", "int8", "N", false, ""),
		col("title", 3, "character varying(200)", "varchar", "S", false, ""),
		col("price", 4, "numeric(10,2)", "numeric", "N", true, ""),
		col("published", 5, "date", "date", "D", true, ""),
		col("tags", 6, "text[]", "_text", "A", false, "'{}'::text[]"),
		col("meta", 7, "jsonb", "jsonb", "U", true, ""),
		{Name: "mood", Position: 8, Type: "p_demo.mood", TypeName: "mood", Category: "E", EnumVals: mood, Nullable: true},
		{Name: "moods", Position: 9, Type: "p_demo.mood[]", TypeName: "_mood", Category: "A", EnumVals: mood, Nullable: true},
		col("rating", 10, "double precision", "float8", "N", true, ""),
		col("pages", 11, "integer", "int4", "N", false, "0"),
		col("small", 12, "smallint", "int2", "N", true, ""),
		col("ratio", 13, "real", "float4", "N", true, ""),
		col("cover", 14, "bytea", "bytea", "U", true, ""),
		col("active", 15, "boolean", "bool", "B", false, "true"),
		{Name: "slug", Position: 16, Type: "text", TypeName: "text", Category: "S", Nullable: true, Default: "lower((title)::text)", Generated: true},
		col("local_at", 17, "timestamp without time zone", "timestamp", "D", true, ""),
		col("span", 18, "interval", "interval", "T", true, ""),
		col("ip", 19, "inet", "inet", "I", true, ""),
		col("during", 20, "tstzrange", "tstzrange", "R", true, ""),
		col("scores", 21, "integer[]", "_int4", "A", true, ""),
		col("doc", 22, "json", "json", "U", true, ""),
		col("weird col", 23, "text", "text", "S", true, ""),
		col("at", 24, "time without time zone", "time", "D", true, ""),
		col("geo", 25, "point", "point", "G", true, ""),
		col("raw", 26, "xid", "xid", "U", true, ""),
	}, ForeignKeys: []*schema.ForeignKey{{Name: "books_author_id_fkey", Table: "books", Columns: []string{"author_id"}, RefTable: "authors", RefColumns: []string{"id"}}}}
	profiles := &schema.Table{Name: "profiles", Kind: "table", Insertable: true, PrimaryKey: []string{"author_id"}, Columns: []*schema.Column{
		{Name: "author_id", Position: 1, Type: "bigint", TypeName: "int8", Category: "N", IsPK: true},
		col("bio", 2, "text", "text", "S", true, ""),
	}, ForeignKeys: []*schema.ForeignKey{
		{Name: "profiles_author_id_fkey", Table: "profiles", Columns: []string{"author_id"}, RefTable: "authors", RefColumns: []string{"id"}},
		{Name: "profiles_outside_fkey", Table: "profiles", Columns: []string{"bio"}, RefTable: "elsewhere", RefColumns: []string{"x"}},
	}}
	reviews := &schema.Table{Name: "reviews", Kind: "table", Insertable: true, PrimaryKey: []string{"id"}, Columns: []*schema.Column{
		col("id", 1, "bigint", "int8", "N", false, "nextval('reviews_id_seq'::regclass)"),
		col("book_id", 2, "uuid", "uuid", "U", false, ""),
	}, ForeignKeys: []*schema.ForeignKey{{Name: "reviews_book_id_fkey", Table: "reviews", Columns: []string{"book_id"}, RefTable: "books", RefColumns: []string{"id"}}},
		Indexes: []*schema.Index{{Name: "reviews_book_id_key", Columns: []string{"book_id"}, Unique: true, Definition: "CREATE UNIQUE INDEX reviews_book_id_key ON p_demo.reviews USING btree (book_id)"}}}
	bookView := &schema.Table{Name: "book_titles", Kind: "view", Insertable: true, Columns: []*schema.Column{
		col("id", 1, "uuid", "uuid", "U", true, ""),
		col("title", 2, "character varying(200)", "varchar", "S", true, ""),
	}}
	stats := &schema.Table{Name: "author_stats", Kind: "materialized_view", Columns: []*schema.Column{
		col("author_id", 1, "bigint", "int8", "N", true, ""),
		col("books", 2, "bigint", "int8", "N", true, ""),
	}}
	fns := map[string][]*schema.Function{
		"add":      {{Name: "add", Args: []schema.Arg{{Name: "a", Type: "integer"}, {Name: "b", Type: "integer", HasDefault: true}}, ReturnType: "integer", Volatile: "i"}},
		"books_by": {{Name: "books_by", Args: []schema.Arg{{Name: "author", Type: "bigint"}}, ReturnType: "p_demo.books", ReturnsSet: true, Volatile: "s"}},
		"ping":     {{Name: "ping", ReturnType: "void", Volatile: "v"}},
		"touch":    {{Name: "touch", ReturnType: "trigger", Volatile: "v"}},
		"echo": {
			{Name: "echo", Args: []schema.Arg{{Name: "t", Type: "text"}}, ReturnType: "text", Volatile: "i"},
			{Name: "echo", Args: []schema.Arg{{Name: "n", Type: "numeric"}}, ReturnType: "text", Volatile: "i"},
		},
		"moods_of": {{Name: "moods_of", Args: []schema.Arg{{Name: "m", Type: "p_demo.mood[]"}, {Name: "at", Type: "timestamp(3) with time zone", HasDefault: true}}, ReturnType: "p_demo.mood[]", Volatile: "s"}},
		"raw_json": {{Name: "raw_json", Args: []schema.Arg{{Type: "jsonb"}}, ReturnType: "jsonb", Volatile: "v"}},
		"bad_args": {{Name: "bad_args", Args: []schema.Arg{{Type: "integer"}, {Type: "integer"}}, ReturnType: "integer", Volatile: "v"}},
		"stats":    {{Name: "stats", ReturnType: "record", ReturnsSet: true, Volatile: "s"}},
	}
	s := &schema.Schema{Name: "p_demo", Tables: map[string]*schema.Table{}, Functions: fns}
	for _, t := range []*schema.Table{authors, books, profiles, reviews, bookView, stats} {
		t.ColumnIndex = map[string]*schema.Column{}
		for _, c := range t.Columns {
			t.ColumnIndex[c.Name] = c
		}
		s.Tables[t.Name] = t
	}
	return s
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tenants/typegen -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update after checking the diff):\n%s", name, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + w + "\n  got: " + g
		}
	}
	return ""
}

func TestTypeScriptGolden(t *testing.T) {
	t.Parallel()
	a := TypeScript(testSchema())
	b := TypeScript(testSchema())
	if !bytes.Equal(a, b) {
		t.Fatal("two runs over the same schema differ")
	}
	golden(t, "database.ts.golden", a)
}

func TestGoGolden(t *testing.T) {
	t.Parallel()
	a, err := Go(testSchema(), GoOptions{Package: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Go(testSchema(), GoOptions{Package: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two runs over the same schema differ")
	}
	golden(t, "demo.go.golden", a)
}

// TestTypeScriptShape checks the Supabase conventions one by one, so a
// golden update cannot silently drop them.
func TestTypeScriptShape(t *testing.T) {
	t.Parallel()
	ts := string(TypeScript(testSchema()))
	for _, want := range []string{
		"export type Database = {",
		`PostgrestVersion: "12"`,
		"  public: {\n    Tables: {",
		// identity: optional on insert; required text stays required
		"        Insert: {\n          created_at?: string\n          email?: string | null\n          id?: number\n          name: string\n        }",
		// generated column cannot be written
		"          slug?: never",
		// enums and enum arrays reference the Enums section
		`mood: Database["public"]["Enums"]["mood"] | null`,
		`moods: Database["public"]["Enums"]["mood"][] | null`,
		`mood: "happy" | "sad" | "in progress"`,
		// quoted keys for non-identifiers
		`"weird col": string | null`,
		// relationships, with one-to-one from a PK and from a unique index
		"foreignKeyName: \"books_author_id_fkey\"\n            columns: [\"author_id\"]\n            isOneToOne: false",
		"foreignKeyName: \"profiles_author_id_fkey\"\n            columns: [\"author_id\"]\n            isOneToOne: true",
		"foreignKeyName: \"reviews_book_id_fkey\"\n            columns: [\"book_id\"]\n            isOneToOne: true",
		// functions: defaults optional, no-arg never, setof row spelled out, overloads as a union
		"Args: { a: number; b?: number }\n        Returns: number",
		"Args: never\n        Returns: undefined",
		"Args: { n: number } | { t: string }",
		`Args: { m: Database["public"]["Enums"]["mood"][]; at?: string }`,
		"Returns: Record<string, unknown>[]",
		`Args: { "": Json }`,
		// helper types and constants
		"export type Tables<", "export type TablesInsert<", "export type TablesUpdate<", "export type Enums<", "export type CompositeTypes<",
		`mood: ["happy", "sad", "in progress"],`,
	} {
		if !strings.Contains(ts, want) {
			t.Errorf("TypeScript output lacks %q", want)
		}
	}
	// The read-only materialized view has no Insert/Update; the updatable view has.
	mv := ts[strings.Index(ts, "author_stats: {"):]
	mv = mv[:strings.Index(mv, "Relationships")]
	if strings.Contains(mv, "Insert") {
		t.Error("materialized view got an Insert type")
	}
	bv := ts[strings.Index(ts, "book_titles: {"):]
	bv = bv[:strings.Index(bv, "Relationships")]
	if !strings.Contains(bv, "Insert: {\n          id?: string | null") {
		t.Errorf("updatable view lacks Insert: %s", bv)
	}
	for _, never := range []string{"touch:", "bad_args:", "elsewhere"} {
		if strings.Contains(ts, never) {
			t.Errorf("output contains %q (trigger functions, unnamed multi-arg functions and foreign-schema FKs are left out)", never)
		}
	}
}

func TestGoShape(t *testing.T) {
	t.Parallel()
	src, err := Go(testSchema(), GoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := string(src)
	for _, want := range []string{
		"package db\n",
		"func Books(c *plinth.Client) *plinth.Table[BooksRow, BooksInsert, BooksUpdate] {",
		"func AuthorStats(c *plinth.Client) *plinth.View[AuthorStatsRow] {",
		"type Mood string",
		`MoodInProgress Mood = "in progress"`,
	} {
		if !strings.Contains(g, want) {
			t.Errorf("Go output lacks %q", want)
		}
	}
	for _, re := range []string{
		`AuthorID\s+int64\s+` + "`json:\"author_id\"`",
		`Price\s+\*json.Number\s+` + "`json:\"price\"`",
		`CreatedAt\s+time.Time\s+` + "`json:\"created_at\"`",
		`Tags\s+\[\]string\s+` + "`json:\"tags\"`",
		`Meta\s+json.RawMessage\s+` + "`json:\"meta\"`",
		`Moods\s+\[\]Mood\s+` + "`json:\"moods\"`",
		`LocalAt\s+\*string\s+`,
		// insert: required plain, defaulted/identity optional pointers
		`Title\s+string\s+` + "`json:\"title\"`",
		`Pages\s+\*int32\s+` + "`json:\"pages,omitzero\"`",
		`BooksMood\s+plinth.Col\[Mood\]\s+= "mood"`,
		`BooksTags\s+plinth.Col\[\[\]string\]\s+= "tags"`,
		`func BooksBy\(ctx context.Context, c \*plinth.Client, args BooksByArgs\) \(\[\]BooksRow, error\)`,
		`func Ping\(ctx context.Context, c \*plinth.Client\) error`,
		`func Add\(ctx context.Context, c \*plinth.Client, args AddArgs\) \(int32, error\)`,
		`B \*int32 ` + "`json:\"b,omitzero\"`",
		`func RawJSON\(ctx context.Context, c \*plinth.Client, body any\) \(json.RawMessage, error\)`,
	} {
		if !regexp.MustCompile(re).MatchString(g) {
			t.Errorf("Go output does not match %s", re)
		}
	}
	// The generated column is readable but never written.
	ins := g[strings.Index(g, "type BooksInsert struct"):]
	ins = ins[:strings.Index(ins, "}")]
	if strings.Contains(ins, "Slug") {
		t.Error("BooksInsert has the generated column slug")
	}
}

func TestGoPackageName(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"func", "1db", "my-db", "_", "a b"} {
		if _, err := Go(testSchema(), GoOptions{Package: bad}); err == nil {
			t.Errorf("package %q accepted", bad)
		}
	}
}

func TestGoName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"user_id": "UserID", "todos": "Todos", "api_key_url": "APIKeyURL", "2fa": "X2fa", "weird col": "WeirdCol",
		"": "X", "already CamelCase": "AlreadyCamelCase", "élan": "Élan", "_x": "X",
	} {
		if got := GoName(in); got != want {
			t.Errorf("GoName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestGoNameCollisions: Postgres names that map to one Go name, or a column
// named like a generated type, still give distinct identifiers.
func TestGoNameCollisions(t *testing.T) {
	t.Parallel()
	tbl := &schema.Table{Name: "todos", Kind: "table", Insertable: true, Columns: []*schema.Column{
		col("row", 1, "text", "text", "S", true, ""),
		col("user_id", 2, "text", "text", "S", true, ""),
		col("user id", 3, "text", "text", "S", true, ""),
	}}
	s := &schema.Schema{Name: "p_x", Tables: map[string]*schema.Table{"todos": tbl, "todos_row": {Name: "todos_row", Kind: "table"}}}
	src, err := Go(s, GoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(string(src)), " ")
	for _, want := range []string{"type TodosRow struct", "func TodosRow2(c", "type TodosRowRow struct", "UserID *string", "UserID2 *string", `TodosRow3 plinth.Col[string] = "row"`} {
		if !strings.Contains(flat, want) {
			t.Errorf("output lacks %q:\n%s", want, src)
		}
	}
}
