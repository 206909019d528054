#!/usr/bin/env bash
# Installs what reelforge needs on a fresh Debian/Ubuntu machine, then the locked Python deps.
#   scripts/bootstrap.sh run    → ffmpeg (the embedded default needs no server)
#   scripts/bootstrap.sh test   → plus redis-server, postgresql and nginx for the throwaway test
#                                 servers and the native stack, docker-compose to check compose files
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have ffmpeg && have ffprobe || need+=(ffmpeg)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core fontconfig)
have npm || need+=(nodejs npm)  # installs the web client's pinned JavaScript (no Node at runtime)
if [ "$mode" = test ]; then
  have redis-server || need+=(redis-server)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || have initdb || need+=(postgresql)
  have nginx || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  have docker-compose || need+=(docker-compose)
  have dockerd || need+=(docker.io)  # the Docker tier (tests/docker) starts an engine if none runs
  have debootstrap || need+=(debootstrap)  # its stand-in images, when no registry answers
  have chromium || need+=(chromium)  # plays the HLS output with hls.js (tests/e2e/test_hls_browser.py)
fi
if [ ${#need[@]} -gt 0 ]; then
  if ! have apt-get; then
    echo "bootstrap: missing system packages (${need[*]}) and no apt-get to install them" >&2
    exit 1
  fi
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "bootstrap: installing ${need[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum requirements.lock requirements-dev.lock pyproject.toml | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements-dev.lock  # runtime lock + dev tools
  # setuptools prints an "Editable installation … be careful" banner even with -q: shown only
  # when the install fails.
  if ! out=$(.venv/bin/python -m pip install -q --no-deps -e . 2>&1); then echo "$out" >&2; exit 1; fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# The web client's third-party JavaScript (web/package-lock.json), copied where the API and
# nginx serve it: app/web/static/vendor (the API image copies app/, so it holds them too).
vendor=app/web/static/vendor
if [ ! -f "$vendor/.installed" ] || [ web/package-lock.json -nt "$vendor/.installed" ]; then
  (cd web && npm ci --no-audit --no-fund --silent)
  mkdir -p "$vendor"
  cp web/node_modules/hls.js/dist/hls.min.js web/node_modules/tus-js-client/dist/tus.min.js "$vendor/"
  touch "$vendor/.installed"
fi
# The generic clients the tests use (tus-js-client, hls.js, axe-core; tests/clients lock).
if [ "$mode" = test ]; then
  lock=tests/clients/package-lock.json
  if [ ! -f tests/clients/node_modules/.installed ] || [ "$lock" -nt tests/clients/node_modules/.installed ]; then
    (cd tests/clients && npm ci --no-audit --no-fund --silent) && touch tests/clients/node_modules/.installed
  fi
fi
