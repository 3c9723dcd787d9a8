package query

import (
	"sort"
	"strconv"
	"strings"
)

// MediaType is a response media type the data API can produce.
type MediaType string

const (
	MediaJSON    MediaType = "application/json"
	MediaObject  MediaType = "application/vnd.pgrst.object+json" // exactly one row, else 406
	MediaCSV     MediaType = "text/csv"
	MediaOpenAPI MediaType = "application/openapi+json"
)

// DefaultOffers are the media types of table and RPC reads, the first being
// the answer to */* and to a missing Accept.
func DefaultOffers() []MediaType { return []MediaType{MediaJSON, MediaObject, MediaCSV} }

type acceptEntry struct {
	mime        string // type/subtype, lower case, without parameters
	q           float64
	specificity int
}

// ParseAccept picks the media type to answer with from an Accept header
// value (several headers joined with ","), among offered (DefaultOffers when
// empty), honouring q-values. When nothing acceptable can be produced the
// error is PGRST107, as in PostgREST.
func ParseAccept(accept string, offered ...MediaType) (MediaType, error) {
	if len(offered) == 0 {
		offered = DefaultOffers()
	}
	if strings.TrimSpace(accept) == "" {
		return offered[0], nil
	}
	var entries []acceptEntry
	var asked []string
	for _, part := range strings.Split(accept, ",") {
		if len(entries) >= maxItems {
			break
		}
		params := strings.Split(part, ";")
		mime := strings.ToLower(strings.TrimSpace(params[0]))
		if mime == "" {
			continue
		}
		asked = append(asked, strings.TrimSpace(params[0]))
		e := acceptEntry{mime: mime, q: 1, specificity: 2}
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || q < 0 || q > 1 {
					q = 0
				}
				e.q = q
			}
		}
		switch {
		case mime == "*/*":
			e.specificity = 0
		case strings.HasSuffix(mime, "/*"):
			e.specificity = 1
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return offered[0], nil
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].q != entries[j].q {
			return entries[i].q > entries[j].q
		}
		return entries[i].specificity > entries[j].specificity
	})
	for _, e := range entries {
		if e.q == 0 {
			continue
		}
		if m, ok := match(e.mime, offered); ok {
			return m, nil
		}
	}
	return "", &Error{
		Code:    CodeMediaType,
		Message: "None of these media types are available: " + echo(strings.Join(asked, ", ")),
		Pos:     -1,
	}
}

func match(mime string, offered []MediaType) (MediaType, bool) {
	if mime == "*/*" {
		return offered[0], true
	}
	if prefix, ok := strings.CutSuffix(mime, "*"); ok {
		for _, o := range offered {
			if strings.HasPrefix(string(o), prefix) {
				return o, true
			}
		}
		return "", false
	}
	// PostgREST's array media type is plain JSON for us.
	if mime == "application/vnd.pgrst.array+json" {
		mime = string(MediaJSON)
	}
	for _, o := range offered {
		if string(o) == mime {
			return o, true
		}
	}
	return "", false
}
