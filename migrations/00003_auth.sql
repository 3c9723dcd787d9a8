-- +goose Up
-- End-user auth (DESIGN.md §6).
--
-- Per-project ES256 signing keys. The private key is sealed with
-- PLINTH_SECRET_KEY (bound to project ref and kid); at most one key per
-- project is active (signs), retired ones still verify until removed.
CREATE TABLE plinth.auth_signing_keys (
    project_ref  text NOT NULL REFERENCES plinth.projects(ref) ON DELETE CASCADE,
    kid          text NOT NULL,
    alg          text NOT NULL DEFAULT 'ES256' CHECK (alg = 'ES256'),
    public_key   bytea NOT NULL,               -- PKIX DER
    private_key  bytea NOT NULL,               -- sealed PKCS#8 DER
    created_at   timestamptz NOT NULL DEFAULT now(),
    retired_at   timestamptz,
    PRIMARY KEY (project_ref, kid)
);
CREATE UNIQUE INDEX auth_signing_keys_active ON plinth.auth_signing_keys (project_ref) WHERE retired_at IS NULL;

-- Each project's users live in a schema of their own, auth_{project schema},
-- owned by the control role: the project's tables can reference users(id)
-- with a foreign key (as Supabase apps do with auth.users), the project's
-- owner role can read every column but the password hash (to expose users
-- through a view of its own if it wants to) and delete users (so a delete
-- that cascades into the project's tables runs on the project's own login),
-- and the API roles anon/authenticated get nothing: the data API never sees
-- users unless the project exposes them.
-- +goose StatementBegin
CREATE FUNCTION plinth.create_auth_schema(auth_schema text, owner_role text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('CREATE SCHEMA %I', auth_schema);
    EXECUTE format($ddl$
        CREATE TABLE %1$I.users (
            id                 uuid PRIMARY KEY,
            aud                text NOT NULL DEFAULT 'authenticated',
            role               text NOT NULL DEFAULT 'authenticated',
            email              text UNIQUE,              -- lower-cased by the service
            encrypted_password text,
            email_confirmed_at timestamptz,
            phone              text,
            last_sign_in_at    timestamptz,
            raw_app_meta_data  jsonb NOT NULL DEFAULT '{}',
            raw_user_meta_data jsonb NOT NULL DEFAULT '{}',
            is_anonymous       boolean NOT NULL DEFAULT false,
            created_at         timestamptz NOT NULL DEFAULT now(),
            updated_at         timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE %1$I.identities (
            id              uuid PRIMARY KEY,
            user_id         uuid NOT NULL REFERENCES %1$I.users(id) ON DELETE CASCADE,
            provider        text NOT NULL,
            provider_id     text NOT NULL,
            identity_data   jsonb NOT NULL DEFAULT '{}',
            last_sign_in_at timestamptz,
            created_at      timestamptz NOT NULL DEFAULT now(),
            updated_at      timestamptz NOT NULL DEFAULT now(),
            UNIQUE (provider, provider_id)
        );
        CREATE INDEX ON %1$I.identities (user_id);
        CREATE TABLE %1$I.sessions (
            id           uuid PRIMARY KEY,
            user_id      uuid NOT NULL REFERENCES %1$I.users(id) ON DELETE CASCADE,
            aal          text NOT NULL DEFAULT 'aal1',
            user_agent   text,
            created_at   timestamptz NOT NULL DEFAULT now(),
            updated_at   timestamptz NOT NULL DEFAULT now(),
            refreshed_at timestamptz
        );
        CREATE INDEX ON %1$I.sessions (user_id);
        -- Refresh tokens are stored as SHA-256 hashes; parent_id links a
        -- rotated token to the one it replaced.
        CREATE TABLE %1$I.refresh_tokens (
            id         bigserial PRIMARY KEY,
            token_hash bytea NOT NULL UNIQUE,
            session_id uuid NOT NULL REFERENCES %1$I.sessions(id) ON DELETE CASCADE,
            parent_id  bigint,
            revoked    boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ON %1$I.refresh_tokens (session_id);
        GRANT USAGE ON SCHEMA %1$I TO %2$I;
        GRANT SELECT (id, aud, role, email, email_confirmed_at, phone, last_sign_in_at,
                      raw_app_meta_data, raw_user_meta_data, is_anonymous, created_at, updated_at),
              REFERENCES (id), DELETE
            ON %1$I.users TO %2$I;
    $ddl$, auth_schema, owner_role);
END
$fn$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION plinth.create_auth_schema(text, text) FROM PUBLIC;

-- Projects provisioned before this migration get their auth schema now.
-- +goose StatementBegin
DO $$
DECLARE p record;
BEGIN
    FOR p IN SELECT schema_name FROM plinth.projects LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'auth_' || p.schema_name) THEN
            PERFORM plinth.create_auth_schema('auth_' || p.schema_name, p.schema_name || '_owner');
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION plinth.create_auth_schema(text, text);
DROP TABLE plinth.auth_signing_keys;
