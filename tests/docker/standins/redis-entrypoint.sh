#!/bin/sh
# As the official image: redis-server runs with protected mode off (the container network is the
# boundary; the compose files never publish Redis).
if [ "${1:-}" = redis-server ] || [ "${1#-}" != "${1:-}" ]; then
  [ "${1:-}" = redis-server ] && shift
  set -- redis-server --protected-mode no "$@"
fi
exec "$@"
