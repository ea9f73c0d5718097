#!/usr/bin/env bash
# Benchmark for the device plane (issue 11), on this machine, simulator included. One server,
# one run, every figure beside its baseline from the same run:
#   1. JITP: N new devices (certificates issued under a fresh CA, JITP on) connect over mutual
#      TLS, `--concurrency` at a time, and are provisioned just in time by their first
#      check-in: devices/s;
#   2. the same N devices on their keep-alive mTLS connections check in back to back for
#      SECONDS: check-ins/s, p50/p99;
#   3. baseline, same connections right after: `GET /v1/device/ping` (authenticated no-op)
#      back to back for SECONDS: pings/s, p50/p99; check-ins/s as a share of it;
#   4. KNOWN devices (default 100,000): further waves of N new devices (`fleet simulate --first`)
#      are provisioned by JITP and check in, until KNOWN devices exist, each with its status
#      row written (counted through `fleet device list --seen-within`). Then the server is
#      restarted on that data, so its memory holds no connections' leftovers: its RSS idle with
#      KNOWN devices (beside the fresh server's idle RSS with none, step 0), then while the first
#      N check in back to back again for SECONDS_KNOWN (beside step 2's peak with N known).
# Waves of N rather than one simulator with KNOWN connections: every process here may open at
# most `ulimit -Hn` files (20,000 on the machine of bench/RESULTS.md) and the server serves at
# most --max-connections at once, so KNOWN simultaneous TLS connections cannot exist.
# CPU of the server and the simulator per phase: /proc/PID/stat sampled every 0.5 s (phase
# times from the simulator's JSON summary). RSS: /proc/PID/status (VmRSS now, VmHWM peak).
# Usage: bench/devices.sh [N] [SECONDS] [KNOWN]   (defaults 10000, 30, 100000)
#   FLEET_BIN=path uses that build instead of `cargo build --release --locked`;
#   FLEET_DATABASE_URL=postgres://… runs the server on PostgreSQL (else SQLite in a temp dir);
#   SECONDS_KNOWN (default 10), CONCURRENCY (default 200, devices connecting at once);
#   SHALLOW (default 1000): after step 3, the first SHALLOW devices alone check in and ping for
#   SECONDS_KNOWN — the same requests with SHALLOW instead of N waiting in the server at once;
#   BENCH_OUT=dir keeps the simulator's JSON summaries, the CPU/RSS samples and the server logs.
# Needs python3, curl, jq.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-10000}
SECONDS_EACH=${2:-30}
KNOWN=${3:-100000}
SECONDS_KNOWN=${SECONDS_KNOWN:-10}
CONCURRENCY=${CONCURRENCY:-200}
for tool in python3 curl jq; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install $tool)" >&2; exit 1; }
done
# Every simulated device holds a socket, and the server one per device: N descriptors each.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((N + 1000)) ]; then
  echo "open-file limit $(ulimit -n) is below N + 1000; raise the hard limit" >&2; exit 1
fi

if [ -n "${FLEET_BIN:-}" ]; then
  BIN=$FLEET_BIN
else
  cargo build --release --locked --quiet
  BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/fleet
fi

work=$(mktemp -d)
server_pid=""
samplers=()
cleanup() {
  for pid in "${samplers[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "${BENCH_OUT:-}" ]; then
    mkdir -p "$BENCH_OUT" && cp "$work"/*.json "$work"/*.samples "$work"/*.log "$BENCH_OUT"/ 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss_mib() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
ratio() { awk "BEGIN{ printf \"%.2f\", $1 / ($2 > 0 ? $2 : 0.001) }"; }
now() { date +%s.%N; }
# Lines "unix_time cpu_ticks(user+system) VmRSS_kB VmHWM_kB" for PID, every 0.5 s while it lives.
sample() {
  while [ -r "/proc/$1/stat" ]; do
    { read -r _ _ rest <"/proc/$1/stat" && set -- "$1" $rest &&
      printf '%s %s %s %s\n' "$(now)" "$((${13} + ${14}))" \
        "$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status")" \
        "$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status")"; } 2>/dev/null || break
    sleep 0.5
  done
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
port=$(free_port)
device_port=$(free_port)
export FLEET_CONFIG_DIR=$work/config
# `start_server NAME`: a server on the data dir, its log in NAME.log, CPU/RSS in NAME.samples.
# The device listener must hold N connections and the admin API's few besides. Devices keep
# their connections between phases through the device listener's keep-alive (by default the
# check-in interval + 1 minute), so no phase starts with reconnects.
start_server() {
  RUST_LOG=warn "$BIN" server --listen "127.0.0.1:$port" --device-listen "127.0.0.1:$device_port" \
    --data-dir "$work/data" --no-profile --max-connections $((N + 500)) \
    2>"$work/$1.log" &
  server_pid=$!
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  sample "$server_pid" >"$work/$1.samples" &
  samplers+=($!)
}
stop_server() { kill "$server_pid"; wait "$server_pid" || true; server_pid=""; }
start_server server
fingerprint=$(grep -o 'SHA-256 [0-9a-f]\{64\}' "$work/server.log" | head -1 | cut -d' ' -f2)
[ -n "$fingerprint" ] || { echo "no device certificate fingerprint in the server log:" >&2; cat "$work/server.log" >&2; exit 1; }
export FLEET_API_URL=http://127.0.0.1:$port
FLEET_API_KEY=$(cat "$work/data/admin-api-key")
export FLEET_API_KEY

"$BIN" -q product create bench >/dev/null
"$BIN" -q ca generate bench-factory --out "$work/ca" >/dev/null
"$BIN" -q ca add factory -P bench --cert "$work/ca/ca.pem" --jitp >/dev/null
sleep 1
rss_idle=$(rss_mib "$server_pid" VmRSS)

# One simulator run: `simulate NAME ARGS…` writes NAME.json, NAME.samples (its own CPU/RSS) and
# NAME.end (when it exited). Devices report what they run and their target, as real ones do.
simulate() {
  local name=$1; shift
  "$BIN" -q simulate --device-url "https://127.0.0.1:$device_port" --server-fingerprint "$fingerprint" \
    --ca "$work/ca" --concurrency "$CONCURRENCY" --running app@1.0.0 \
    --target armv7-unknown-linux-gnueabihf -o json "$@" >"$work/$name.json" &
  local pid=$!
  sample "$pid" >"$work/$name.samples" &
  local sampler=$!
  wait "$pid"
  now >"$work/$name.end"
  wait "$sampler" 2>/dev/null || true
}
# devices whose check-in status is written (seen within the last hour)
seen() { "$BIN" -q device list -P bench --seen-within 1h -o id | wc -l; }

# 1–3: JITP of N new devices, then check-ins and pings over the same connections.
simulate run --count "$N" --check-ins-only --ping --duration "${SECONDS_EACH}s"
load_after_run=$(cut -d' ' -f1-3 /proc/loadavg)
rss_load=$(rss_mib "$server_pid" VmRSS)
hwm_load=$(rss_mib "$server_pid" VmHWM)
sleep 1
seen_run=$(seen)
SHALLOW=${SHALLOW:-1000}
simulate shallow --count "$SHALLOW" --check-ins-only --ping --duration "${SECONDS_KNOWN}s"

# 4: waves of N new devices (JITP + check-ins) until KNOWN exist, then the first N check in again.
waves=()
for first in $(seq "$N" "$N" $((KNOWN - 1))); do
  count=$(( KNOWN - first < N ? KNOWN - first : N ))
  simulate "wave-$first" --first "$first" --count "$count" --check-ins-only --duration 1s
  waves+=("wave-$first")
done
sleep 1
seen_known=$(seen)
rss_waves=$(rss_mib "$server_pid" VmRSS)
hwm_waves=$(rss_mib "$server_pid" VmHWM)
stop_server
start_server restarted
"$BIN" -q device list -P bench --limit 1 >/dev/null
sleep 1
rss_known_idle=$(rss_mib "$server_pid" VmRSS)
simulate known --count "$N" --check-ins-only --duration "${SECONDS_KNOWN}s"
rss_known=$(rss_mib "$server_pid" VmRSS)
hwm_known=$(rss_mib "$server_pid" VmHWM)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# CPU per phase: the phases run back to back and end when the simulator exits, so each one's
# window is known from the JSON's durations; 0.5 s is trimmed at each end.
cpu_table() {
  python3 - "$work" "$(getconf CLK_TCK)" "$@" <<'PY'
import json, sys
work, tck, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def load(path):
    out = []
    for line in open(path):
        p = line.split()
        if len(p) == 4:
            out.append((float(p[0]), int(p[1])))
    return out
def busy(samples, a, b):
    # CPU % between the first and last sample inside [a, b].
    inside = [s for s in samples if a <= s[0] <= b]
    if len(inside) < 2:
        return float("nan")
    (t0, c0), (t1, c1) = inside[0], inside[-1]
    return 100.0 * (c1 - c0) / tck / (t1 - t0)
for spec in names:
    name, server_file = spec.split(":")
    server = load(f"{work}/{server_file}.samples")
    summary = json.load(open(f"{work}/{name}.json"))["load"]
    sim = load(f"{work}/{name}.samples")
    end = float(open(f"{work}/{name}.end").read())
    phases = [(k, summary[k]["seconds"]) for k in ("provisioning", "check_ins", "ping") if summary.get(k)]
    # The phases are back to back: walk back from the end.
    t = end
    spans = []
    for k, s in reversed(phases):
        spans.append((k, t - s, t))
        t -= s
    for k, a, b in reversed(spans):
        print(f"{name} {k} {busy(server, a + 0.5, b - 0.5):.0f} {busy(sim, a + 0.5, b - 0.5):.0f}")
PY
}

j() { jq -r "$2" "$work/$1.json"; }
jitp_rate=$(j run '.load.provisioning.per_s'); jitp_s=$(j run '.load.provisioning.seconds | . * 10 | round / 10')
jitp_p50=$(j run '.load.provisioning.latency_ms.p50'); jitp_p99=$(j run '.load.provisioning.latency_ms.p99')
ci_rate=$(j run '.load.check_ins.per_s'); ci_p50=$(j run '.load.check_ins.latency_ms.p50'); ci_p99=$(j run '.load.check_ins.latency_ms.p99')
ping_rate=$(j run '.load.ping.per_s'); ping_p50=$(j run '.load.ping.latency_ms.p50'); ping_p99=$(j run '.load.ping.latency_ms.p99')
sh_ci=$(j shallow '.load.check_ins.per_s'); sh_ci50=$(j shallow '.load.check_ins.latency_ms.p50'); sh_ci99=$(j shallow '.load.check_ins.latency_ms.p99')
sh_p=$(j shallow '.load.ping.per_s'); sh_p50=$(j shallow '.load.ping.latency_ms.p50'); sh_p99=$(j shallow '.load.ping.latency_ms.p99')
kn_rate=$(j known '.load.check_ins.per_s'); kn_p50=$(j known '.load.check_ins.latency_ms.p50'); kn_p99=$(j known '.load.check_ins.latency_ms.p99')
errors=$(( $(j run '.errors') + $(j shallow '.errors') + $(j known '.errors') ))
for name in run shallow known; do
  [ "$(j $name '.errors')" = 0 ] || echo "$name: $(j $name '.errors') request errors, the first: $(j $name '.first_error')"
done
provisioned=$(j run '.provisioned')
sim_hwm=$(awk 'END { printf "%.1f", $4 / 1024 }' "$work/run.samples")

echo
echo "devices: $N simulated ($provisioned provisioned, $errors request errors), ${SECONDS_EACH}s per phase, $(nproc) cores"
echo "database: ${FLEET_DATABASE_URL:+PostgreSQL}${FLEET_DATABASE_URL:-SQLite}; load average: $load_after_run after the run, $load_end at the end"
printf '%-50s %12s %10s %10s %14s\n' measure rate p50_ms p99_ms vs_baseline
printf '%-50s %12.0f %10.2f %10.2f %14s\n' "JITP of $N new devices (devices/s, ${jitp_s}s)" "$jitp_rate" "$jitp_p50" "$jitp_p99" "target 1000/s"
printf '%-50s %12.0f %10.2f %10.2f %14s\n' "GET /v1/device/ping (baseline, req/s)" "$ping_rate" "$ping_p50" "$ping_p99" 1.00
printf '%-50s %12.0f %10.2f %10.2f %14s\n' "POST /v1/device/check-in (check-ins/s)" "$ci_rate" "$ci_p50" "$ci_p99" "$(ratio "$ci_rate" "$ping_rate")"
printf '%-50s %12.0f %10.2f %10.2f %14s\n' "$SHALLOW devices only: ping (req/s, ${SECONDS_KNOWN}s)" "$sh_p" "$sh_p50" "$sh_p99" 1.00
printf '%-50s %12.0f %10.2f %10.2f %14s\n' "$SHALLOW devices only: check-ins/s" "$sh_ci" "$sh_ci50" "$sh_ci99" "$(ratio "$sh_ci" "$sh_p")"
printf '%-50s %12.0f %10.2f %10.2f %14s\n' "$N check in, $seen_known known (restarted, ${SECONDS_KNOWN}s)" "$kn_rate" "$kn_p50" "$kn_p99" "$(ratio "$kn_rate" "$ping_rate")"
echo
echo "JITP per wave (devices already known before the wave: devices/s, p50/p99 ms):"
for w in "${waves[@]}"; do
  printf '  %7s: %6.0f/s %8.2f %8.2f\n' "${w#wave-}" "$(j "$w" '.load.provisioning.per_s')" \
    "$(j "$w" '.load.provisioning.latency_ms.p50')" "$(j "$w" '.load.provisioning.latency_ms.p99')"
done
echo
echo "CPU % by phase (100 = one core; $(nproc) cores):"
printf '  %-10s %-13s %8s %10s\n' run phase server simulator
cpu_table run:server shallow:server known:restarted | while read -r name phase server sim; do
  printf '  %-10s %-13s %8s %10s\n' "$name" "$phase" "$server" "$sim"
done
echo
printf '%-50s %12s %12s\n' "server memory" "RSS_MiB" "peak_MiB"
printf '%-50s %12s %12s\n' "fresh, idle (product + CA, no devices)" "$rss_idle" -
printf '%-50s %12s %12s\n' "after the run ($seen_run devices checked in)" "$rss_load" "$hwm_load"
printf '%-50s %12s %12s\n' "after the waves ($seen_known devices checked in)" "$rss_waves" "$hwm_waves"
printf '%-50s %12s %12s\n' "restarted, idle, $seen_known known devices" "$rss_known_idle" -
printf '%-50s %12s %12s\n' "restarted, $seen_known known, $N checking in" "$rss_known" "$hwm_known"
printf '%-50s %12s %12s\n' "the simulator itself ($N devices), peak" - "$sim_hwm"
echo
echo "targets: >= 5000 check-ins/s, p99 < 50 ms, check-ins >= 0.5 x ping; JITP >= 1000/s; $KNOWN known devices < 200 MB"
