package query

import (
	"net/http"
	"testing"
)

// Typical postgrest-js requests, as they arrive (percent-encoded).
var benchQueries = []struct{ name, raw string }{
	{"list", "select=id%2Ctitle%2Cauthor%3Aauthors%28name%29&done=eq.false&order=id.desc&limit=20"},
	{"single", "select=*&id=eq.42"},
	{"embed", "select=*%2Cbooks%21inner%28id%2Ctitle%2Creviews%28stars%29%29&books.stars=gte.4&books.order=title.asc&books.limit=5"},
	{"logic", "select=id&or=%28status.eq.open%2Cand%28priority.gt.2%2Cassignee.is.null%29%29&tags=cs.%7Burgent%7D&id=in.%281%2C2%2C3%2C4%2C5%29"},
}

func BenchmarkParse(b *testing.B) {
	h := http.Header{
		"Accept":         {"application/json"},
		"Prefer":         {"count=exact"},
		"Accept-Profile": {"public"},
	}
	for _, bq := range benchQueries {
		b.Run(bq.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(bq.raw, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseCondition(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCondition("or=(public.is.true,team=eq.{auth.claims.team})&owner_id=eq.{auth.uid}"); err != nil {
			b.Fatal(err)
		}
	}
}
