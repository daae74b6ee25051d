#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL 15 server on loopback:
#   scripts/with-postgres.sh pytest ...
# The data directory lives in a temporary folder and is removed afterwards.
set -euo pipefail

pg_bin=/usr/lib/postgresql/15/bin
port=${TROPA_PG_PORT:-54329}
work=$(mktemp -d /tmp/tropa-pg.XXXXXX)
chmod 755 "$work"

as_pg() {
  # PostgreSQL refuses to run as root; use the postgres system user then.
  if [ "$(id -u)" -eq 0 ]; then
    su postgres -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}

cleanup() {
  as_pg "$pg_bin/pg_ctl -D $work/data -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] && chown postgres "$work"
as_pg "$pg_bin/initdb -D $work/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
# Speed over durability: this server lives for one test run.
as_pg "$pg_bin/pg_ctl -D $work/data -l $work/server.log -w start -o \"-h 127.0.0.1 -p $port -k $work -c fsync=off -c synchronous_commit=off -c full_page_writes=off\"" >/dev/null
as_pg "$pg_bin/psql -h 127.0.0.1 -p $port -U postgres -qc \"CREATE ROLE tropa LOGIN CREATEDB PASSWORD 'tropa'\""
as_pg "$pg_bin/psql -h 127.0.0.1 -p $port -U postgres -qc \"CREATE DATABASE tropa OWNER tropa\""

export DATABASE_URL="postgres://tropa:tropa@127.0.0.1:$port/tropa"
echo "with-postgres: PostgreSQL $($pg_bin/postgres --version | awk '{print $3}') on 127.0.0.1:$port"
"$@"
