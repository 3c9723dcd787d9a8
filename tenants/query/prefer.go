package query

import (
	"strconv"
	"strings"
)

// Preference values, as written after the '=' in a Prefer header.
type (
	ReturnPref     string
	CountPref      string
	ResolutionPref string
	MissingPref    string
	TxPref         string
	HandlingPref   string
)

const (
	ReturnMinimal        ReturnPref = "minimal"
	ReturnHeadersOnly    ReturnPref = "headers-only"
	ReturnRepresentation ReturnPref = "representation"

	CountExact     CountPref = "exact"
	CountPlanned   CountPref = "planned"
	CountEstimated CountPref = "estimated"

	MergeDuplicates  ResolutionPref = "merge-duplicates"
	IgnoreDuplicates ResolutionPref = "ignore-duplicates"

	MissingDefault MissingPref = "default"
	MissingNull    MissingPref = "null"

	TxCommit   TxPref = "commit"
	TxRollback TxPref = "rollback"

	HandlingLenient HandlingPref = "lenient"
	HandlingStrict  HandlingPref = "strict"
)

// Preferences are the recognised parts of the Prefer header(s) (RFC 7240).
// A field is "" (or nil) when the client did not state that preference; the
// first occurrence of a preference wins, across headers too.
type Preferences struct {
	Return     ReturnPref
	Count      CountPref
	Resolution ResolutionPref
	Missing    MissingPref
	Tx         TxPref
	Handling   HandlingPref
	// Timezone is timezone=<name>, unchecked: only the database knows the
	// valid names, so the caller validates it (and drops it if unknown).
	Timezone string
	// MaxAffected is max-affected=<n>, nil when absent.
	MaxAffected *int64
	// Invalid lists the preferences that were not recognised, in order.
	Invalid []string
}

// ParsePrefer parses the values of every Prefer header. Unknown preferences
// are collected in Invalid and ignored, unless handling=strict was asked for,
// in which case they are a PGRST122 error, as in PostgREST.
func ParsePrefer(values []string) (Preferences, error) {
	var p Preferences
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			if !p.set(item) {
				if len(p.Invalid) < maxItems {
					p.Invalid = append(p.Invalid, item)
				}
			}
		}
	}
	if p.Handling == HandlingStrict && len(p.Invalid) > 0 {
		return p, &Error{
			Code:    CodeStrictPrefer,
			Message: "Invalid preferences given with handling=strict",
			Details: "Invalid preferences: " + echo(strings.Join(p.Invalid, ", ")),
			Pos:     -1,
		}
	}
	return p, nil
}

// set records one name=value preference and reports whether it is known.
// A repeated preference is known but ignored.
func (p *Preferences) set(item string) bool {
	name, value, _ := strings.Cut(item, "=")
	switch name {
	case "return":
		return setOnce(&p.Return, value, ReturnMinimal, ReturnHeadersOnly, ReturnRepresentation)
	case "count":
		return setOnce(&p.Count, value, CountExact, CountPlanned, CountEstimated)
	case "resolution":
		return setOnce(&p.Resolution, value, MergeDuplicates, IgnoreDuplicates)
	case "missing":
		return setOnce(&p.Missing, value, MissingDefault, MissingNull)
	case "tx":
		return setOnce(&p.Tx, value, TxCommit, TxRollback)
	case "handling":
		return setOnce(&p.Handling, value, HandlingLenient, HandlingStrict)
	case "timezone":
		if value == "" {
			return false
		}
		if p.Timezone == "" {
			p.Timezone = value
		}
		return true
	case "max-affected":
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 {
			return false
		}
		if p.MaxAffected == nil {
			p.MaxAffected = &n
		}
		return true
	}
	return false
}

func setOnce[T ~string](dst *T, value string, allowed ...T) bool {
	for _, a := range allowed {
		if T(value) == a {
			if *dst == "" {
				*dst = a
			}
			return true
		}
	}
	return false
}

// Applied renders the Preference-Applied header value for the recognised
// preferences, in PostgREST's order ("" when none). The caller removes what
// it did not honour before echoing it; max-affected is only echoed with
// handling=strict, as PostgREST does.
func (p Preferences) Applied() string {
	var parts []string
	add := func(name, value string) {
		if value != "" {
			parts = append(parts, name+"="+value)
		}
	}
	add("resolution", string(p.Resolution))
	add("missing", string(p.Missing))
	add("return", string(p.Return))
	add("count", string(p.Count))
	add("tx", string(p.Tx))
	add("handling", string(p.Handling))
	add("timezone", p.Timezone)
	if p.MaxAffected != nil && p.Handling == HandlingStrict {
		add("max-affected", strconv.FormatInt(*p.MaxAffected, 10))
	}
	return strings.Join(parts, ", ")
}
