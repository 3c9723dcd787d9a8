package query

import (
	"strings"
	"testing"
)

func column(name string) SelectItem { return SelectItem{Kind: SelectColumn, Field: col(name)} }

var star = SelectItem{Kind: SelectStar}

func embed(alias string, e Embed) SelectItem {
	return SelectItem{Kind: SelectEmbed, Alias: alias, Embed: &e}
}

func TestSelect(t *testing.T) {
	tests := []struct {
		value string
		want  []SelectItem
	}{
		{"*", []SelectItem{star}},
		{"", []SelectItem{}},
		{"id,title", []SelectItem{column("id"), column("title")}},
		{"id, title , done", []SelectItem{column("id"), column("title"), column("done")}},
		{"label:title", []SelectItem{{Kind: SelectColumn, Alias: "label", Field: col("title")}}},
		{"id::text", []SelectItem{{Kind: SelectColumn, Field: col("id"), Cast: "text"}}},
		{"n:id::int4", []SelectItem{{Kind: SelectColumn, Alias: "n", Field: col("id"), Cast: "int4"}}},
		{"data->a->>b", []SelectItem{{Kind: SelectColumn, Field: Field{Name: "data", JSON: []JSONStep{{Key: "a"}, {Key: "b", AsText: true}}}}}},
		{"x:data->arr->0::int", []SelectItem{{Kind: SelectColumn, Alias: "x", Cast: "int",
			Field: Field{Name: "data", JSON: []JSONStep{{Key: "arr"}, {Key: "0", Index: true}}}}}},
		{`data->"a.b"->>"c,d"`, []SelectItem{{Kind: SelectColumn, Field: Field{Name: "data", JSON: []JSONStep{{Key: "a.b"}, {Key: "c,d", AsText: true}}}}}},
		{"data->key-with-dash", []SelectItem{{Kind: SelectColumn, Field: Field{Name: "data", JSON: []JSONStep{{Key: "key-with-dash"}}}}}},
		{`"my col",my-col,"a\"b"`, []SelectItem{column("my col"), column("my-col"), column(`a"b`)}},
		{"*,author(*)", []SelectItem{star, embed("", Embed{Name: "author", Select: []SelectItem{star}})}},
		{"id,title,author:authors(name)", []SelectItem{column("id"), column("title"),
			embed("author", Embed{Name: "authors", Select: []SelectItem{column("name")}})}},
		{"authors!inner(name)", []SelectItem{embed("", Embed{Name: "authors", Join: JoinInner, Select: []SelectItem{column("name")}})}},
		{"authors!left(name)", []SelectItem{embed("", Embed{Name: "authors", Join: JoinLeft, Select: []SelectItem{column("name")}})}},
		{"a:authors!fk_author!inner(name)", []SelectItem{embed("a", Embed{Name: "authors", Hint: "fk_author", Join: JoinInner, Select: []SelectItem{column("name")}})}},
		{"a:authors!inner!fk_author(name)", []SelectItem{embed("a", Embed{Name: "authors", Hint: "fk_author", Join: JoinInner, Select: []SelectItem{column("name")}})}},
		{"authors!author_id(*)", []SelectItem{embed("", Embed{Name: "authors", Hint: "author_id", Select: []SelectItem{star}})}},
		{"authors()", []SelectItem{embed("", Embed{Name: "authors", Select: []SelectItem{}})}},
		{"id,...author(name,email)", []SelectItem{column("id"), embed("", Embed{Name: "author", Spread: true,
			Select: []SelectItem{column("name"), column("email")}})}},
		{"...author!fk!inner(n:name)", []SelectItem{embed("", Embed{Name: "author", Hint: "fk", Join: JoinInner, Spread: true,
			Select: []SelectItem{{Kind: SelectColumn, Alias: "n", Field: col("name")}}})}},
		{"*,books(id,reviews(stars,users!inner(*)))", []SelectItem{star, embed("", Embed{Name: "books", Select: []SelectItem{
			column("id"), embed("", Embed{Name: "reviews", Select: []SelectItem{
				column("stars"), embed("", Embed{Name: "users", Join: JoinInner, Select: []SelectItem{star}})}})}})}},
		{"first name,$x,_y", []SelectItem{column("first name"), column("$x"), column("_y")}},
	}
	for _, tt := range tests {
		got, err := parseSelect(tt.value)
		if err != nil {
			t.Errorf("select=%s: %v", tt.value, err)
			continue
		}
		equal(t, "select="+tt.value, got, tt.want)
	}
}

func TestSelectDefaultAndFirstWins(t *testing.T) {
	equal(t, "absent", mustQuery(t, "id=eq.1").Select, []SelectItem{star})
	equal(t, "first wins", mustQuery(t, "select=id&select=name").Select, []SelectItem{column("id")})
	equal(t, "empty", mustQuery(t, "select=").Select, []SelectItem{})
	// postgrest-js percent-encodes the select list.
	equal(t, "encoded", mustQuery(t, "select=id%2Cauthor%3Aauthors%28name%29").Select,
		[]SelectItem{column("id"), embed("author", Embed{Name: "authors", Select: []SelectItem{column("name")}})})
}

func TestSelectErrors(t *testing.T) {
	tests := []struct{ value, message string }{
		{"id,,name", `failed to parse select parameter (id,,name) at position 3: unexpected ","`},
		{"id,", `failed to parse select parameter (id,) at position 3: unexpected end of input`},
		{"name::", `failed to parse select parameter (name::) at position 6: unexpected end of input`},
		{"name!hint", `failed to parse select parameter (name!hint) at position 9: unexpected end of input`},
		{"*!hint", `failed to parse select parameter (*!hint) at position 1: unexpected "!"`},
		{"a:*", `failed to parse select parameter (a:*) at position 2: unexpected "*"`},
		{"rel(id", `failed to parse select parameter (rel(id) at position 6: unexpected end of input`},
		{"rel(id))", `failed to parse select parameter (rel(id))) at position 7: unexpected ")"`},
		{"id,clients(name[])", `failed to parse select parameter (id,clients(name[])) at position 15: unexpected "["`},
		{"data->>-78xy", `failed to parse select parameter (data->>-78xy) at position 7: unexpected "-"`},
		{"a:...rel(x)", `failed to parse select parameter (a:...rel(x)) at position 2: unexpected "."`},
		{"rel!a!b(x)", `failed to parse select parameter (rel!a!b(x)) at position 6: unexpected "b"`},
		{`"unterminated`, `failed to parse select parameter ("unterminated) at position 13: unexpected end of input`},
		{`""`, `failed to parse select parameter ("") at position 0: empty field name`},
		{`"my col",my-col,"a""b"`, `failed to parse select parameter ("my col",my-col,"a""b") at position 19: unexpected "\""`},
	}
	for _, tt := range tests {
		_, err := ParseQuery("select=" + strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B").Replace(tt.value))
		if err == nil {
			t.Errorf("select=%s: no error", tt.value)
			continue
		}
		if e := asError(t, err); e.Code != CodeParse || e.Message != tt.message {
			t.Errorf("select=%s:\n got  %s %q\n want %q", tt.value, e.Code, e.Message, tt.message)
		}
	}
}

func TestSelectDepthCap(t *testing.T) {
	ok := strings.Repeat("a(", maxDepth) + "x" + strings.Repeat(")", maxDepth)
	if _, err := parseSelect(ok); err != nil {
		t.Fatalf("depth %d: %v", maxDepth, err)
	}
	deep := strings.Repeat("a(", maxDepth+1) + "x" + strings.Repeat(")", maxDepth+1)
	_, err := ParseQuery("select=" + deep)
	if e := asError(t, err); !strings.Contains(e.Message, "nested too deeply") {
		t.Errorf("deep select: %v", err)
	}
	wide := "select=" + strings.Repeat("a,", maxItems) + "a"
	if _, err := ParseQuery(wide); err == nil {
		t.Error("over-wide select accepted")
	}
}
