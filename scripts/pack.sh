#!/usr/bin/env bash
# Packs the NuGet packages (Release) into .artifacts/packages: the libraries Pkarr, Mainline, Pkarr.Client, Pkarr.Relay and
# Pkarr.DnsServer, and the pkarr .NET tool (package Pkarr.Cli), each with its symbols (.snupkg). Then checks them: every package carries
# its README and the MIT license expression, and the tool installs from that folder alone (no nuget.org) into a
# temporary tool path, where `pkarr --help`, `pkarr --version`, `pkarr keygen` and `pkarr pubkey` must work.
#
#   scripts/pack.sh              build and pack
#   scripts/pack.sh --no-build   pack what the last `dotnet build -c Release` left (scripts/test.sh passes this)
#
# Exits non-zero with one "pack: FAILED ..." line on the first problem; prints "pack: ok" otherwise.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

version=0.1.0   # must match <Version> in Directory.Build.props
projects=(Pkarr Mainline Pkarr.Client Pkarr.Relay Pkarr.DnsServer Pkarr.Cli)
out="$root/.artifacts/packages"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() { echo "pack: FAILED: $*" >&2; exit 1; }

build_flag=()
[ "${1:-}" = "--no-build" ] && build_flag=(--no-build)

grep -q "<Version>$version</Version>" Directory.Build.props || fail "Directory.Build.props does not set <Version>$version</Version>"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# A fresh folder: a stale package of the same version must never be the one installed below. One dotnet pack over
# a solution filter of the shipped projects costs one start-up and evaluation instead of four.
rm -rf "$out"
mkdir -p "$out"
python3 - "$root/Pkarr.slnx" "${projects[@]}" > "$tmp/packages.slnf" <<'PY'
import json, sys
print(json.dumps({"solution": {"path": sys.argv[1], "projects": [f"src/{p}/{p}.csproj" for p in sys.argv[2:]]}}))
PY
dotnet pack "$tmp/packages.slnf" -c Release --nologo -v q "${build_flag[@]}" -o "$out" >"$tmp/pack.log" 2>&1 \
  || { cat "$tmp/pack.log" >&2; fail "dotnet pack"; }

python3 - "$out" "$version" "${projects[@]}" <<'PY' || fail "package contents (above)"
import sys, zipfile, xml.etree.ElementTree as ET
out, version, projects = sys.argv[1], sys.argv[2], sys.argv[3:]
problems = []
for project in projects:
    path = f"{out}/{project}.{version}.nupkg"
    try:
        package = zipfile.ZipFile(path)
    except OSError:
        problems.append(f"{path} is missing")
        continue
    names = package.namelist()
    nuspec = ET.fromstring(package.read(f"{project}.nuspec"))
    meta = {e.tag.split('}')[1]: e for e in nuspec.find("{*}metadata")}
    license = meta.get("license")
    if license is None or license.get("type") != "expression" or license.text != "MIT":
        problems.append(f"{project}: license is not the MIT expression")
    if "README.md" not in names or meta.get("readme") is None:
        problems.append(f"{project}: no README.md")
    for required in ("authors", "description"):
        if meta.get(required) is None or not (meta[required].text or "").strip():
            problems.append(f"{project}: no {required}")
    is_tool = project == "Pkarr.Cli"
    if is_tool != any(n.endswith("DotnetToolSettings.xml") for n in names):
        problems.append(f"{project}: {'not' if is_tool else 'unexpectedly'} a .NET tool")
    try:
        zipfile.ZipFile(f"{out}/{project}.{version}.snupkg")
    except OSError:
        problems.append(f"{project}: no symbols package")
for p in problems:
    print("pack:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

# Install the tool from the local folder only: a config that clears every other source, and an empty package
# cache, so nothing is fetched from the network and no earlier 0.1.0 from the user's cache is reused.
cat > "$tmp/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$out" />
  </packageSources>
</configuration>
CONFIG
NUGET_PACKAGES="$tmp/packages" dotnet tool install --tool-path "$tmp/tools" --configfile "$tmp/nuget.config" \
  --add-source "$out" Pkarr.Cli --version "$version" >"$tmp/install.log" 2>&1 \
  || { cat "$tmp/install.log" >&2; fail "dotnet tool install Pkarr.Cli"; }
pkarr="$tmp/tools/pkarr"
[ -x "$pkarr" ] || fail "the tool has no pkarr command"

help="$("$pkarr" --help)" || fail "pkarr --help exited with $?"
for command in keygen pubkey sign inspect dht testnet; do
  grep -q "^  $command " <<<"$help" || fail "pkarr --help does not list '$command'"
done
installed="$("$pkarr" --version)" || fail "pkarr --version"
[[ "$installed" == "$version"* ]] || fail "pkarr --version printed '$installed', expected $version"

key="$("$pkarr" keygen --out "$tmp/test.key" 2>/dev/null)" || fail "pkarr keygen"
[[ "$key" =~ ^[ybndrfg8ejkmcpqxot1uwisza345h769]{52}$ ]] || fail "pkarr keygen printed '$key', not a z-base32 key"
[ "$("$pkarr" pubkey --secret "$tmp/test.key")" = "$key" ] || fail "pkarr pubkey does not print the key keygen printed"
[ "$("$pkarr" pubkey --secret "$tmp/test.key" --uri)" = "pk:$key" ] || fail "pkarr pubkey --uri"

echo "pack: ok ($(cd "$out" && ls -- *.nupkg | tr '\n' ' ')in .artifacts/packages; the pkarr tool installs and runs)"
