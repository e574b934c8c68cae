#!/usr/bin/env bash
# Installs what the relay benchmarks need besides scripts/setup.sh: wrk (Debian package). Idempotent: does nothing
# when wrk is already there. The npm pkarr relay (the peer) comes from tests/Interop/js, which scripts/setup.sh installs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { printf '[bench-setup] %s\n' "$*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "apt-get not found: install wrk 4.x by hand"
    exit 1
  fi
  log "installing wrk"
  apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
wrk --version 2>&1 | head -1 >&2 || true

if [ ! -f "$root/tests/Interop/js/node_modules/pkarr/package.json" ]; then
  log "the npm pkarr relay is missing: running scripts/setup.sh"
  bash "$root/scripts/setup.sh"
fi
