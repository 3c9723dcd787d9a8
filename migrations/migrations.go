// Package migrations holds the platform metadata schema as embedded SQL files,
// applied by goose under a Postgres advisory lock so several instances can
// start against one database at the same moment.
package migrations

import "embed"

// FS holds the numbered goose migrations.
//
//go:embed *.sql
var FS embed.FS
