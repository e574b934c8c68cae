#!/usr/bin/env bash
# The main job, until the relay exists: a full offline round trip through the `pkarr` command:
# a new key, a zone file signed into a packet, the packet published as a BEP 44 mutable item on a private
# Mainline DHT (a local testnet of 30 nodes on 127.0.0.1, so no network is needed), resolved back from it,
# verified and printed. Pass a directory to keep the files there (default: a temporary one).
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

pkarr sign --secret "$key_file" --zone "$zone" --out "$work/packet.hex"
packet="$(cat "$work/packet.hex")"
echo "signed $((${#packet} / 2)) bytes for pk:$key (files in $work)"

# The packet on the DHT: k = key, seq = timestamp, v = DNS bytes; the signature BEP 44 makes is the packet's.
# The binary itself in the background (not the shell function), so that $! is the process to stop.
"$root/.artifacts/cli/pkarr" testnet --nodes 30 --duration 120 --json > "$work/testnet.json" &
testnet_pid=$!
trap 'kill "$testnet_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  [ -s "$work/testnet.json" ] && break
  sleep 0.25
done
bootstrap="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bootstrap"][0])' "$work/testnet.json")"
timestamp=$((16#${packet:192:16}))
pkarr dht put-mutable --secret "$key_file" --value-hex "${packet:208}" --seq "$timestamp" --bootstrap "$bootstrap"
pkarr dht get-mutable "$key" --most-recent --json --bootstrap "$bootstrap" > "$work/resolved.json"
relay_payload="$(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(d["signature"] + "%016x" % d["seq"] + d["value_hex"])' "$work/resolved.json")"
echo "resolved from the DHT:"
pkarr inspect "$relay_payload" --key "$key"
