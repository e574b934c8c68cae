#!/usr/bin/env bash
# Runs every test of the solution, then scripts/pack.sh (the NuGet packages and the installed pkarr tool, counted
# as one check), and prints one summary line: "N passed, N failed[, N skipped]".
# Exits non-zero when a test or the packing failed, or nothing ran.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh || exit 1

results="$root/.artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

dotnet build Pkarr.slnx -c Release --nologo -v q
build=$?
if [ $build -ne 0 ]; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# One test assembly at a time: the interop tests start real peers whose start-up is timing-sensitive.
dotnet test Pkarr.slnx -c Release --no-build --nologo -m:1 \
  --logger "trx;LogFilePrefix=results" --logger "console;verbosity=minimal" \
  --results-directory "$results" "$@"
status=$?

# The packages, and the pkarr tool installed from them, count as one more check.
bash scripts/pack.sh --no-build
pack=$?

python3 - "$results" "$pack" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    counters = ET.parse(path).getroot().find("t:ResultSummary/t:Counters", ns)
    if counters is None:
        continue
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0)) + int(counters.get("aborted", 0))
    skipped += int(counters.get("notExecuted", 0))
tests_ran = passed + failed
if sys.argv[2] == "0":
    passed += 1
else:
    failed += 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or tests_ran == 0 else 0)
PY
summary=$?
if [ $status -ne 0 ] || [ $summary -ne 0 ]; then
  exit 1
fi
