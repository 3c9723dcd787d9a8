// Package auth is a project's end-user auth, a GoTrue-compatible subset
// served at /p/{ref}/auth/v1 (DESIGN.md §6) so that supabase-js's auth
// client works unchanged.
//
// The package is layered:
//   - tokens.go and passwords.go are pure: access-token signing and
//     verification (ES256 with a kid, per project) and password rules;
//   - keys.go keeps each project's signing keys (sealed at rest with
//     PLINTH_SECRET_KEY) in a per-instance cache dropped by NOTIFY;
//   - repo.go is the SQL over the project's auth schema (provision.AuthSchema);
//   - service.go is sign-up, sign-in, refresh rotation, logout and user
//     administration, independent of HTTP;
//   - handlers.go and json.go are the HTTP layer and GoTrue's JSON shapes.
//
// Users live in a schema of the project's own (auth_{schema}) so its tables
// can reference users(id); the schema belongs to the control role, which is
// why the auth service reads and writes it on the control-plane pool: it is
// platform code, and no tenant code runs there. The one exception is
// deleting a user: that can cascade into the project's tables and fire its
// triggers, so it runs on the project's own pool as its owner role (§9).
package auth
