#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1, starting them if they are
# down. With --drop-test-databases, removes the databases (and Redis keys) the tests created.
set -euo pipefail
pg_url="${ROSTER_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"

pg_up() { psql "$pg_url/postgres" -qAtc 'SELECT 1' >/dev/null 2>&1; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if [ "${1:-}" = "--drop-test-databases" ]; then
  # One psql session for all of them: a mutation run leaves thousands.
  psql "$pg_url/postgres" -qAtc \
    "SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE);', datname) FROM pg_database WHERE datname LIKE 'roster_test_%'" |
    psql "$pg_url/postgres" -q >/dev/null
  # And the session keys the tests left in their Redis database.
  if redis_up; then
    redis-cli -n 15 --scan --pattern 'roster_test:*' | xargs -r redis-cli -n 15 del >/dev/null
  fi
  exit 0
fi

if ! pg_up; then
  echo "[services] starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "[services] PostgreSQL is not reachable at $pg_url" >&2; exit 1; }

if command -v redis-server >/dev/null && ! redis_up; then
  echo "[services] starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi
echo "[services] PostgreSQL$(redis_up && echo ' and Redis') ready"
