#!/usr/bin/env bash
# Starts a throwaway PostgreSQL and Redis for the tests (Debian's packages,
# installed by scripts/setup.sh --test), each on a free loopback port with its
# data in a temporary folder, and prints the environment the tests read:
#
#   eval "$(scripts/services.sh start)"   # sets SWITCHYARD_TEST_PG_URL,
#                                         # SWITCHYARD_TEST_REDIS_URL,
#                                         # SWITCHYARD_SERVICES_DIR
#   scripts/services.sh stop "$SWITCHYARD_SERVICES_DIR"
#
# PostgreSQL refuses to run as root: as root, the server runs as the
# 'postgres' user the package created.
set -euo pipefail

free_port() {
  python3 - <<'PY' 2>/dev/null || node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -n $d ]] || { echo "services.sh: PostgreSQL is not installed (scripts/setup.sh --test)" >&2; exit 1; }
  echo "$d"
}

as_pg() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local dir pgport redisport bin
  dir=$(mktemp -d /tmp/switchyard-services.XXXXXX)
  chmod 755 "$dir"
  bin=$(pg_bin)
  pgport=$(free_port)
  mkdir -p "$dir/pg"
  [[ $(id -u) == 0 ]] && chown postgres:postgres "$dir/pg"
  as_pg "$bin/initdb" -D "$dir/pg" -U switchyard --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as_pg "$bin/pg_ctl" -D "$dir/pg" -l "$dir/pg/server.log" -w -t 60 \
    -o "-p $pgport -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null ||
    { cat "$dir/pg/server.log" >&2; exit 1; }
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$pgport" -U switchyard switchyard_test

  redisport=$(free_port)
  redis-server --port "$redisport" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >/dev/null
  for _ in $(seq 50); do
    redis-cli -p "$redisport" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$redisport" ping >/dev/null || { cat "$dir/redis.log" >&2; exit 1; }

  echo "export SWITCHYARD_SERVICES_DIR=$dir"
  echo "export SWITCHYARD_TEST_PG_URL=postgres://switchyard@127.0.0.1:$pgport/switchyard_test"
  echo "export SWITCHYARD_TEST_REDIS_URL=redis://127.0.0.1:$redisport"
}

stop() {
  local dir=${1:-}
  [[ -n $dir && -d $dir ]] || exit 0
  if [[ -d $dir/pg ]]; then as_pg "$(pg_bin)/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  if [[ -f $dir/redis.pid ]]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: scripts/services.sh start | stop DIR" >&2; exit 2 ;;
esac
