#!/usr/bin/env bash
# A PostgreSQL server for the test suite, from the distribution's packages: installed if missing,
# its cluster started, and a role and database made for the tests. Prints the URL to put in
# COMMISSION_TEST_DB. Used by .ci/run (as root); idempotent, so a second run only prints the URL.
set -euo pipefail
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi

if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  echo "Installing PostgreSQL for the tests (apt-get)…" >&2
  $sudo apt-get update -qq >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
if ! pg_lsclusters -h | grep -q "^$version main"; then
  $sudo pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | grep -q "^$version main .* online"; then
  $sudo pg_ctlcluster "$version" main start >&2
fi
port="$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')"

as_postgres() { if [ -z "$sudo" ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
psql_admin() { as_postgres psql -p "$port" -v ON_ERROR_STOP=1 -qtAc "$1"; }
if [ -z "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname = 'commission_test'")" ]; then
  psql_admin "CREATE ROLE commission_test LOGIN PASSWORD 'commission_test' CREATEDB" >&2
fi
if [ -z "$(psql_admin "SELECT 1 FROM pg_database WHERE datname = 'commission_test'")" ]; then
  psql_admin "CREATE DATABASE commission_test OWNER commission_test" >&2
fi
echo "postgresql://commission_test:commission_test@127.0.0.1:$port/commission_test"
