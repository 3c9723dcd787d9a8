-- +goose Up
-- Helpers the data API's generated SQL calls, shared by every project. The
-- data API builds one statement per request; when that statement finds that
-- the request must fail (a singular response with the wrong row count, a
-- written row outside the caller's access rules, too many rows affected) it
-- raises from inside the statement, so the implicit transaction rolls back
-- without an extra round trip. Tenant roles run it with their own rights.
CREATE SCHEMA IF NOT EXISTS plinth_api;
GRANT USAGE ON SCHEMA plinth_api TO PUBLIC;

-- raise always fails with the given SQLSTATE. It returns boolean only so it
-- can sit in a CASE branch; VOLATILE keeps the planner from folding it.
-- SQLSTATE 'PGRST' with a JSON message follows PostgREST's convention for
-- errors with a chosen HTTP status (see platform/apierror).
-- +goose StatementBegin
CREATE FUNCTION plinth_api.raise(code text, message text, detail text DEFAULT NULL, hint text DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message,
        DETAIL = coalesce(detail, ''), HINT = coalesce(hint, '');
END
$$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION plinth_api.raise(text, text, text, text) TO PUBLIC;

-- plan_rows is the planner's row estimate for a query (Prefer: count=planned,
-- and count=estimated beyond max_rows, as PostgREST answers them). The data
-- API passes the text of a query it built, with every value quoted; EXPLAIN
-- without ANALYZE executes nothing, and it runs with the caller's rights.
-- +goose StatementBegin
CREATE FUNCTION plinth_api.plan_rows(query text) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric::bigint;
END
$$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION plinth_api.plan_rows(text) TO PUBLIC;

-- +goose Down
DROP SCHEMA plinth_api CASCADE;
