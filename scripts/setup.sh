#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh machine of this kind. Idempotent: every step
# checks first and does nothing when its tool is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '[setup] %s\n' "$*" >&2; }

if ! command -v dotnet >/dev/null 2>&1; then
  log "the .NET SDK is missing: install .NET 10 (https://dot.net) and run this again"
  exit 1
fi

# The npm `pkarr` package, for the interop tests against the JS implementation.
js="$root/tests/Interop/js"
if command -v npm >/dev/null 2>&1; then
  if [ ! -f "$js/node_modules/pkarr/package.json" ]; then
    log "installing the npm interop peers into tests/Interop/js/node_modules"
    (cd "$js" && npm ci --no-audit --no-fund --loglevel=error) || log "npm install failed; the JS interop tests will fail"
  fi
else
  log "npm not found; the JS interop tests will fail (apt-get install nodejs npm)"
fi

# Real DHT peers for the Mainline interop tests (tests/Interop/dht): libtorrent's Python binding (Debian)
# and webtorrent's bittorrent-dht (npm, pinned by the shared peers kit's lock file).
if ! /usr/bin/python3 -c 'import libtorrent, cryptography' >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    log "installing python3-libtorrent and python3-cryptography"
    apt-get install -y python3-libtorrent python3-cryptography >/dev/null \
      || { apt-get update >/dev/null && apt-get install -y python3-libtorrent python3-cryptography >/dev/null; } \
      || log "apt-get failed; the libtorrent interop tests will fail"
  else
    log "apt-get not found; the libtorrent interop tests will fail (need python3-libtorrent)"
  fi
fi

dht="$root/tests/Interop/dht"
if command -v npm >/dev/null 2>&1; then
  if [ ! -f "$dht/node_modules/bittorrent-dht/package.json" ]; then
    log "installing bittorrent-dht into tests/Interop/dht/node_modules"
    (cd "$dht" && npm ci --no-audit --no-fund --loglevel=error) || log "npm install failed; the bittorrent-dht interop tests will fail"
  fi
fi

# Installs Debian packages ($2...) whose services must not start (policy-rc.d forbids it for this install only);
# $1 says what fails without them.
install_without_services() {
  local what="$1"; shift
  if ! command -v apt-get >/dev/null 2>&1; then
    log "apt-get not found; $what will fail (need $*)"
    return 0
  fi
  log "installing $*"
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  apt-get install -y --no-install-recommends "$@" >/dev/null \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "$@" >/dev/null; } \
    || log "apt-get failed; $what will fail (need $*)"
  if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi
}

# redis-server for the relay's Redis store tests (tests/Pkarr.Relay.Tests/Storage), which start their own server on
# a loopback port. Debian's package starts a system service when installed under systemd; policy-rc.d forbids that
# for this install, and nothing here enables or starts one.
if ! command -v redis-server >/dev/null 2>&1; then
  install_without_services "the Redis store tests" redis-server
fi

# Debian's Chromium for the web app's browser tests (tests/Pkarr.Web.Tests), driven by Playwright with
# ExecutablePath=/usr/bin/chromium: Playwright's own browser download never runs.
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1; then
    log "installing chromium"
    apt-get install -y --no-install-recommends chromium >/dev/null \
      || { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; } \
      || log "apt-get failed; the web app tests will fail (need chromium)"
  else
    log "apt-get not found; the web app tests will fail (need /usr/bin/chromium)"
  fi
fi

# The DNS server's proof tests (tests/Pkarr.DnsServer.Tests/Tools) and benchmarks (bench/dns): dig (bind9-dnsutils),
# kdig (knot-dnsutils), dnspython (python3-dnspython, for /usr/bin/python3), dnsperf, and unbound as the local upstream
# and the benchmarks' reference server. The tests start unbound themselves with their own config; Debian's package
# would start a system resolver service when installed under systemd, so policy-rc.d forbids that for this install.
dns_missing=()
[ -x /usr/bin/dig ] || dns_missing+=(bind9-dnsutils)
[ -x /usr/bin/kdig ] || dns_missing+=(knot-dnsutils)
/usr/bin/python3 -c 'import dns.message, dns.query' >/dev/null 2>&1 || dns_missing+=(python3-dnspython)
command -v dnsperf >/dev/null 2>&1 || dns_missing+=(dnsperf)
[ -x /usr/sbin/unbound ] || command -v unbound >/dev/null 2>&1 || dns_missing+=(unbound)
if [ "${#dns_missing[@]}" -gt 0 ]; then
  install_without_services "the DNS server's tool tests and benchmarks" "${dns_missing[@]}"
fi
