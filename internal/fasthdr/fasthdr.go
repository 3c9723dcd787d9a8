// Package fasthdr sets response headers whose names are constants already
// in the form they go out in. fasthttp's Set copies and case-normalises
// the name on every call; a data response sets a dozen headers, and that
// work showed in its profile.
package fasthdr

import (
	"unsafe"

	"github.com/valyala/fasthttp"
)

// Canonical is name in fasthttp's normal form ("RateLimit-Policy" is
// "Ratelimit-Policy"), the form Set needs so that lookups by any case,
// which fasthttp normalises, still find the header.
func Canonical(name string) string {
	return string(fasthttp.AppendNormalizedHeaderKey(nil, name))
}

// Set sets header name, in canonical form (see Canonical), to value.
// fasthttp copies both.
func Set(h *fasthttp.ResponseHeader, name, value string) {
	h.SetCanonical(bytesOf(name), bytesOf(value))
}

// SetBytes is Set with the value as bytes.
func SetBytes(h *fasthttp.ResponseHeader, name string, value []byte) {
	h.SetCanonical(bytesOf(name), value)
}

func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
