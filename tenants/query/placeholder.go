package query

import "strings"

// PlaceholderKind names what a {auth.*} placeholder stands for.
type PlaceholderKind string

const (
	PlaceholderUID   PlaceholderKind = "uid"    // {auth.uid}: the caller's user id
	PlaceholderRole  PlaceholderKind = "role"   // {auth.role}: the caller's role
	PlaceholderClaim PlaceholderKind = "claims" // {auth.claims.a.b}: a JWT claim
)

// Placeholder is a reference to the caller inside an access-rule condition,
// e.g. owner_id=eq.{auth.uid}. It is always a whole value (or a whole in.()
// element), so substituting it never re-enters the grammar.
type Placeholder struct {
	Kind  PlaceholderKind
	Claim []string // PlaceholderClaim: the claim path, e.g. ["app_metadata","team"]
}

func (p Placeholder) String() string {
	if p.Kind == PlaceholderClaim {
		return "{auth.claims." + strings.Join(p.Claim, ".") + "}"
	}
	return "{auth." + string(p.Kind) + "}"
}

// ParsePlaceholder recognises a value that is exactly {auth.uid},
// {auth.role} or {auth.claims.<path>}.
func ParsePlaceholder(v string) (Placeholder, bool) {
	inner, ok := strings.CutPrefix(v, "{auth.")
	if !ok {
		return Placeholder{}, false
	}
	if inner, ok = strings.CutSuffix(inner, "}"); !ok {
		return Placeholder{}, false
	}
	switch inner {
	case "uid":
		return Placeholder{Kind: PlaceholderUID}, true
	case "role":
		return Placeholder{Kind: PlaceholderRole}, true
	}
	path, ok := strings.CutPrefix(inner, "claims.")
	if !ok {
		return Placeholder{}, false
	}
	claim := strings.Split(path, ".")
	for _, c := range claim {
		if c == "" || strings.ContainsAny(c, "{}") {
			return Placeholder{}, false
		}
	}
	return Placeholder{Kind: PlaceholderClaim, Claim: claim}, true
}

// looksLikePlaceholder catches misspelt placeholders, which would otherwise
// silently compare against the literal text.
func looksLikePlaceholder(v string) bool {
	return strings.HasPrefix(v, "{auth.")
}

// Placeholders lists the placeholders used in e, in order of appearance.
func (e Expr) Placeholders() []Placeholder {
	var out []Placeholder
	e.walkValues(func(v string) {
		if p, ok := ParsePlaceholder(v); ok {
			out = append(out, p)
		}
	})
	return out
}

func (e Expr) walkValues(fn func(string)) {
	if f := e.Filter; f != nil {
		if f.Op == OpIn {
			for _, v := range f.List {
				fn(v)
			}
		} else {
			fn(f.Value)
		}
	}
	for _, c := range e.Children {
		c.walkValues(fn)
	}
}

// Substitute returns a copy of e with every placeholder replaced by what fn
// returns for it; fn's error is returned unchanged (e.g. a missing claim, for
// which a caller may choose to treat the condition as false). Only ever call
// it on access-rule conditions: request filters are the client's text.
func (e Expr) Substitute(fn func(Placeholder) (string, error)) (Expr, error) {
	out := e
	if f := e.Filter; f != nil {
		nf := *f
		if f.Op == OpIn {
			nf.List = make([]string, len(f.List))
			for i, v := range f.List {
				s, err := substitute(v, fn)
				if err != nil {
					return Expr{}, err
				}
				nf.List[i] = s
			}
		} else {
			s, err := substitute(f.Value, fn)
			if err != nil {
				return Expr{}, err
			}
			nf.Value = s
		}
		out.Filter = &nf
	}
	if e.Children != nil {
		out.Children = make([]Expr, len(e.Children))
		for i, c := range e.Children {
			sc, err := c.Substitute(fn)
			if err != nil {
				return Expr{}, err
			}
			out.Children[i] = sc
		}
	}
	return out, nil
}

func substitute(v string, fn func(Placeholder) (string, error)) (string, error) {
	if p, ok := ParsePlaceholder(v); ok {
		return fn(p)
	}
	return v, nil
}
