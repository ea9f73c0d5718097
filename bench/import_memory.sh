#!/usr/bin/env bash
# Peak memory (max RSS) of the CLI during `fleet device import` of an N-row CSV, against a local
# service on a fresh data dir. Each client imports the same file into its own product, twice in
# alternation, so both face the same service. The baseline is `cat FILE > /dev/null` (the cost
# of reading the file at all) and the file's own size.
# Usage: bench/import_memory.sh [N] [BASELINE_FLEET]
#   N defaults to 100000; BASELINE_FLEET is another build to compare with (e.g. the previous
#   release). Needs /usr/bin/time (GNU), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-100000}
BASE=${2:-}
for tool in /usr/bin/time curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

cargo build --release --locked --quiet
BIN=$PWD/target/release/fleet

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export FLEET_CONFIG_DIR=$work/config
RUST_LOG=warn "$BIN" server --listen "127.0.0.1:$port" --data-dir "$work/data" --no-profile 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done
export FLEET_API_URL=http://127.0.0.1:$port
FLEET_API_KEY=$(cat "$work/data/admin-api-key")
export FLEET_API_KEY

python3 - "$N" >"$work/devices.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("identifier,description,tags,target")
for i in range(n):
    print(f"sn-{i:07d},factory batch 7 line {i % 12},site:berlin;line:consumer;batch:7,armv7-unknown-linux-gnueabihf")
PY
size=$(stat -c %s "$work/devices.csv")

# Prints "max_rss_kib seconds" for one run of the command.
measure() {
  /usr/bin/time -f '%M %e' -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || {
    cat "$work/err.txt" >&2; exit 1; }
  cat "$work/time.txt"
}

clients=("this:$BIN")
[ -n "$BASE" ] && clients+=("baseline:$BASE")
printf '%-10s %6s %12s %10s\n' client run max_rss_MiB seconds
read -r rss secs < <(measure cat "$work/devices.csv")
printf '%-10s %6s %12.1f %10s\n' "cat" 1 "$(echo "$rss / 1024" | bc -l)" "$secs"
for run in 1 2; do
  for client in "${clients[@]}"; do
    name=${client%%:*}; bin=${client#*:}
    product="p-$name-$run"
    "$BIN" -q product create "$product" >/dev/null
    read -r rss secs < <(measure "$bin" -q device import "$work/devices.csv" --product "$product" --yes -o id)
    printf '%-10s %6s %12.1f %10s\n' "$name" "$run" "$(echo "$rss / 1024" | bc -l)" "$secs"
  done
done
echo "file: $N rows, $((size / 1024)) KiB"
