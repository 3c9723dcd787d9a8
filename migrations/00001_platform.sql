-- +goose Up
-- The platform's own metadata lives in schema "plinth", owned by the control
-- role. Tenant roles never get USAGE on it.
CREATE SCHEMA IF NOT EXISTS plinth;
REVOKE ALL ON SCHEMA plinth FROM PUBLIC;

CREATE TABLE plinth.projects (
    ref             text PRIMARY KEY CHECK (ref ~ '^[a-z][a-z0-9-]{1,38}[a-z0-9]$'),
    name            text NOT NULL,
    schema_name     text NOT NULL UNIQUE,
    login_role      text NOT NULL UNIQUE,
    login_secret    bytea NOT NULL,            -- sealed with PLINTH_SECRET_KEY
    settings        jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE plinth.api_keys (
    id          uuid PRIMARY KEY,
    project_ref text NOT NULL REFERENCES plinth.projects(ref) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('anon', 'service_role')),
    prefix      text NOT NULL,
    key_hash    bytea NOT NULL UNIQUE,         -- sha256 of the whole key
    key_plain   text,                          -- kept only for publishable (anon) keys
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK (key_plain IS NULL OR role = 'anon')
);
CREATE INDEX api_keys_project ON plinth.api_keys (project_ref);

CREATE TABLE plinth.admins (
    id             uuid PRIMARY KEY,
    email          text NOT NULL UNIQUE CHECK (email = lower(email)),
    password_hash  text NOT NULL,
    platform_admin boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE plinth.admin_sessions (
    token_hash  bytea PRIMARY KEY,             -- sha256 of the bearer token
    admin_id    uuid NOT NULL REFERENCES plinth.admins(id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX admin_sessions_expiry ON plinth.admin_sessions (expires_at);

CREATE TABLE plinth.project_members (
    project_ref text NOT NULL REFERENCES plinth.projects(ref) ON DELETE CASCADE,
    admin_id    uuid NOT NULL REFERENCES plinth.admins(id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('owner', 'developer', 'viewer')),
    PRIMARY KEY (project_ref, admin_id)
);

-- No foreign key to projects: the audit trail outlives a deleted project.
CREATE TABLE plinth.audit_log (
    id          bigserial PRIMARY KEY,
    project_ref text,
    actor       text NOT NULL,
    action      text NOT NULL,
    target      text NOT NULL DEFAULT '',
    detail      jsonb NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_project ON plinth.audit_log (project_ref, id DESC);

CREATE TABLE plinth.settings (
    key   text PRIMARY KEY,
    value jsonb NOT NULL
);

-- Access rules (Casbin rows), one project per row.
CREATE TABLE plinth.casbin_rule (
    id          bigserial PRIMARY KEY,
    project_ref text NOT NULL REFERENCES plinth.projects(ref) ON DELETE CASCADE,
    ptype       text NOT NULL,
    v0 text NOT NULL DEFAULT '', v1 text NOT NULL DEFAULT '', v2 text NOT NULL DEFAULT '',
    v3 text NOT NULL DEFAULT '', v4 text NOT NULL DEFAULT '', v5 text NOT NULL DEFAULT ''
);
CREATE INDEX casbin_rule_project ON plinth.casbin_rule (project_ref);

-- Cluster-wide group roles, so RLS policies written `TO authenticated` work
-- as in Supabase: each project's matching role is a member. Roles are shared
-- by every database of the cluster, so another installation may have made them.
-- +goose StatementBegin
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- created concurrently by another database's migration
            END;
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- Supabase-style helpers for RLS policies, shared by every project.
CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO PUBLIC;

-- +goose StatementBegin
CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT nullif(auth.jwt() ->> 'sub', '')::uuid
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT nullif(auth.jwt() ->> 'role', '')
$$;
-- +goose StatementEnd

-- +goose Down
DROP SCHEMA auth CASCADE;
DROP SCHEMA plinth CASCADE;
