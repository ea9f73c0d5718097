#!/usr/bin/env bash
# Benchmark for the device plane (issue 11), on this machine, simulator included:
#   1. JITP: N new devices (certificates issued under a fresh CA) connect over mutual TLS and
#      are provisioned just in time, `--concurrency` at a time: devices/s;
#   2. the same N devices on their keep-alive mTLS connections check in back to back for
#      SECONDS: check-ins/s, p50/p99, server RSS;
#   3. baseline, same connections: `GET /v1/device/ping` (authenticated no-op) back to back
#      for SECONDS: pings/s, p50/p99; check-ins/s as a share of it;
#   4. KNOWN devices (default 100,000) imported into the product: the server's RSS after a
#      ping run of the N devices, beside its RSS with none.
# One `fleet simulate --check-ins-only --ping` run gives 1–3 (JSON summary). Server RSS from
# /proc/PID/status (VmRSS now, VmHWM peak).
# Usage: bench/devices.sh [N] [SECONDS] [KNOWN]   (defaults 10000, 30, 100000)
#   FLEET_BIN=path uses that build instead of `cargo build --release`.
# Needs python3, curl, jq.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-10000}
SECONDS_EACH=${2:-30}
KNOWN=${3:-100000}
for tool in python3 curl jq; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install $tool)" >&2; exit 1; }
done
# Every simulated device holds a socket, and the server one per device: 2N descriptors here.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((N + 1000)) ]; then
  echo "open-file limit $(ulimit -n) is below N + 1000; raise the hard limit" >&2; exit 1
fi

if [ -n "${FLEET_BIN:-}" ]; then
  BIN=$FLEET_BIN
else
  cargo build --release --locked --quiet
  BIN=$PWD/target/release/fleet
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss_mib() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
ratio() { awk "BEGIN{ printf \"%.2f\", $1 / ($2 > 0 ? $2 : 0.001) }"; }

port=$(free_port)
device_port=$(free_port)
export FLEET_CONFIG_DIR=$work/config
RUST_LOG=warn "$BIN" server --listen "127.0.0.1:$port" --device-listen "127.0.0.1:$device_port" \
  --data-dir "$work/data" --no-profile 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 200); do
  curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done
fingerprint=$(grep -o 'SHA-256 [0-9a-f]\{64\}' "$work/server.log" | head -1 | cut -d' ' -f2)
[ -n "$fingerprint" ] || { echo "no device certificate fingerprint in the server log:" >&2; cat "$work/server.log" >&2; exit 1; }
export FLEET_API_URL=http://127.0.0.1:$port
FLEET_API_KEY=$(cat "$work/data/admin-api-key")
export FLEET_API_KEY

"$BIN" -q product create bench >/dev/null
"$BIN" -q ca generate bench-factory --out "$work/ca" >/dev/null
"$BIN" -q ca add factory -P bench --cert "$work/ca/ca.pem" --jitp >/dev/null
rss_idle=$(rss_mib "$server_pid" VmRSS)

simulate() {
  "$BIN" -q simulate --device-url "https://127.0.0.1:$device_port" --server-fingerprint "$fingerprint" \
    --ca "$work/ca" --count "$N" --concurrency 200 -o json "$@"
}

# 1–3: JITP of N new devices, then check-ins and pings over the same connections.
# The simulator's own peak RSS too, when GNU time is there.
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f %M -o "$work/sim.rss" bash -c "$(declare -f simulate); $(declare -p BIN device_port fingerprint work N); simulate --check-ins-only --ping --duration ${SECONDS_EACH}s" >"$work/run.json"
  sim_rss=$(awk '{ printf "%.1f", $1 / 1024 }' "$work/sim.rss")
else
  simulate --check-ins-only --ping --duration "${SECONDS_EACH}s" >"$work/run.json"
  sim_rss=-
fi
rss_load=$(rss_mib "$server_pid" VmRSS)
hwm_load=$(rss_mib "$server_pid" VmHWM)

# 4: KNOWN devices in the product, then the N simulated devices ping again (now known).
python3 - "$KNOWN" >"$work/known.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("identifier,description,tags,target")
for i in range(n):
    print(f"known-{i:07d},,site:bench,armv7-unknown-linux-gnueabihf")
PY
"$BIN" -q device import "$work/known.csv" --product bench --yes -o id >/dev/null
simulate --ping --duration 5s >"$work/known.json"
rss_known=$(rss_mib "$server_pid" VmRSS)
hwm_known=$(rss_mib "$server_pid" VmHWM)

j() { jq -r "$1" "$work/run.json"; }
jitp_rate=$(j '.load.provisioning.per_s'); jitp_s=$(j '.load.provisioning.seconds | . * 10 | round / 10')
ci_rate=$(j '.load.check_ins.per_s'); ci_p50=$(j '.load.check_ins.latency_ms.p50'); ci_p99=$(j '.load.check_ins.latency_ms.p99')
ping_rate=$(j '.load.ping.per_s'); ping_p50=$(j '.load.ping.latency_ms.p50'); ping_p99=$(j '.load.ping.latency_ms.p99')
errors=$(j '.errors'); provisioned=$(j '.provisioned')

echo
echo "devices: $N simulated ($provisioned provisioned, $errors request errors), ${SECONDS_EACH}s per phase, $(nproc) cores"
printf '%-46s %12s %10s %10s %14s\n' measure rate p50_ms p99_ms vs_baseline
printf '%-46s %12.0f %10s %10s %14s\n' "JITP of $N new devices (devices/s, ${jitp_s}s)" "$jitp_rate" - - "target 1000/s"
printf '%-46s %12.0f %10.2f %10.2f %14s\n' "GET /v1/device/ping (baseline, req/s)" "$ping_rate" "$ping_p50" "$ping_p99" 1.00
printf '%-46s %12.0f %10.2f %10.2f %14s\n' "POST /v1/device/check-in (check-ins/s)" "$ci_rate" "$ci_p50" "$ci_p99" "$(ratio "$ci_rate" "$ping_rate")"
echo
printf '%-46s %12s %12s\n' "server memory" "RSS_MiB" "peak_MiB"
printf '%-46s %12s %12s\n' "idle (product + CA, no devices)" "$rss_idle" -
printf '%-46s %12s %12s\n' "after $N devices' check-in and ping load" "$rss_load" "$hwm_load"
printf '%-46s %12s %12s\n' "+ $KNOWN known devices, $N pinging again" "$rss_known" "$hwm_known"
printf '%-46s %12s %12s\n' "the simulator itself ($N devices), peak" - "$sim_rss"
echo
echo "targets: >= 5000 check-ins/s, p99 < 50 ms, check-ins >= 0.5 x ping; JITP >= 1000/s; $KNOWN known devices < 200 MB"
