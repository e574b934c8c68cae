#!/usr/bin/env bash
# The main job: a pkarr relay on this machine, offline. It builds the `pkarr` command and runs `pkarr relay
# --testnet` in the foreground: the relay's HTTP API and page on http://127.0.0.1:15411/, in front of a private
# 10-node Mainline DHT on 127.0.0.1 in the same process (no public network), with an ephemeral store. It prints
# commands to paste (publish and resolve through it with the CLI or curl); Ctrl+C stops it. Extra arguments go to
# `pkarr relay`, e.g. `scripts/run.sh --cache-dir DIR` to keep the packets, or `--http-port N`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"

dotnet build "$root/src/Pkarr.Cli" -c Release --nologo -v q -o "$root/.artifacts/cli" >/dev/null
# The apphost is named after the assembly (Pkarr.Cli); a copy named pkarr runs the same program.
cp "$root/.artifacts/cli/Pkarr.Cli" "$root/.artifacts/cli/pkarr"

echo "starting a pkarr relay on a private testnet; open http://127.0.0.1:15411/ to resolve and publish from a browser (Ctrl+C stops it)"
echo "the pkarr command is $root/.artifacts/cli/pkarr"
exec "$root/.artifacts/cli/pkarr" relay --testnet "$@"
