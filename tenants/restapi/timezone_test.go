package restapi_test

import (
	"net/http"
	"testing"
)

// TestPreferTimezone: Prefer: timezone renders timestamptz in that zone for
// the request (reads and writes) and is echoed; an unknown zone is ignored,
// or refused with handling=strict (PGRST122), as in PostgREST 12.
func TestPreferTimezone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "tzone", `create table events (id int primary key, at timestamptz not null);
insert into events values (1, '2024-01-15 12:00:00+00');`)
	key := e.p.ServiceKey
	la := map[string]string{"Prefer": "timezone=America/Los_Angeles"}
	// The server's own zone, whatever the machine's is.
	base := e.ts.Rest(t, e.p, key, "GET", "/events?select=at::text", nil, nil)
	if base.Status != http.StatusOK {
		t.Fatalf("baseline: %d %s", base.Status, base.Body)
	}

	res := e.ts.Rest(t, e.p, key, "GET", "/events?select=id,at", la, nil)
	wantJSON(t, res, http.StatusOK, `[{"id":1,"at":"2024-01-15T04:00:00-08:00"}]`)
	wantHeader(t, res, "Preference-Applied", "timezone=America/Los_Angeles")

	res = e.ts.Rest(t, e.p, key, "GET", "/events?select=id,at", map[string]string{"Prefer": "timezone=Asia/Tokyo"}, nil)
	wantJSON(t, res, http.StatusOK, `[{"id":1,"at":"2024-01-15T21:00:00+09:00"}]`)

	// The zone lasts one transaction: the next request on the same
	// connections is back in the server's zone.
	res = e.ts.Rest(t, e.p, key, "GET", "/events?select=id,at", map[string]string{"Prefer": "timezone=UTC"}, nil)
	wantJSON(t, res, http.StatusOK, `[{"id":1,"at":"2024-01-15T12:00:00+00:00"}]`)
	for range 8 { // more requests than the pool has connections
		res = e.ts.Rest(t, e.p, key, "GET", "/events?select=at::text", nil, nil)
		wantJSON(t, res, http.StatusOK, string(base.Body))
	}

	// Writes: the representation is rendered in the zone; input without an
	// offset is read in it.
	res = e.ts.Rest(t, e.p, key, "POST", "/events", map[string]string{"Prefer": "return=representation, timezone=Europe/Paris"},
		map[string]any{"id": 2, "at": "2024-07-01 10:00:00"})
	wantJSON(t, res, http.StatusCreated, `[{"id":2,"at":"2024-07-01T10:00:00+02:00"}]`)
	wantHeader(t, res, "Preference-Applied", "return=representation, timezone=Europe/Paris")
	res = e.ts.Rest(t, e.p, key, "GET", "/events?select=at&id=eq.2", map[string]string{"Prefer": "timezone=UTC"}, nil)
	wantJSON(t, res, http.StatusOK, `[{"at":"2024-07-01T08:00:00+00:00"}]`)

	// Unknown zones: ignored (and not echoed), or refused when strict.
	res = e.ts.Rest(t, e.p, key, "GET", "/events?select=id&id=eq.1", map[string]string{"Prefer": "timezone=Mars/Olympus_Mons"}, nil)
	wantJSON(t, res, http.StatusOK, `[{"id":1}]`)
	wantHeader(t, res, "Preference-Applied", "")
	res = e.ts.Rest(t, e.p, key, "GET", "/events?select=id", map[string]string{"Prefer": "handling=strict, timezone=Mars/Olympus_Mons"}, nil)
	wantError(t, res, http.StatusBadRequest, "PGRST122", "handling=strict")
	// A zone name is not SQL.
	res = e.ts.Rest(t, e.p, key, "GET", "/events?select=id&id=eq.1", map[string]string{"Prefer": "timezone=UTC'; drop table events; --"}, nil)
	wantJSON(t, res, http.StatusOK, `[{"id":1}]`)
}
