# Sourced by the DNS benchmark scripts: the child processes they start (append each pid to `pids`) are stopped and
# the scratch directory `$work` removed when the script exits, however it exits; free_port prints a free TCP/UDP
# port on 127.0.0.1.
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
