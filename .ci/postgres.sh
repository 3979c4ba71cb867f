#!/usr/bin/env bash
# Sourced by .ci/run: a private PostgreSQL server on 127.0.0.1 for the journal tests.
# Installs the Debian package when no PostgreSQL binaries are found, initialises a data directory in a
# temporary directory (trust authentication, listening on 127.0.0.1 only, a free port), starts it, creates
# the database dmasim_test and exports DMASIM_TEST_POSTGRES_URL. The server is stopped at exit.
# Standalone use (a server for local runs): `source .ci/postgres.sh; pg_start` then `pg_stop`.

pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

pg_free_port() {
  local port
  for port in $(seq 55432 55532); do
    if ! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "$port"; return 0; fi
  done
  return 1
}

pg_start() {
  local bin
  if ! bin=$(pg_bindir); then
    echo "installing PostgreSQL (Debian package postgresql)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
    bin=$(pg_bindir) || { echo "PostgreSQL binaries not found after installing the postgresql package" >&2; return 1; }
  fi
  PG_BASE=$(mktemp -d "${TMPDIR:-/tmp}/dmasim-pg.XXXXXX")
  PG_DATA="$PG_BASE/data"
  PG_PORT=$(pg_free_port) || { echo "no free port for PostgreSQL on 127.0.0.1" >&2; return 1; }
  # PostgreSQL refuses to run as root: run it as the postgres user (created by the package) or as us.
  PG_AS=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PG_BASE" postgres
    chown postgres "$PG_BASE"
    PG_AS=(runuser -u postgres --)
  fi
  "${PG_AS[@]}" "$bin/initdb" -D "$PG_DATA" -U dmasim --auth=trust --encoding=UTF8 --no-locale >"$PG_BASE/initdb.log" 2>&1 \
    || { cat "$PG_BASE/initdb.log" >&2; return 1; }
  "${PG_AS[@]}" "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_BASE/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_BASE -c fsync=on" start >/dev/null \
    || { cat "$PG_BASE/server.log" >&2; return 1; }
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U dmasim -d postgres -q -c "CREATE DATABASE dmasim_test" \
    || { pg_stop; return 1; }
  PG_BIN=$bin
  export DMASIM_TEST_POSTGRES_URL="jdbc:postgresql://127.0.0.1:$PG_PORT/dmasim_test?user=dmasim"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (DMASIM_TEST_POSTGRES_URL=$DMASIM_TEST_POSTGRES_URL)"
}

pg_stop() {
  if [ -n "${PG_DATA:-}" ] && [ -d "$PG_DATA" ]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "${PG_BASE:-}" ]; then rm -rf "$PG_BASE"; fi
  PG_DATA=
  PG_BASE=
}
