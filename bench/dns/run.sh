#!/usr/bin/env bash
# DNS server benchmark of docs/benchmarks-dns.md (issue 13): dnsperf on loopback against
#   1. unbound serving N names as local-data (the mature-server ceiling),
#   2. our server (`pkarr dns`, Release build) answering the same N names as Pkarr names from its packet cache,
#   3. our server answering N ICANN names from its forwarded-answer cache (upstream: that unbound).
# Throughput: REPEAT rounds, the targets interleaved, each a run of dnsperf -l SECONDS -c CLIENTS -q OUTSTANDING (no
# rate cap: qps and average latency); the table shows each target's median round.
# Latency: SLICES slices of SLICE_SECONDS per target at a fixed rate every target sustains (-Q RATE -v), the targets
# taking turns slice by slice (in a random order each round), and p50/p99/p99.9 over every reply of a target's
# slices. This VM's stalls last a second or more and move a 10-s run's p99 tenfold; short alternating slices spread
# them over the targets alike. Each slice's own percentiles go to slices.txt in the logs, and a second table pairs each slice's
# p99 with unbound's of the same round: the geometric mean of the ratios with its 95% confidence interval, and in how
# many slices the target was at or below unbound. A second unbound with the same config (the twin) runs in the
# slices too, as the control: unbound against itself shows how far two equal servers part here.
# The Pkarr names are N keys published with `pkarr publish` on a private `pkarr testnet` on 127.0.0.1; nothing leaves
# the machine. Results: the console, bench/dns/logs/<UTC time>/ (ignored) and, with --write, the results block of
# docs/benchmarks-dns.md. Needs dnsperf, unbound, dig (scripts/setup.sh installs them) and the .NET SDK.
#
#   bash bench/dns/run.sh                         # N=100, 3 rounds of 10-s runs, 4 clients; latency at 20000 q/s
#                                                 # in 60 slices of 2 s per target (about 12 minutes in all here)
#   bash bench/dns/run.sh --write                 # the same, and rewrite the results in docs/benchmarks-dns.md
#   NAMES=1000 SECONDS_PER_RUN=20 REPEAT=5 RATE=10000 SLICES=100 TTL=300 bash bench/dns/run.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

names="${NAMES:-100}"
seconds="${SECONDS_PER_RUN:-10}"
repeat="${REPEAT:-3}"
clients="${CLIENTS:-4}"
outstanding="${OUTSTANDING:-200}"
rate="${RATE:-20000}"
slices="${SLICES:-60}"
slice_seconds="${SLICE_SECONDS:-2}"
# The records' TTL, the same for both servers: longer than a run, so that every answer measured comes from a fresh
# cache entry. With a TTL shorter than the run, the Pkarr packets turn stale mid-run and each one's first query after
# that starts a background DHT refresh (and each forwarded answer expires and goes back to unbound): the run then
# measures refreshes against unbound's local data, which never expires.
ttl="${TTL:-3600}"
write=0
[ "${1:-}" = "--write" ] && write=1

log() { printf '[bench-dns] %s\n' "$*" >&2; }
for tool in dnsperf unbound dig dotnet python3; do
  command -v "$tool" >/dev/null 2>&1 || { log "$tool is missing: run scripts/setup.sh"; exit 1; }
done

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
logs="$root/bench/dns/logs/$stamp"
work="$(mktemp -d /tmp/pkarr-bench-dns.XXXXXX)"
mkdir -p "$logs" "$work/keys"
source "$root/bench/dns/processes.sh"

# Waits (at most 30 s) until $1:$2 answers $3 with NOERROR.
wait_dns() {
  for _ in $(seq 300); do
    if dig @127.0.0.1 -p "$1" +time=1 +tries=1 "$2" A 2>/dev/null | grep -q 'status: NOERROR'; then return 0; fi
    sleep 0.1
  done
  log "127.0.0.1:$1 does not answer $2"; return 1
}

log "building the CLI (Release)"
dotnet build src/Pkarr.Cli -c Release --nologo -v q >"$logs/build.log" 2>&1 || { cat "$logs/build.log"; exit 1; }
cli="$root/src/Pkarr.Cli/bin/Release/net10.0/Pkarr.Cli"

log "starting a 30-node testnet"
"$cli" testnet --nodes 30 --json >"$work/testnet.json" 2>"$logs/testnet.log" &
pids+=($!)
for _ in $(seq 300); do [ -s "$work/testnet.json" ] && break; sleep 0.1; done
mapfile -t bootstrap < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["bootstrap"]))' "$work/testnet.json")
[ "${#bootstrap[@]}" -gt 0 ] || { log "the testnet printed no bootstrap list"; cat "$logs/testnet.log"; exit 1; }
boot_args=()
for node in "${bootstrap[@]:0:8}"; do boot_args+=(--bootstrap "$node"); done

log "publishing $names keys (one A record each) on the testnet"
: >"$work/pkarr.txt"; : >"$work/icann.txt"; : >"$work/local-data.conf"
for i in $(seq 0 $((names - 1))); do
  address="10.77.$((i / 250)).$((i % 250 + 1))"
  key="$("$cli" keygen --out "$work/keys/$i.key" 2>/dev/null)"
  key="${key#pk:}"
  printf '@ %s IN A %s\n' "$ttl" "$address" >"$work/keys/$i.zone"
  printf '%s A\n' "$key" >>"$work/pkarr.txt"
  printf 'n%s.bench.test A\n' "$i" >>"$work/icann.txt"
  # unbound serves the very same names (the keys, as single-label names) and the ICANN names, with the same data.
  printf '  local-data: "%s. %s IN A %s"\n  local-data: "n%s.bench.test. %s IN A %s"\n' "$key" "$ttl" "$address" "$i" "$ttl" "$address" >>"$work/local-data.conf"
done
seq 0 $((names - 1)) | xargs -P 8 -I{} sh -c 'cli="$0"; work="$1"; shift
  "$cli" publish --secret "$work/keys/{}.key" --zone "$work/keys/{}.zone" --no-relays --no-cache --timeout 60 "$@" \
    >/dev/null 2>>"$work/publish.err" || echo "{}" >>"$work/publish.failed"' "$cli" "$work" "${boot_args[@]}"
if [ -s "$work/publish.failed" ]; then
  log "publishing failed for $(wc -l <"$work/publish.failed") keys"; cat "$work/publish.err" >&2; exit 1
fi

# Writes the config of an unbound on 127.0.0.1:$1 serving the local data, as $work/$2.conf.
unbound_conf() {
  cat >"$work/$2.conf" <<EOF
server:
  interface: 127.0.0.1@$1
  port: $1
  do-ip6: no
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "$work"
  pidfile: "$work/$2.pid"
  logfile: ""
  use-syslog: no
  verbosity: 0
  num-threads: 2
  so-reuseport: yes
  module-config: "iterator"
  access-control: 127.0.0.0/8 allow
  local-zone: "." refuse
$(cat "$work/local-data.conf")
remote-control:
  control-enable: no
EOF
}
# The twin, a second unbound with the same config, is the control of the latency slices: unbound against itself shows
# how far two equal servers' p99s part on this machine, the yardstick for ours against unbound.
unbound_port="$(free_port)"
twin_port="$(free_port)"
while [ "$twin_port" = "$unbound_port" ]; do twin_port="$(free_port)"; done
for instance in unbound:"$unbound_port" unbound-twin:"$twin_port"; do
  name="${instance%%:*}"; port="${instance#*:}"
  unbound_conf "$port" "$name"
  log "starting $name on 127.0.0.1:$port"
  unbound -d -c "$work/$name.conf" >"$logs/$name.log" 2>&1 &
  pids+=($!)
  wait_dns "$port" n0.bench.test
done

dns_port="$(free_port)"
cat >"$work/pkarr-dns.toml" <<EOF
# The benchmark's client is one address sending as fast as it can: no per-client limits.
[dns]
query_rate_limit = 0
[dht]
dht_query_rate_limit = 0
EOF
log "starting pkarr dns on 127.0.0.1:$dns_port"
"$cli" dns --config "$work/pkarr-dns.toml" --listen "127.0.0.1:$dns_port" --forward "127.0.0.1:$unbound_port" --no-relays "${boot_args[@]}" \
  >"$logs/pkarr-dns.log" 2>&1 &
pids+=($!)
wait_dns "$dns_port" n0.bench.test

log "warming the caches (every name once, until each answers NOERROR)"
for _ in 1 2 3 4 5; do
  dnsperf -s 127.0.0.1 -p "$dns_port" -d "$work/pkarr.txt" -n 1 -c 1 -q 20 -t 10 >"$work/warm.txt" 2>&1 || true
  grep -q "NOERROR $names (100.00%)" "$work/warm.txt" && break
  sleep 1
done
grep -q "NOERROR $names (100.00%)" "$work/warm.txt" || { log "the Pkarr names do not all resolve:"; cat "$work/warm.txt" >&2; exit 1; }
dnsperf -s 127.0.0.1 -p "$dns_port" -d "$work/icann.txt" -n 2 -c 1 -q 20 >/dev/null 2>&1

# dnsperf's summary → "qps avg_ms completed_pct"
summary() {
  awk '/Queries per second/ {q=$4} /Average Latency/ {a=$4*1000} /Queries completed/ {gsub(/[()%]/,"",$4); c=$4} END {printf "%.0f %.3f %s\n", q, a, c}' "$1"
}
# dnsperf -v lines ("> NOERROR name A 0.000123") → "p50_ms p99_ms p999_ms noerror_pct"
percentiles() {
  awk '/^> / {n++; if ($2=="NOERROR") ok++; print $NF*1000 > "/dev/stderr"} END {printf "%.1f\n", (n ? 100*ok/n : 0)}' "$1" 2>"$1.lat" >"$1.ok"
  sort -n "$1.lat" | awk -v ok="$(cat "$1.ok")" '{v[NR]=$1} END {printf "%.3f %.3f %.3f %s\n", v[int(NR*0.5)+1], v[int(NR*0.99)+1], v[int(NR*0.999)+1], ok}'
}

results="$logs/results.txt"
: >"$results"
# The first four targets run in the throughput rounds; the twin's two (the control) run in the latency slices only.
labels=(unbound-keys pkarr-cached unbound-icann forwarded-cached twin-keys twin-icann)
ports=("$unbound_port" "$dns_port" "$unbound_port" "$dns_port" "$twin_port" "$twin_port")
files=("$work/pkarr.txt" "$work/pkarr.txt" "$work/icann.txt" "$work/icann.txt" "$work/pkarr.txt" "$work/icann.txt")
for round in $(seq "$repeat"); do
  for t in 0 1 2 3; do
    out="$logs/${labels[t]}.$round.throughput.txt"
    log "round $round, ${labels[t]}: throughput, $seconds s"
    dnsperf -s 127.0.0.1 -p "${ports[t]}" -d "${files[t]}" -l "$seconds" -c "$clients" -q "$outstanding" >"$out" 2>&1
    echo "throughput ${labels[t]} $(summary "$out")" | tee -a "$results"
  done
done

targets=${#labels[@]}
log "latency: $slices slices of $slice_seconds s per target at $rate q/s, the $targets targets taking turns"
for t in $(seq 0 $((targets - 1))); do : >"$work/${labels[t]}.latency.txt"; done
slice_stats="$logs/slices.txt"   # "slice target p50_ms p99_ms p999_ms replies", one line per slice and target
: >"$slice_stats"
# Each round runs the targets in a new random order (seeded, so a rerun has the same orders). A server's p99 in a slice
# depends on how long it sat idle before (longer idle, colder caches: ours suffers more than unbound's) and on what ran
# just before; a fixed cyclic order gives each target the same predecessor and the same idle time in every round.
mapfile -t orders < <(python3 -c 'import random, sys
r = random.Random(13)
for _ in range(int(sys.argv[1])):
    order = list(range(int(sys.argv[2]))); r.shuffle(order); print(" ".join(map(str, order)))' "$slices" "$targets")
for slice in $(seq "$slices"); do
  for t in ${orders[slice - 1]}; do
    dnsperf -s 127.0.0.1 -p "${ports[t]}" -d "${files[t]}" -l "$slice_seconds" -c "$clients" -Q "$rate" -v \
      2>/dev/null | grep '^> ' >"$work/slice.txt" || true
    cat "$work/slice.txt" >>"$work/${labels[t]}.latency.txt"
    awk '{print $NF*1000}' "$work/slice.txt" | sort -n \
      | awk -v s="$slice" -v l="${labels[t]}" '{v[NR]=$1} END {if (NR) printf "%s %s %.3f %.3f %.3f %d\n", s, l, v[int(NR*0.5)+1], v[int(NR*0.99)+1], v[int(NR*0.999)+1], NR}' \
      >>"$slice_stats"
  done
  [ $((slice % 10)) -eq 0 ] && log "latency: $slice of $slices slices"
done
for t in $(seq 0 $((targets - 1))); do
  echo "latency ${labels[t]} $(percentiles "$work/${labels[t]}.latency.txt") $(grep -c '^> ' "$work/${labels[t]}.latency.txt")" | tee -a "$results"
done

commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (uncommitted changes in src)')"
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), Linux $(uname -r), .NET $(dotnet --version), $(unbound -V | head -1 | sed "s/^Version/unbound/"), dnsperf $(dnsperf -h 2>&1 | awk '/Version/ {print $2}')"
table="$(python3 - "$results" "$machine" "$commit" "$stamp" "$names" "$seconds" "$clients" "$outstanding" "$rate" "$repeat" "$slices" "$slice_seconds" "$ttl" "$slice_stats" <<'EOF'
import math
import statistics
import sys
path, machine, commit, stamp, names, seconds, clients, outstanding, rate, repeat, slices, slice_seconds, ttl, slice_path = sys.argv[1:]
runs, latency = {}, {}
for line in open(path):
    kind, label, *fields = line.split()
    if kind == "throughput":
        qps, avg, completed = fields
        runs.setdefault(label, []).append(dict(qps=float(qps), avg=float(avg), completed=completed))
    else:
        p50, p99, p999, ok, replies = fields
        latency[label] = dict(p50=float(p50), p99=float(p99), p999=float(p999), ok=ok, replies=int(replies))
# Each target's median round by qps; its latency pooled over its slices.
rows = {}
for label, rounds in runs.items():
    row = dict(sorted(rounds, key=lambda r: r["qps"])[len(rounds) // 2])
    row.update(latency[label])
    row["range"] = f"{min(r['qps'] for r in rounds):.0f}–{max(r['qps'] for r in rounds):.0f}"
    rows[label] = row
ceiling = {"pkarr-cached": "unbound-keys", "forwarded-cached": "unbound-icann", "twin-keys": "unbound-keys", "twin-icann": "unbound-icann"}
names_of = {"unbound-keys": "unbound, local-data (the key names)", "pkarr-cached": "pkarr dns, Pkarr names (packet cache)",
            "unbound-icann": "unbound, local-data (ICANN names)", "forwarded-cached": "pkarr dns, forwarded names (answer cache)",
            "twin-keys": "unbound's twin (the key names)", "twin-icann": "unbound's twin (ICANN names)"}
print(f"Run {stamp} at commit {commit}; {machine}.")
print(f"{names} names (records' TTL {ttl} s); throughput: `dnsperf -l {seconds} -c {clients} -q {outstanding}`, {repeat} rounds, targets interleaved, median round shown; "
      f"latency: `dnsperf -l {slice_seconds} -c {clients} -Q {rate} -v` in {slices} slices per target, targets taking turns in a random order.")
print()
print("| target | qps | qps over the rounds | vs unbound | avg latency (ms) | completed | p50 / p99 / p99.9 at %s q/s, every reply (ms) | p99 vs unbound | replies | NOERROR |" % rate)
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for label in ["unbound-keys", "pkarr-cached", "unbound-icann", "forwarded-cached"]:
    r = rows[label]
    base = rows.get(ceiling.get(label, ""), None)
    ratio = f"{r['qps'] / base['qps']:.2f}x" if base else "1.00x"
    p99 = f"{r['p99'] / base['p99']:.2f}x" if base and base['p99'] > 0 else "1.00x"
    print(f"| {names_of[label]} | {r['qps']:.0f} | {r['range']} | {ratio} | {r['avg']:.3f} | {r['completed']}% | {r['p50']:.3f} / {r['p99']:.3f} / {r['p999']:.3f} | {p99} | {r['replies']} | {r['ok']}% |")

# Each slice's p99, paired with unbound's of the same round: a stall of the VM lands in a few slices and sets the
# pooled p99 of whichever targets ran then, while the paired ratios compare servers that met the same moments. Their
# geometric mean comes with a 95% confidence interval (Student's t on the log ratios); the twin's row is the control,
# what the same figures say of unbound against itself.
per_slice = {}
for line in open(slice_path):
    slice_no, label, _p50, p99, _p999, _n = line.split()
    per_slice.setdefault(label, {})[int(slice_no)] = float(p99)

def t_quantile(df):
    # The 97.5th percentile of Student's t (Cornish-Fisher expansion about the normal's; within 0.2% from df 10 on).
    z = statistics.NormalDist().inv_cdf(0.975)
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)

print()
print(f"p99 slice by slice ({slices} slices of {slice_seconds} s per target), each paired with unbound's of the same round:")
print()
print("| target | median slice p99, target / unbound (ms) | paired p99 ratio, geometric mean [95% CI] | slices ≤ unbound's p99 |")
print("|---|---:|---:|---:|")
for label in ["pkarr-cached", "twin-keys", "forwarded-cached", "twin-icann"]:
    mine, theirs = per_slice.get(label, {}), per_slice.get(ceiling[label], {})
    paired = [n for n in sorted(mine) if n in theirs and mine[n] > 0 and theirs[n] > 0]
    if len(paired) < 3:
        print(f"| {names_of[label]} | - | - | - |")
        continue
    logs = [math.log(mine[n] / theirs[n]) for n in paired]
    mean, half = statistics.fmean(logs), t_quantile(len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
    medians = f"{statistics.median(mine[n] for n in paired):.3f} / {statistics.median(theirs[n] for n in paired):.3f}"
    ratio = f"{math.exp(mean):.2f}x [{math.exp(mean - half):.2f}–{math.exp(mean + half):.2f}]"
    print(f"| {names_of[label]} | {medians} | {ratio} | {sum(mine[n] <= theirs[n] for n in paired)} of {len(paired)} |")
EOF
)"
printf '\n%s\n' "$table" | tee "$logs/table.md"

if [ "$write" = 1 ]; then
  python3 - "$root/docs/benchmarks-dns.md" "$logs/table.md" <<'EOF'
import sys
doc, table = sys.argv[1], open(sys.argv[2]).read().strip()
text = open(doc).read()
begin, end = "<!-- results:begin -->", "<!-- results:end -->"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(doc, "w").write(f"{head}{begin}\n{table}\n{end}{tail}")
EOF
  log "results written to docs/benchmarks-dns.md"
fi
