#!/usr/bin/env bash
# Run a command against a throwaway Redis on loopback:
#   scripts/with-redis.sh pytest ...
# No persistence, a temporary folder for its files, removed afterwards.
set -euo pipefail

port=${TROPA_REDIS_PORT:-63790}
work=$(mktemp -d /tmp/tropa-redis.XXXXXX)

cleanup() {
  if [ -f "$work/redis.pid" ]; then
    kill "$(cat "$work/redis.pid")" 2>/dev/null || true
    for _ in $(seq 50); do
      [ -f "$work/redis.pid" ] || break
      sleep 0.1
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Loopback only, no snapshot or append-only file: this server lives for one test run.
redis-server --bind 127.0.0.1 --port "$port" --dir "$work" --save "" --appendonly no \
  --protected-mode yes --daemonize yes --pidfile "$work/redis.pid" \
  --logfile "$work/redis.log" >/dev/null
for _ in $(seq 50); do
  redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null

export TROPA_REDIS_URL="redis://127.0.0.1:$port/0"
echo "with-redis: Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) on 127.0.0.1:$port"
"$@"
