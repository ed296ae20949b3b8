#!/usr/bin/env bash
# Start a throw-away PostgreSQL 15 + PostGIS 3 cluster for the storage tests and export
# PLUMETRACE_TEST_PG=postgresql://... pointing at it. SOURCE this file (scripts/test.sh does):
#   source scripts/pg-test-cluster.sh
# The cluster lives in a temporary folder owned by the unprivileged `postgres` user (PostgreSQL
# refuses to run as root), listens on a free local port and a socket in that folder, and is
# stopped and removed when the sourcing shell exits (trap on EXIT).
# Without PostgreSQL's binaries it prints why and leaves PLUMETRACE_TEST_PG unset (the tests then
# skip locally and fail under CI=true).

pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"

_pg_cluster_start() {
  if [ ! -x "$pg_bin/initdb" ] || [ ! -x "$pg_bin/pg_ctl" ]; then
    echo "pg-test-cluster: no PostgreSQL 15 in $pg_bin (scripts/setup-deps.sh installs it)" >&2
    return 1
  fi
  local as_pg=()
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "pg-test-cluster: running as root but there is no 'postgres' user" >&2
      return 1
    fi
    as_pg=(runuser -u postgres --)
  fi
  PG_TEST_DIR="$(mktemp -d /tmp/plumetrace-pg.XXXXXX)"
  chmod 755 "$PG_TEST_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres "$PG_TEST_DIR"
  # a free port: ask the kernel for one, then let the cluster bind it
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  "${as_pg[@]}" "$pg_bin/initdb" -D "$PG_TEST_DIR/data" -U postgres -A trust -E UTF8 --no-sync >"$PG_TEST_DIR/initdb.log" 2>&1 ||
    { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 60 \
    -o "-p $port -k $PG_TEST_DIR -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null ||
    { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
  PG_TEST_PORT="$port"
  psql_cmd=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres)
  "${psql_cmd[@]}" -d postgres -c "CREATE DATABASE plumetrace_test" &&
    "${psql_cmd[@]}" -d plumetrace_test -c "CREATE EXTENSION IF NOT EXISTS postgis" || return 1
  export PLUMETRACE_TEST_PG="postgresql://postgres@127.0.0.1:$port/plumetrace_test"
  echo "pg-test-cluster: PostgreSQL + PostGIS at $PLUMETRACE_TEST_PG (folder $PG_TEST_DIR)"
}

_pg_cluster_stop() {
  if [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR/data" ]; then
    if [ "$(id -u)" -eq 0 ]; then
      runuser -u postgres -- "$pg_bin/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    else
      "$pg_bin/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    fi
  fi
  if [ -n "${PG_TEST_DIR:-}" ]; then rm -rf "$PG_TEST_DIR"; fi
  unset PLUMETRACE_TEST_PG PG_TEST_DIR
  return 0  # an EXIT trap's status would replace the script's
}

trap _pg_cluster_stop EXIT
if ! _pg_cluster_start; then
  echo "pg-test-cluster: could not start a PostgreSQL cluster; PostgreSQL storage tests will not run" >&2
  _pg_cluster_stop
fi
