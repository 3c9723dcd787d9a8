package plinth

import "strings"

// params is an ordered list of query parameters with the semantics of the
// WHATWG URLSearchParams that postgrest-js uses: Set replaces the first
// occurrence in place and drops the others, Append adds at the end. Keeping
// the same order and encoding means the server sees byte-identical URLs.
type params struct{ kv [][2]string }

func (p *params) get(k string) (string, bool) {
	for _, e := range p.kv {
		if e[0] == k {
			return e[1], true
		}
	}
	return "", false
}

func (p *params) set(k, v string) {
	out := p.kv[:0:0]
	done := false
	for _, e := range p.kv {
		if e[0] != k {
			out = append(out, e)
			continue
		}
		if !done {
			out = append(out, [2]string{k, v})
			done = true
		}
	}
	if !done {
		out = append(out, [2]string{k, v})
	}
	p.kv = out
}

func (p *params) append(k, v string) { p.kv = append(p.kv, [2]string{k, v}) }

// encode serialises like URLSearchParams.toString (the
// application/x-www-form-urlencoded serializer): ASCII alphanumerics and
// "*-._" stay, space becomes "+", every other byte is %XX (upper case).
// url.Values.Encode differs ("*" escaped, "~" kept, keys sorted).
func (p *params) encode() string {
	var sb strings.Builder
	for i, e := range p.kv {
		if i > 0 {
			sb.WriteByte('&')
		}
		formEncode(&sb, e[0])
		sb.WriteByte('=')
		formEncode(&sb, e[1])
	}
	return sb.String()
}

func formEncode(sb *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '*', b == '-', b == '.', b == '_':
			sb.WriteByte(b)
		case b == ' ':
			sb.WriteByte('+')
		default:
			sb.WriteByte('%')
			sb.WriteByte(hex[b>>4])
			sb.WriteByte(hex[b&15])
		}
	}
}
