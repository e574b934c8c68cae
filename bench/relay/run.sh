#!/usr/bin/env bash
# Runs the relay benchmarks of docs/benchmarks-relay.md with the settings used there; every run is bounded (wrk -d,
# timeout) and talks to 127.0.0.1 only. Output: the console, and bench/relay/logs/<mode>-<UTC time>.log (ignored).
#   bash bench/relay/run.sh            # get (1, 1k and 1M keys; the 1M fill takes minutes) then put
#   bash bench/relay/run.sh get --keys 1,1000 --seconds 5        # one mode, other arguments passed on
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash bench/relay/setup.sh
dotnet build bench/Pkarr.Relay.Benchmarks -c Release --nologo -v q
bin=bench/Pkarr.Relay.Benchmarks/bin/Release/net10.0/Pkarr.Relay.Benchmarks
mkdir -p bench/relay/logs

run() {
  local mode="$1"; shift
  local log="bench/relay/logs/$mode-$(date -u +%Y%m%dT%H%M%SZ).log"
  echo "# commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (uncommitted changes)')" | tee "$log"
  timeout 3600 "$bin" "$mode" "$@" 2>&1 | tee -a "$log"
}

if [ $# -gt 0 ]; then
  run "$@"
else
  run get --keys 1,1000,1000000 --seconds 10 --threads 2 --connections 64
  run put --seconds 10 --threads 2 --connections 32 --payloads 40000 --raw 300
fi
