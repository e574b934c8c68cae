#!/usr/bin/env bash
# The main job: a full offline round trip through the `pkarr` command, on a fresh machine without internet.
# A private Mainline DHT of 30 nodes on 127.0.0.1 (`pkarr testnet`), a new key, a zone file signed and published
# to it (`pkarr publish`), then resolved back from the network alone (`pkarr resolve --policy network-only`, with
# its own cache directory) and printed as a zone file. Pass a directory to keep the files there (default: a
# temporary one).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"

work="${1:-$(mktemp -d)}"
mkdir -p "$work"
dotnet build "$root/src/Pkarr.Cli" -c Release --nologo -v q -o "$root/.artifacts/cli" >/dev/null
# The apphost is named after the assembly (Pkarr.Cli); a copy named pkarr runs the same program.
cp "$root/.artifacts/cli/Pkarr.Cli" "$root/.artifacts/cli/pkarr"
pkarr() { "$root/.artifacts/cli/pkarr" "$@"; }

key_file="$work/pkarr.key"
[ -f "$key_file" ] || pkarr keygen --out "$key_file" >/dev/null
key="$(pkarr pubkey --secret "$key_file")"

zone="$work/example.zone"
cat > "$zone" <<ZONE
\$TTL 300
@        IN  A      192.0.2.10
@        IN  AAAA   2001:db8::10
www      IN  CNAME  @
_matrix  IN  TXT    "v=1 homeserver=matrix.example.org"
@        IN  HTTPS  1 . alpn=h2,h3 port=443
ZONE

# The binary itself in the background (not the shell function), so that $! is the process to stop.
"$root/.artifacts/cli/pkarr" testnet --nodes 30 --duration 120 --json > "$work/testnet.json" &
testnet_pid=$!
trap 'kill "$testnet_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  [ -s "$work/testnet.json" ] && break
  sleep 0.25
done
bootstrap="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bootstrap"][0])' "$work/testnet.json")"

# Each side has its own cache directory, so the resolve below can only be answered by the DHT.
echo "publishing pk:$key (files in $work)"
pkarr publish --secret "$key_file" --zone "$zone" --no-relays --bootstrap "$bootstrap" --cache-dir "$work/publisher-cache"
echo
echo "resolved from the DHT:"
pkarr resolve "$key" --policy network-only --no-relays --bootstrap "$bootstrap" --cache-dir "$work/resolver-cache"
