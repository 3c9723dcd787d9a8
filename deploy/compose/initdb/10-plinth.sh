#!/bin/sh
# Runs once, when the Postgres volume is first initialised (docker-entrypoint-initdb.d).
# Plinth's control role is NOT a superuser: it has CREATEROLE (for each
# project's roles) and owns the plinth database (for each project's schema).
# Project logins get CONNECT one by one at provisioning, so PUBLIC gets none.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
	-v control_password="$CONTROL_DB_PASSWORD" <<'SQL'
create role plinth login createrole password :'control_password';
create database plinth owner plinth;
revoke connect, temporary on database plinth from public;
SQL
