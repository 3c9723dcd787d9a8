package restapi

import (
	"context"
	"net/http"
	"sync"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/tenants/query"
)

// Timezones are the names Prefer: timezone may use: Postgres's
// pg_timezone_names, read once per instance (PostgREST checks against the
// same list). A name outside it is ignored, or refused with
// handling=strict, rather than failing the request in Postgres.
type Timezones struct {
	load  func(ctx context.Context) ([]string, error)
	mu    sync.Mutex
	names map[string]struct{}
}

// NewTimezones makes the set; load reads the names when first needed.
func NewTimezones(load func(ctx context.Context) ([]string, error)) *Timezones {
	return &Timezones{load: load}
}

func (t *Timezones) valid(ctx context.Context, name string) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.names == nil {
		names, err := t.load(ctx)
		if err != nil {
			return false, err // not kept: the next request tries again
		}
		t.names = make(map[string]struct{}, len(names))
		for _, n := range names {
			t.names[n] = struct{}{}
		}
	}
	_, ok := t.names[name]
	return ok, nil
}

// checkTimezone drops an unknown Prefer: timezone (so Preference-Applied
// does not claim it), or refuses it with handling=strict.
func (h *Handler) checkTimezone(ctx context.Context, p *query.Preferences) error {
	if p.Timezone == "" {
		return nil
	}
	ok := false
	if h.d.Timezones != nil {
		var err error
		if ok, err = h.d.Timezones.valid(ctx, p.Timezone); err != nil {
			return err
		}
	}
	if ok {
		return nil
	}
	if p.Handling == query.HandlingStrict {
		return apierror.New(http.StatusBadRequest, query.CodeStrictPrefer, "Invalid preferences given with handling=strict").
			WithDetails("Invalid preferences: timezone=" + p.Timezone)
	}
	p.Timezone = ""
	return nil
}
