// Connection settings handed over by conformance_test.go, and clients built
// from them. Tests use the service_role key: new projects deny everything to
// anon and authenticated until rules say otherwise (DESIGN.md §7.2).
import { PostgrestClient } from '@supabase/postgrest-js';

function need(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run these tests through "go test ./tests/conformance/"`);
  }
  return v;
}

export const url = need('PLINTH_URL');
export const ref = need('PLINTH_REF');
export const anonKey = need('PLINTH_ANON_KEY');
export const serviceKey = need('PLINTH_SERVICE_KEY');
export const adminToken = process.env.PLINTH_ADMIN_TOKEN ?? '';
export const restURL = `${url}/p/${ref}/rest/v1`;

/** A postgrest-js client with a project key (service_role unless given). */
export function client(key = serviceKey) {
  return new PostgrestClient(restURL, {
    headers: { apikey: key, Authorization: `Bearer ${key}` },
  });
}

/** A name no other test (or earlier run) uses. */
let n = 0;
export function unique(prefix) {
  n += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${n}`;
}
