// Package gentest holds the end-to-end test of generated SDK code: it
// creates a project with a varied schema on a live server, generates Go and
// TypeScript through the admin API, compiles both, and runs the generated Go
// handles and the JS SDK against the server.
package gentest
