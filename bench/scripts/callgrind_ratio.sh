#!/usr/bin/env bash
# Instructions per call of the signed-packet benchmarks, counted by callgrind: the same count on every run of the
# same build, whatever else the machine is doing (timings on a shared 2-core VM move by ±15 %).
# Each method runs twice, LOW and HIGH times after the same set-up and warm-up; (HIGH run − LOW run) ÷ (HIGH − LOW)
# is the cost of one call. JIT tiering is off so that compilation happens once, before the counted calls.
#
#   bench/scripts/callgrind_ratio.sh [SIZE ...]      default: small large
set -euo pipefail
cd "$(dirname "$0")/../.."
LOW=${LOW:-100}
HIGH=${HIGH:-400}
dotnet build -c Release bench/Pkarr.Benchmarks -v q -nologo >/dev/null
exe=bench/Pkarr.Benchmarks/bin/Release/net10.0/Pkarr.Benchmarks
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

count() { # method size iterations -> total instructions of the process
  DOTNET_TieredCompilation=0 DOTNET_ReadyToRun=0 DOTNET_gcServer=0 \
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$exe" count "$1" "$2" "$3" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

per_call() { # method size
  local low high
  low=$(count "$1" "$2" "$LOW")
  high=$(count "$1" "$2" "$HIGH")
  echo $(( (high - low) / (HIGH - LOW) ))
}

sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(small large)
printf '%-6s %-14s %14s %8s\n' size method instructions ratio
for size in "${sizes[@]}"; do
  raw_sign=$(per_call raw-sign "$size")
  raw_verify=$(per_call raw-verify "$size")
  for pair in build-sign:$raw_sign sign-filled:$raw_sign raw-sign:$raw_sign decode-verify:$raw_verify raw-verify:$raw_verify; do
    method=${pair%%:*}
    limit=${pair##*:}
    if [ "$method" = raw-sign ]; then n=$raw_sign; elif [ "$method" = raw-verify ]; then n=$raw_verify; else n=$(per_call "$method" "$size"); fi
    # ratio of throughputs = limit's instructions ÷ ours
    printf '%-6s %-14s %14d %8s\n' "$size" "$method" "$n" "$(python3 -c "print(f'{$limit/$n:.3f}')")"
  done
done
