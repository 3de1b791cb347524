#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks, from Debian's packages.
#
#   scripts/pg.sh start [DIR]   initdb a temporary data directory, start the server on 127.0.0.1
#                               on a free port with PostgreSQL's default durability, print its
#                               postgres:// URL
#   scripts/pg.sh url [DIR]     print the URL of the running server
#   scripts/pg.sh stop [DIR]    stop the server and remove its directory
#
# DIR (default $JOBS_PG_DIR, else /tmp/jobs-pg) holds the server's files. PG_BIN is the folder
# of initdb and pg_ctl (default: the newest /usr/lib/postgresql/*/bin). Run as root, the server
# runs as the postgres user, as PostgreSQL requires, and DIR's parent folders are made
# traversable (not readable) for it.
set -euo pipefail

DIR="${2:-${JOBS_PG_DIR:-/tmp/jobs-pg}}"
DATA="$DIR/data"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"

die() {
  echo "pg.sh: $*" >&2
  exit 1
}

# Runs a command as the server's owner: the postgres user when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free port found on 127.0.0.1"
}

start() {
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL not found (install it: apt-get install -y postgresql)"
  if [ -f "$DIR/url" ] && as_owner "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    cat "$DIR/url"
    return
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$DIR"
    local parent
    parent="$(dirname "$(realpath "$DIR")")"
    while [ "$parent" != / ]; do
      runuser -u postgres -- test -x "$parent" || chmod o+x "$parent"
      parent="$(dirname "$parent")"
    done
  fi
  local password port
  password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  port="$(free_port)"
  printf '%s\n' "$password" | as_owner tee "$DIR/pwfile" >/dev/null
  as_owner "$PG_BIN/initdb" -D "$DATA" -U jobs --pwfile="$DIR/pwfile" --auth=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 || {
    cat "$DIR/initdb.log" >&2
    die "initdb failed"
  }
  rm -f "$DIR/pwfile"
  as_owner tee -a "$DATA/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$DIR'
max_connections = 200
CONF
  as_owner "$PG_BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 start >/dev/null || {
    cat "$DIR/server.log" >&2
    die "the server did not start"
  }
  local url="postgres://jobs:$password@127.0.0.1:$port/postgres"
  (umask 077 && printf '%s\n' "$url" >"$DIR/url")
  echo "$url"
}

stop() {
  if [ -d "$DATA" ]; then
    as_owner "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) [ -f "$DIR/url" ] && cat "$DIR/url" || die "no server started in $DIR" ;;
  *) die "usage: pg.sh start|url|stop" ;;
esac
