#!/usr/bin/env bash
# Benchmark for reads under writes (issue 9): `GET /v1/devices` throughput and p99 with wrk,
# alone and while 32 concurrent writers create and update devices, and the writers' own p99.
# Builds in release mode; for each binary and round it starts a service on a fresh data dir,
# seeds SEED devices (bulk import), then runs in the same server:
#   1. idle: readers alone (32 connections) — the baseline each "under writes" figure is read
#      against;
#   2. under writes: the same readers while a second wrk (32 connections, writers.lua) POSTs
#      new devices with unique identifiers and PATCHes seeded ones, alternately.
# Targets: reads keep >= 50% of their idle throughput and p99 < 50 ms under writes; writers'
# p99 < 100 ms. BASELINE_BIN=path also measures another `fleet` binary (e.g. a release build
# of an earlier commit) in the same run, alternating with this one round by round.
# Usage: bench/contention.sh [DURATION [ROUNDS]]   (default 20s, 2; FLEET_BIN=path skips the
# build; SEED=n devices, default 5000). Needs wrk, curl, python3 (apt-get install -y wrk curl).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-20s}
ROUNDS=${2:-2}
SEED=${SEED:-5000}
CONNECTIONS=32
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y wrk curl)" >&2; exit 1; }
done

if [ -n "${FLEET_BIN:-}" ]; then
  BIN=$FLEET_BIN
else
  cargo build --release --locked --quiet --bin fleet
  BIN=$PWD/target/release/fleet
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# Each wrk connection alternates: POST a device with an identifier unique to this run, thread
# and request; PATCH the description of a random seeded device.
cat >"$work/writers.lua" <<'LUA'
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local counter, prefix, seeded = 0, "run", 1
function init(args)
  prefix = (args[1] or "run") .. "-" .. tostring(tid)
  seeded = tonumber(args[2] or "1")
  math.randomseed(os.time() + tid)
end
-- wrk.format uses the headers it is given instead of wrk.headers (where -H put the key).
local json = {}
function request()
  if json["Content-Type"] == nil then
    for name, value in pairs(wrk.headers) do json[name] = value end
    json["Content-Type"] = "application/json"
  end
  counter = counter + 1
  if counter % 2 == 1 then
    return wrk.format("POST", "/v1/devices", json,
      string.format('{"identifier":"w-%s-%d","product":"bench"}', prefix, counter))
  end
  return wrk.format("PATCH", string.format("/v1/devices/sn-%07d", math.random(1, seeded)), json,
    string.format('{"description":"updated by %s-%d"}', prefix, counter))
end
LUA

python3 - "$SEED" >"$work/seed.json" <<'PY'
import json, sys
n = int(sys.argv[1])
rows = [{"identifier": f"sn-{i:07d}", "tags": ["site:berlin"], "target": "armv7"} for i in range(1, n + 1)]
print(json.dumps({"product": "bench", "devices": rows}))
PY

# wrk_figures OUTPUT: "req/s p99_ms non2xx" of one wrk run.
wrk_figures() {
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
value = float(p99.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[p99.group(2)]
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = re.search(r"Socket errors:.*", text)
print(rps, f"{value:.2f}", non2xx.group(1) if non2xx else 0, "socket-errors" if errors else "")
PY
}

# measure LABEL BINARY ROUND: one server, idle readers then readers under writers.
results=$work/results.txt
measure() {
  local label=$1 bin=$2 round=$3 dir=$work/$1-$3
  local port url key
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  url="http://127.0.0.1:$port"
  FLEET_CONFIG_DIR=$work/config-$label-$round RUST_LOG=warn \
    "$bin" server --listen "127.0.0.1:$port" --data-dir "$dir" --no-profile 2>"$dir.log" &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "$url/v1/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  key=$(cat "$dir/admin-api-key")
  local auth=(-H "Authorization: Bearer $key")
  curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -d '{"name":"bench"}' "$url/v1/products" >/dev/null
  curl -fsS "${auth[@]}" -H 'Content-Type: application/json' --data-binary "@$work/seed.json" \
    "$url/v1/bulk/import" >/dev/null
  local reads="$url/v1/devices?limit=50"
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "${auth[@]}" "$reads" >"$dir.idle"
  # The writers start first and stop after the readers, so every read runs under writes.
  local seconds=${DURATION%s}
  wrk -t1 -c"$CONNECTIONS" -d"$((seconds + 4))s" --latency "${auth[@]}" -s "$work/writers.lua" \
    "$url" -- "$label$round" "$SEED" >"$dir.writers" &
  local writers_pid=$!
  sleep 2
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "${auth[@]}" "$reads" >"$dir.busy"
  wait "$writers_pid"
  kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
  server_pid=""
  echo "$label $(wrk_figures "$dir.idle") | $(wrk_figures "$dir.busy") | $(wrk_figures "$dir.writers")" >>"$results"
}

echo "seed: $SEED devices; reads: GET /v1/devices?limit=50; wrk: $CONNECTIONS readers (1 thread)"
echo "and $CONNECTIONS writers (1 thread), $DURATION per load, $ROUNDS round(s); server and wrk share"
echo "this machine ($(nproc) cores); figures are medians over the rounds"
for round in $(seq 1 "$ROUNDS"); do
  [ -n "${BASELINE_BIN:-}" ] && measure baseline "$BASELINE_BIN" "$round"
  measure fleet "$BIN" "$round"
done

python3 - "$results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, rest = line.split(" ", 1)
    idle, busy, writers = (part.split() for part in rest.split("|"))
    runs.setdefault(label, []).append((idle, busy, writers))
med = lambda values: statistics.median(float(v) for v in values)
print(f"\n| binary | idle reads/s | idle p99 ms | reads/s under writes | % of idle | "
      f"reads p99 ms under writes | writes/s | writers p99 ms | non-2xx writes | non-2xx reads |")
print("|---|---|---|---|---|---|---|---|---|---|")
failed = False
for label in ("baseline", "fleet"):
    if label not in runs:
        continue
    r = runs[label]
    idle_rps, idle_p99 = med(x[0][0] for x in r), med(x[0][1] for x in r)
    busy_rps, busy_p99 = med(x[1][0] for x in r), med(x[1][1] for x in r)
    w_rps, w_p99 = med(x[2][0] for x in r), med(x[2][1] for x in r)
    w_bad = sum(int(x[2][2]) for x in r)
    r_bad = sum(int(x[0][2]) + int(x[1][2]) for x in r)
    share = busy_rps / idle_rps * 100
    print(f"| {label} | {idle_rps:.0f} | {idle_p99:.1f} | {busy_rps:.0f} | {share:.0f}% | "
          f"{busy_p99:.1f} | {w_rps:.0f} | {w_p99:.1f} | {w_bad} | {r_bad} |")
    per_round = "; ".join(f"{float(x[1][0]):.0f} reads/s, p99 {x[1][1]} ms / writers p99 {x[2][1]} ms" for x in r)
    print(f"|  | rounds under writes: {per_round} |||||||||")
    if label == "fleet":
        checks = [("reads keep >= 50% of idle throughput", share >= 50),
                  ("reads p99 < 50 ms under writes", busy_p99 < 50),
                  ("writers p99 < 100 ms", w_p99 < 100),
                  ("no failed requests", w_bad == 0 and r_bad == 0)]
        print()
        for name, ok in checks:
            print(f"{'PASS' if ok else 'FAIL'}: {name}")
            failed |= not ok
sys.exit(1 if failed else 0)
PY
