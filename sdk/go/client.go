package plinth

import (
	"net/http"
	"strings"
	"sync"
)

// Client talks to one project's data and auth APIs. It is safe for
// concurrent use; a signed-in session (see Auth) is shared by all requests
// made through it.
type Client struct {
	restURL string
	authURL string
	key     string
	schema  string
	header  http.Header
	t       *transport

	mu      sync.Mutex
	session *Session
	subs    map[int]func(AuthEvent, *Session)
	nextSub int
}

// Option configures a Client or an Admin.
type Option func(*options)

type options struct {
	hc     *http.Client
	retry  RetryPolicy
	header http.Header
	schema string
}

// WithHTTPClient sends requests through hc (timeouts, proxies, tracing).
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.hc = hc } }

// WithRetry replaces the retry policy; WithRetry(RetryPolicy{MaxAttempts: 1}) disables retries.
func WithRetry(p RetryPolicy) Option { return func(o *options) { o.retry = p } }

// WithHeader adds a header to every request.
func WithHeader(key, value string) Option {
	return func(o *options) { o.header.Add(key, value) }
}

// WithSchema sends Accept-Profile/Content-Profile with every data request,
// as supabase-js does with "public". Plinth maps "public" and the project's
// own schema name to the project's schema.
func WithSchema(name string) Option { return func(o *options) { o.schema = name } }

func buildOptions(opts []Option) options {
	o := options{retry: DefaultRetry(), header: http.Header{}}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// New returns a client of project ref on the Plinth server at baseURL
// (e.g. "http://localhost:8080"), authenticating with key (the anon or
// service_role key). With host routing (PLINTH_BASE_DOMAIN) pass the
// project's own URL as baseURL and ref "".
func New(baseURL, ref, key string, opts ...Option) *Client {
	o := buildOptions(opts)
	base := strings.TrimRight(baseURL, "/")
	if ref != "" {
		base += "/p/" + ref
	}
	return &Client{
		restURL: base + "/rest/v1",
		authURL: base + "/auth/v1",
		key:     key,
		schema:  o.schema,
		header:  o.header,
		t:       newTransport(o.hc, o.retry),
		subs:    map[int]func(AuthEvent, *Session){},
	}
}

// RestURL is the base URL of the project's data API.
func (c *Client) RestURL() string { return c.restURL }

// baseHeader is what every request carries: the key, and the user's access
// token when signed in (else the key) as the bearer, like supabase-js.
func (c *Client) baseHeader() http.Header {
	h := http.Header{}
	for k, vs := range c.header {
		h[k] = append([]string(nil), vs...)
	}
	h.Set("apikey", c.key)
	bearer := c.key
	c.mu.Lock()
	if c.session != nil && c.session.AccessToken != "" {
		bearer = c.session.AccessToken
	}
	c.mu.Unlock()
	h.Set("Authorization", "Bearer "+bearer)
	return h
}

// pathEscape escapes a path segment with the WHATWG URL path set (what
// new URL() does to postgrest-js's relation names), plus "/" and "%" so a
// name always stays one segment.
func pathEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b <= 0x20 || b >= 0x7f || strings.IndexByte("\"#<>?`{}/%", b) >= 0 {
			sb.WriteByte('%')
			sb.WriteByte(hex[b>>4])
			sb.WriteByte(hex[b&15])
			continue
		}
		sb.WriteByte(b)
	}
	return sb.String()
}
