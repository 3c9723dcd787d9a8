#!/bin/sh
# Installs the system packages the test suite needs when they are missing.
set -eu
need=""
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	need="$need postgresql"
fi
command -v redis-server >/dev/null 2>&1 || need="$need redis-server"
# node + npm run the conformance suite (tests/conformance) with the real
# Supabase clients; they want node >= 20.
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"
# Debian's Chromium runs the dashboard's browser tests (dashboard/e2e).
[ -x /usr/bin/chromium ] || need="$need chromium"
if [ -n "$need" ]; then
	echo "installing:$need"
	if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need
fi
# Postgres refuses to run as root; the test harness runs it as this user.
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
	useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
fi
# The conformance suite's node packages, exactly as locked.
conformance="$(dirname "$0")/../tests/conformance"
if [ -f "$conformance/package-lock.json" ] && [ ! -d "$conformance/node_modules" ]; then
	echo "installing node packages of tests/conformance"
	(cd "$conformance" && npm ci --no-audit --no-fund --prefer-offline)
fi
# The end-user auth suite's supabase-js (tests/auth-js), as locked.
authjs="$(dirname "$0")/../tests/auth-js"
if [ -f "$authjs/package-lock.json" ] && [ ! -d "$authjs/node_modules" ]; then
	echo "installing node packages of tests/auth-js"
	(cd "$authjs" && npm ci --no-audit --no-fund --prefer-offline)
fi
# The dashboard's browser-test packages (playwright-core, axe-core), as locked.
e2e="$(dirname "$0")/../dashboard/e2e"
if [ -f "$e2e/package-lock.json" ] && [ ! -d "$e2e/node_modules" ]; then
	echo "installing node packages of dashboard/e2e"
	(cd "$e2e" && npm ci --no-audit --no-fund --prefer-offline)
fi
# sdk/js's packages (postgrest-js, auth-js, typescript), as locked: the SDK
# tests type-check generated TypeScript and compare the Go SDK's requests
# with postgrest-js's.
sdkjs="$(dirname "$0")/../sdk/js"
if [ -f "$sdkjs/package-lock.json" ] && [ ! -d "$sdkjs/node_modules" ]; then
	echo "installing node packages of sdk/js"
	(cd "$sdkjs" && npm ci --no-audit --no-fund --prefer-offline)
fi
