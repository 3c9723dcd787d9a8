package query

import "strings"

// Header gives access to request headers by name, case-insensitively.
// http.Header satisfies it; for other servers wrap a lookup in HeaderFunc.
type Header interface {
	Values(name string) []string
}

// HeaderFunc adapts a function to Header.
type HeaderFunc func(name string) []string

// Values calls f.
func (f HeaderFunc) Values(name string) []string { return f(name) }

// Headers is what the data API reads from request headers.
type Headers struct {
	Prefer Preferences
	// Range is the Range header; HasRange is false when it was absent or
	// ignored. PostgREST only applies it to GET and HEAD.
	Range    Range
	HasRange bool
	// Accept is the negotiated response media type.
	Accept MediaType
	// AcceptProfile and ContentProfile are the schema the client asks for
	// (supabase-js sends "public"); "" when absent. The caller decides
	// whether the value names the project's schema (else PGRST106).
	AcceptProfile  string
	ContentProfile string
}

// ParseHeaders reads Prefer, Range/Range-Unit, Accept (negotiated among
// offered, DefaultOffers when empty) and the profile headers.
func ParseHeaders(h Header, offered ...MediaType) (*Headers, error) {
	out := &Headers{Range: Range{Limit: NoLimit}}
	if h == nil {
		out.Accept, _ = ParseAccept("", offered...)
		return out, nil
	}
	var err error
	if out.Prefer, err = ParsePrefer(h.Values("Prefer")); err != nil {
		return nil, err
	}
	if rv := first(h, "Range"); rv != "" {
		r, ok, err := ParseRange(rv, first(h, "Range-Unit"))
		if err != nil {
			return nil, err
		}
		if ok {
			out.Range, out.HasRange = r, true
		}
	}
	if out.Accept, err = ParseAccept(strings.Join(h.Values("Accept"), ","), offered...); err != nil {
		return nil, err
	}
	out.AcceptProfile = first(h, "Accept-Profile")
	out.ContentProfile = first(h, "Content-Profile")
	return out, nil
}

func first(h Header, name string) string {
	if v := h.Values(name); len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// Request is a fully parsed data-API request: query string and headers.
type Request struct {
	Query
	Headers
}

// Parse parses the raw query string and the headers of a table request
// (GET/HEAD/POST/PATCH/PUT/DELETE /rest/v1/{table}). The Accept header is
// negotiated among DefaultOffers; endpoints offering other media types call
// ParseQuery and ParseHeaders themselves.
func Parse(rawQuery string, h Header) (*Request, error) {
	q, err := ParseQuery(rawQuery)
	if err != nil {
		return nil, err
	}
	hd, err := ParseHeaders(h)
	if err != nil {
		return nil, err
	}
	return &Request{Query: *q, Headers: *hd}, nil
}

// TopRange is the window of top-level rows to return: the Range header
// intersected with limit/offset, as PostgREST does. Callers that ignore the
// Range header for a method (anything but GET/HEAD) use RangeFor(nil).
func (r *Request) TopRange() Range {
	top := r.RangeFor(nil)
	if r.HasRange {
		top = top.Intersect(r.Headers.Range)
	}
	return top
}
