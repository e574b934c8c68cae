#!/usr/bin/env bash
# The DNS server's allocations and collections under a steady load (docs/benchmarks-dns.md, "Per-query cost"):
# unbound serves 100 ICANN names as local data, `pkarr dns` forwards to it and answers them from its answer cache,
# dnsperf asks them at RATE q/s for 15 s while dotnet-counters records the server's System.Runtime counters. Prints the
# means over those 15 s: bytes allocated per second (divide by RATE for bytes per query), gen0/gen1 collections per
# second, GC pause per second, CPU. Needs dnsperf, unbound, dig and dotnet-counters (`dotnet tool install -g
# dotnet-counters`); nothing leaves 127.0.0.1.
#
#   bash bench/dns/alloc.sh                          # the CLI built from this tree (Release)
#   RATE=20000 bash bench/dns/alloc.sh path/to/Pkarr.Cli
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rate="${RATE:-20000}"
cli="${1:-}"
if [ -z "$cli" ]; then
  dotnet build "$root/src/Pkarr.Cli" -c Release --nologo -v q >/dev/null
  cli="$root/src/Pkarr.Cli/bin/Release/net10.0/Pkarr.Cli"
fi
counters="$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")"
work="$(mktemp -d /tmp/pkarr-bench-alloc.XXXXXX)"
source "$root/bench/dns/processes.sh"

unbound_port="$(free_port)"
dns_port="$(free_port)"
: >"$work/icann.txt"
{
  printf 'server:\n  interface: 127.0.0.1@%s\n  port: %s\n  do-ip6: no\n  do-daemonize: no\n  chroot: ""\n  username: ""\n' "$unbound_port" "$unbound_port"
  printf '  directory: "%s"\n  pidfile: "%s/unbound.pid"\n  logfile: ""\n  use-syslog: no\n  verbosity: 0\n' "$work" "$work"
  printf '  num-threads: 2\n  so-reuseport: yes\n  module-config: "iterator"\n  access-control: 127.0.0.0/8 allow\n  local-zone: "." refuse\n'
  for i in $(seq 0 99); do
    printf 'n%s.bench.test A\n' "$i" >>"$work/icann.txt"
    printf '  local-data: "n%s.bench.test. 300 IN A 10.77.0.%s"\n' "$i" "$((i + 1))"
  done
  printf 'remote-control:\n  control-enable: no\n'
} >"$work/unbound.conf"
unbound -d -c "$work/unbound.conf" >"$work/unbound.log" 2>&1 &
pids+=($!)

# No per-client limits (dnsperf is one client); no relays, and a DHT bootstrap that is never needed (no Pkarr names).
printf '[dns]\nquery_rate_limit = 0\n[dht]\ndht_query_rate_limit = 0\n' >"$work/dns.toml"
"$cli" dns --config "$work/dns.toml" --listen "127.0.0.1:$dns_port" --forward "127.0.0.1:$unbound_port" --no-relays \
  --bootstrap 127.0.0.1:9 >"$work/dns.log" 2>&1 &
server=$!
pids+=($server)
for _ in $(seq 100); do
  dig @127.0.0.1 -p "$dns_port" +time=1 +tries=1 n0.bench.test A 2>/dev/null | grep -q 'status: NOERROR' && break
  sleep 0.2
done

# Warm the cache, and the JIT, before counting.
dnsperf -s 127.0.0.1 -p "$dns_port" -d "$work/icann.txt" -l 5 -c 4 -Q "$rate" >/dev/null 2>&1
"$counters" collect -p "$server" --counters System.Runtime --format csv -o "$work/counters.csv" --refresh-interval 1 \
  --duration 00:00:00:19 >/dev/null 2>&1 &
collector=$!
sleep 2
dnsperf -s 127.0.0.1 -p "$dns_port" -d "$work/icann.txt" -l 15 -c 4 -Q "$rate" >"$work/dnsperf.txt" 2>&1
wait "$collector" || true
grep -E 'Queries completed|Queries per second' "$work/dnsperf.txt"
python3 - "$work/counters.csv" "$rate" <<'PY'
import csv, collections, sys
series = collections.defaultdict(list)
for row in list(csv.reader(open(sys.argv[1])))[1:]:
    series[row[2]].append(float(row[4]))
def mean(name):
    values = series[name][2:17]  # the 15 s of load
    return sum(values) / len(values)
allocated = mean("dotnet.gc.heap.total_allocated (By / 1 sec)")
print(f"allocated: {allocated / 1e6:.2f} MB/s, {allocated / float(sys.argv[2]):.0f} B/query")
for label, name in [("gen0 collections/s", "dotnet.gc.collections ({collection} / 1 sec)[gc.heap.generation=gen0]"),
                    ("gen1 collections/s", "dotnet.gc.collections ({collection} / 1 sec)[gc.heap.generation=gen1]"),
                    ("GC pause ms/s", "dotnet.gc.pause.time (s / 1 sec)"),
                    ("CPU user s/s", "dotnet.process.cpu.time (s / 1 sec)[cpu.mode=user]"),
                    ("CPU system s/s", "dotnet.process.cpu.time (s / 1 sec)[cpu.mode=system]")]:
    value = mean(name) * (1000 if "pause" in label else 1)
    print(f"{label}: {value:.3g}")
PY
