#!/usr/bin/env bash
# Check-in throughput with and without the statistics' summary triggers (issue 12's question:
# do migrations 0013 and 0017 cost check-ins more than 10 %?). SQLite only. One data directory:
#   1. a server, one product with a cohort, one CA with JITP: N devices (`fleet simulate`) are
#      provisioned and check in once;
#   2. ROUNDS rounds of two runs each, alternating: the server is stopped, the triggers on the
#      tables a check-in or an update report writes (device_status_*, device_running_*,
#      release_devices_* — the devices_* ones fire only when a device row changes) are dropped
#      from the database with sqlite3 or created again from the text saved from sqlite_master,
#      the server is started again, and the N devices connect, check in back to back for
#      SECONDS, then ping (the authenticated no-op) for SECONDS on the same connections.
# Prints check-ins/s, p50/p99 and pings/s per run, and the means' ratio without/with. What this
# does not measure: the rest of that change (the index on (product, cohort, last_seen_at) in
# place of last_seen_at alone, the product/cohort columns on device_status and device_running).
# Usage: bench/checkin_triggers.sh [N] [SECONDS]   (defaults 2000, 20); ROUNDS (default 2);
#   FLEET_BIN=path uses that build instead of `cargo build --release --locked`.
# Needs python3, curl, jq, sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-2000}
SECONDS_EACH=${2:-20}
ROUNDS=${ROUNDS:-2}
for tool in python3 curl jq sqlite3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install $tool)" >&2; exit 1; }
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ -n "${FLEET_BIN:-}" ]; then
  BIN=$FLEET_BIN
else
  cargo build --release --locked --quiet
  BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/fleet
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average at start: $(load)" >&2

port=$(free_port)
device_port=$(free_port)
export FLEET_CONFIG_DIR=$work/config
export FLEET_API_URL=http://127.0.0.1:$port
start_server() {
  RUST_LOG=warn "$BIN" server --listen "127.0.0.1:$port" --device-listen "127.0.0.1:$device_port" \
    --data-dir "$work/data" --no-profile --max-connections $((N + 500)) 2>>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 1 300); do
    curl -fsS "$FLEET_API_URL/v1/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not start:" >&2; cat "$work/server.log" >&2; exit 1
}
stop_server() { kill "$server_pid"; wait "$server_pid" || true; server_pid=""; }
start_server
fingerprint=$(grep -o 'SHA-256 [0-9a-f]\{64\}' "$work/server.log" | head -1 | cut -d' ' -f2)
FLEET_API_KEY=$(cat "$work/data/admin-api-key")
export FLEET_API_KEY
"$BIN" -q product create bench >/dev/null
"$BIN" -q cohort create main --product bench >/dev/null
"$BIN" -q ca generate bench-factory --out "$work/ca" >/dev/null
"$BIN" -q ca add factory -P bench --cert "$work/ca/ca.pem" --jitp --jitp-cohort main >/dev/null
simulate() {
  "$BIN" -q simulate --device-url "https://127.0.0.1:$device_port" --server-fingerprint "$fingerprint" \
    --ca "$work/ca" --count "$N" --concurrency 200 --running app@1.0.0 \
    --target armv7-unknown-linux-gnueabihf -o json "$@"
}
simulate --check-ins-only --duration 1s >"$work/jitp.json"

db=$work/data/fleet.db
triggers="'device_status_counted','device_status_recounted','device_status_uncounted',
  'device_running_counted','device_running_recounted','device_running_uncounted',
  'release_devices_counted','release_devices_recounted','release_devices_uncounted',
  'release_devices_timed','release_devices_retimed','release_devices_untimed'"
expected=12
stop_server
sqlite3 "$db" "SELECT sql || ';' FROM sqlite_master WHERE type = 'trigger' AND name IN ($triggers)" >"$work/triggers.sql"
[ "$(grep -c 'CREATE TRIGGER' "$work/triggers.sql")" = "$expected" ] || { echo "expected $expected triggers, found:" >&2; cat "$work/triggers.sql" >&2; exit 1; }
sqlite3 "$db" "SELECT 'DROP TRIGGER ' || name || ';' FROM sqlite_master WHERE type = 'trigger' AND name IN ($triggers)" >"$work/drop.sql"

for r in $(seq 1 "$ROUNDS"); do
  for mode in with without; do
    if [ "$mode" = with ]; then
      [ "$(sqlite3 "$db" "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ($triggers)")" = "$expected" ] ||
        sqlite3 "$db" <"$work/triggers.sql"
    else
      sqlite3 "$db" <"$work/drop.sql"
    fi
    have=$(sqlite3 "$db" "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ($triggers)")
    start_server
    simulate --check-ins-only --ping --duration "${SECONDS_EACH}s" >"$work/$mode-$r.json"
    stop_server
    echo "$r $mode $have $(load)" >>"$work/rounds"
    echo "   round $r $mode ($have triggers): $(jq -r '.load.check_ins.per_s | round' "$work/$mode-$r.json") check-ins/s, load $(load)" >&2
  done
done
# Leave the database as the migrations made it (and as the server expects it).
[ "$(sqlite3 "$db" "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ($triggers)")" = "$expected" ] ||
  sqlite3 "$db" <"$work/triggers.sql"

echo
echo "check-ins with and without the summary triggers: SQLite, $N devices, ${SECONDS_EACH}s phases, $ROUNDS rounds, $(nproc) cores"
printf '%-6s %-8s %9s %12s %8s %8s %9s %8s %7s  %s\n' round triggers present check-ins/s p50_ms p99_ms pings/s ci/ping errors "load after"
while read -r r mode have l1 l2 l3; do
  f=$work/$mode-$r.json
  printf '%-6s %-8s %9s %12.0f %8.1f %8.1f %9.0f %8.2f %7s  %s\n' "$r" "$mode" "$have" \
    "$(jq '.load.check_ins.per_s' "$f")" "$(jq '.load.check_ins.latency_ms.p50' "$f")" \
    "$(jq '.load.check_ins.latency_ms.p99' "$f")" "$(jq '.load.ping.per_s' "$f")" \
    "$(jq '.load.check_ins.per_s / .load.ping.per_s' "$f")" "$(jq '.errors' "$f")" "$l1 $l2 $l3"
done <"$work/rounds"
mean() { jq -s "map(.load.$2.per_s) | add / length" "$work"/"$1"-*.json; }
w=$(mean with check_ins); wo=$(mean without check_ins); wp=$(mean with ping); wop=$(mean without ping)
awk -v w="$w" -v wo="$wo" -v wp="$wp" -v wop="$wop" 'BEGIN {
  printf "mean check-ins/s: with triggers %.0f, without %.0f: with/without = %.3f (a drop of %.1f %%; each normalised by its pings: %.3f)\n",
    w, wo, w / wo, 100 * (1 - w / wo), (w / wp) / (wo / wop) }'
