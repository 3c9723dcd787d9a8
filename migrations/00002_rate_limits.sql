-- +goose Up
-- Per-project rate-limit rules (DESIGN.md §7.4). A project without rows gets
-- the platform defaults (PLINTH_RATE_LIMIT_*). The checks repeat the admin
-- API's validation so a hand-written row cannot break the limiter.
CREATE TABLE plinth.rate_limits (
    project_ref    text NOT NULL REFERENCES plinth.projects(ref) ON DELETE CASCADE,
    position       int NOT NULL,
    scope          text NOT NULL DEFAULT '' CHECK (scope IN ('', 'signin', 'refresh', 'otp')),
    role           text NOT NULL CHECK (role ~ '^(\*|[a-z][a-z0-9_-]{0,39})$'),
    per            text NOT NULL CHECK (per IN ('ip', 'user', 'key')),
    rate           int NOT NULL CHECK (rate BETWEEN 1 AND 1000000),
    period_seconds int NOT NULL CHECK (period_seconds BETWEEN 1 AND 86400),
    burst          int NOT NULL CHECK (burst BETWEEN 1 AND 1000000),
    PRIMARY KEY (project_ref, position),
    UNIQUE (project_ref, scope, role, per)
);

-- Request counters per project and minute, summed over every instance: each
-- instance counts in memory and adds its counts here every few seconds.
CREATE TABLE plinth.usage_minutes (
    project_ref   text NOT NULL REFERENCES plinth.projects(ref) ON DELETE CASCADE,
    minute        timestamptz NOT NULL,
    requests      bigint NOT NULL DEFAULT 0,
    client_errors bigint NOT NULL DEFAULT 0, -- 4xx other than 429
    errors        bigint NOT NULL DEFAULT 0, -- 5xx
    rate_limited  bigint NOT NULL DEFAULT 0, -- 429
    PRIMARY KEY (project_ref, minute)
);
CREATE INDEX usage_minutes_minute ON plinth.usage_minutes (minute);

-- +goose Down
DROP TABLE plinth.usage_minutes;
DROP TABLE plinth.rate_limits;
