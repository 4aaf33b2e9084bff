#!/bin/sh
# Entrypoint of the crestfall-local/db image: the official postgres image's contract
# (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGPORT, /docker-entrypoint-initdb.d) on
# Debian's PostgreSQL 15 with pg_cron and pgaudit.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}" "${PGPORT:=5432}" "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}" "${POSTGRES_LISTEN_ADDRESSES:=*}"
: "${POSTGRES_SHARED_PRELOAD:=pg_cron,pgaudit,pg_stat_statements}"
export PGPORT
BIN=/usr/lib/postgresql/15/bin
AS_PG="setpriv --reuid=postgres --regid=postgres --init-groups"

mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "POSTGRES_PASSWORD is required" >&2
    exit 1
  fi
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  chown postgres "$pwfile"
  $AS_PG $BIN/initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -A scram-sha-256 \
    --auth-local=trust -E UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-}
  rm -f "$pwfile"
  {
    echo "listen_addresses = '$POSTGRES_LISTEN_ADDRESSES'"
    echo "unix_socket_directories = '/run/postgresql'"
    echo "shared_preload_libraries = '$POSTGRES_SHARED_PRELOAD'"
    echo "cron.database_name = '$POSTGRES_DB'"
    echo "cron.use_background_workers = on"
    echo "max_worker_processes = 20"
    [ -e $BIN/../lib/llvmjit.so ] || echo "jit = off"
  } >> "$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  $AS_PG $BIN/pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
  if [ "$POSTGRES_DB" != postgres ]; then
    $AS_PG psql -v ON_ERROR_STOP=1 -h /run/postgresql -U "$POSTGRES_USER" -d postgres \
      -c "CREATE DATABASE \"$POSTGRES_DB\""
  fi
  for f in /docker-entrypoint-initdb.d/*.sql; do
    [ -e "$f" ] || continue
    echo "running $f"
    $AS_PG psql -q -v ON_ERROR_STOP=1 -h /run/postgresql -U "$POSTGRES_USER" \
      -d "$POSTGRES_DB" -f "$f"
  done
  $AS_PG $BIN/pg_ctl -D "$PGDATA" -m fast -w stop
fi
if [ "${1:-}" = postgres ]; then
  shift
fi
exec $AS_PG $BIN/postgres -D "$PGDATA" -p "$PGPORT" "$@"
