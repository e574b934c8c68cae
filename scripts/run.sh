#!/usr/bin/env bash
# The main job, until the relay exists: a full offline round trip through the `pkarr` command:
# a new key, a zone file signed into a packet, and the packet verified and printed back.
# Needs no network. Pass a directory to keep the files there (default: a temporary one).
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
echo "signed $(($(wc -c < "$work/packet.hex") / 2)) bytes for pk:$key (files in $work)"
pkarr inspect --file "$work/packet.hex"
