#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store tests, independent of any cluster the system runs.
#
#   eval "$(scripts/pg-test-cluster.sh start)"   # sets ISMS_TEST_POSTGRES_URL, ISMS_PG_CLUSTER_DIR
#   scripts/pg-test-cluster.sh stop "$ISMS_PG_CLUSTER_DIR"
#
# start: initdb in a fresh `mktemp -d` folder under /tmp (data, socket and log inside it), trust
# authentication for local connections only, listening on 127.0.0.1 on a free port, with a
# database isms_test; prints the export lines on stdout (progress goes to stderr). As root, the
# server runs as the `postgres` user (PostgreSQL refuses to run as root); otherwise as the caller.
# The server is tuned for tests, not for keeping data: fsync and full-page writes are off.
# stop DIR: stops the server (fast shutdown) and removes DIR.
# Needs PostgreSQL's server binaries: PG_BINDIR, else pg_config --bindir's sibling, else the newest
# /usr/lib/postgresql/*/bin (Debian's package `postgresql`).
set -euo pipefail

die() {
  echo "pg-test-cluster: $*" >&2
  exit 1
}

find_bindir() {
  if [[ -n ${PG_BINDIR:-} ]]; then
    echo "$PG_BINDIR"
    return
  fi
  local d
  local -a found=()
  mapfile -t found < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
  for d in /usr/lib/postgresql/15/bin "${found[@]}"; do
    if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
      echo "$d"
      return
    fi
  done
  if command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/initdb" ]]; then
    pg_config --bindir
    return
  fi
  die "no PostgreSQL server binaries (initdb, pg_ctl) found: install the package postgresql, or set PG_BINDIR"
}

# Runs a command as the cluster's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local port _
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! port_in_use "$port"; then
      echo "$port"
      return
    fi
  done
  die "found no free TCP port on 127.0.0.1"
}

start() {
  local bindir dir owner port attempt
  bindir=$(find_bindir)
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user to run the server: install the package postgresql"
    owner=postgres
  else
    owner=$(id -un)
  fi
  dir=$(mktemp -d /tmp/isms-pg.XXXXXX)
  touch "$dir/isms-pg-test-cluster"
  mkdir "$dir/data" "$dir/socket"
  chmod 700 "$dir"
  [[ $owner == "$(id -un)" ]] || chown -R "$owner": "$dir"

  echo "pg-test-cluster: initdb in $dir/data" >&2
  if ! as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    die "initdb failed"
  fi
  cat >"$dir/data/pg_hba.conf" <<'HBA'
local all all              trust
host  all all 127.0.0.1/32 trust
host  all all ::1/128      trust
HBA
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/socket'
fsync = off
full_page_writes = off
synchronous_commit = off
max_connections = 50
CONF

  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 60 \
      start >/dev/null 2>&1; then
      break
    fi
    echo "pg-test-cluster: start on port $port failed (attempt $attempt), retrying" >&2
    port=""
  done
  if [[ -z $port ]]; then
    tail -20 "$dir/server.log" >&2 || true
    rm -rf "$dir"
    die "the server did not start"
  fi
  if ! as_owner "$bindir/psql" -X -q -h "$dir/socket" -p "$port" -U postgres -d postgres \
    -c "CREATE DATABASE isms_test" >&2; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    die "could not create database isms_test"
  fi
  echo "pg-test-cluster: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
  echo "export ISMS_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/isms_test"
  echo "export ISMS_PG_CLUSTER_DIR=$dir"
}

stop() {
  local dir=${1:?usage: pg-test-cluster.sh stop DIR}
  [[ -f $dir/isms-pg-test-cluster ]] || die "$dir is not a cluster made by pg-test-cluster.sh start: not touching it"
  if [[ -f $dir/data/postmaster.pid ]]; then
    as_owner "$(find_bindir)/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      echo "pg-test-cluster: pg_ctl stop failed; removing $dir anyway" >&2
  fi
  rm -rf "$dir"
}

case ${1:-} in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) die "usage: pg-test-cluster.sh start | stop DIR" ;;
esac
