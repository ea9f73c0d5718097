#!/usr/bin/env bash
# Benchmark for configuration delivery (issue 13), on this machine, simulator included. One
# server (SQLite in a temp dir), every figure beside its baseline from the same run:
#   1. check-ins with and without configuration. Two products of N devices each, provisioned by
#      JITP (`fleet simulate`, one CA per product), half of each product's devices in cohort
#      `canary`, the rest in `main`: `plain` has no configuration at all (the device-plane
#      benchmark's case, bench/devices.sh); `configured` has a schema, a product document of a
#      few keys and an override for `canary` (two effective configurations). ROUNDS rounds, each
#      one simulator run per product, in ABBA order (plain, configured, configured, plain, …),
#      so a trend in the machine's load weighs on both alike: the devices
#      connect (their first check-in; a configured device gets its configuration in that answer
#      and reports the applied revision from then on, as a device does), then check in back to
#      back for SECONDS, then ping (`GET /v1/device/ping`, the authenticated no-op) for SECONDS
#      on the same connections. Figures: check-ins/s, p50/p99, pings/s, and the server's CPU
#      per check-in (its /proc ticks over the check-in phase ÷ check-ins). Target: configured
#      check-ins/s ≥ 0.9 × plain check-ins/s (means over the rounds). The configured devices'
#      convergence is checked: every simulated device applied one of the two revisions, none
#      pending, and `fleet product stats configured` counts all N on their latest configuration.
#   2. `fleet config set` on a product of BIG devices (default 100,000, imported from a CSV with
#      `fleet device import`, half in a cohort with an override, OVERRIDES (default 20) with an
#      override of their own; they need not have connected), with the same schema: hyperfine, RUNS runs, each a real change (a --prepare run sets the
#      other value first). Beside it: `/bin/true`, `fleet config show` and `fleet product show`
#      of the same product and `product show` of an empty one, the product's device count by
#      hand in sqlite3 (what every product lookup counts), and the same `config set` on an
#      empty product and on `configured` (N devices). Target: < 200 ms on the BIG-device product.
# Usage: bench/config.sh [N] [SECONDS] [BIG]   (defaults 2000, 20, 100000)
#   FLEET_BIN=path uses that build instead of `cargo build --release --locked`;
#   ROUNDS (default 2), RUNS (default 20), OVERRIDES (default 20), CONCURRENCY (default 200, devices connecting at once);
#   BENCH_OUT=dir keeps the simulator's JSON summaries, CPU samples and the server log.
# Needs python3, curl, jq, hyperfine, sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-2000}
SECONDS_EACH=${2:-20}
BIG=${3:-100000}
ROUNDS=${ROUNDS:-2}
RUNS=${RUNS:-20}
CONCURRENCY=${CONCURRENCY:-200}
OVERRIDES=${OVERRIDES:-20}
for tool in python3 curl jq hyperfine sqlite3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install $tool)" >&2; exit 1; }
done
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
sampler=""
cleanup() {
  if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "${BENCH_OUT:-}" ]; then
    mkdir -p "$BENCH_OUT" && cp "$work"/*.json "$work"/*.samples "$work"/*.log "$BENCH_OUT"/ 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average at start: $(load)" >&2

# The server, its CPU ticks (user + system) sampled every 0.2 s as "unix_time ticks" lines.
port=$(free_port)
device_port=$(free_port)
export FLEET_CONFIG_DIR=$work/config
RUST_LOG=warn "$BIN" server --listen "127.0.0.1:$port" --device-listen "127.0.0.1:$device_port" \
  --data-dir "$work/data" --no-profile --max-connections $((N + 500)) 2>"$work/server.log" &
server_pid=$!
export FLEET_API_URL=http://127.0.0.1:$port
for _ in $(seq 1 300); do
  curl -fsS "$FLEET_API_URL/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$FLEET_API_URL/v1/health" >/dev/null || { echo "the server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
(
  while [ -r "/proc/$server_pid/stat" ]; do
    read -r _ _ rest <"/proc/$server_pid/stat" 2>/dev/null || break
    set -- $rest
    echo "$(now) $((${12} + ${13}))"
    sleep 0.2
  done
) >"$work/server.samples" &
sampler=$!
fingerprint=$(grep -o 'SHA-256 [0-9a-f]\{64\}' "$work/server.log" | head -1 | cut -d' ' -f2)
[ -n "$fingerprint" ] || { echo "no device certificate fingerprint in the server log:" >&2; cat "$work/server.log" >&2; exit 1; }
FLEET_API_KEY=$(cat "$work/data/admin-api-key")
export FLEET_API_KEY
fleet() { "$BIN" -q "$@"; }

cat >"$work/schema.json" <<'EOF'
{"type": "object",
 "properties": {"log": {"enum": ["error", "info", "debug"]},
                "sampling": {"type": "object",
                             "properties": {"rate_s": {"type": "integer", "minimum": 1}}},
                "upload": {"type": "object",
                           "properties": {"url": {"type": "string"}, "batch": {"type": "integer"}}},
                "features": {"type": "object", "additionalProperties": {"type": "boolean"}}}}
EOF
# configure PRODUCT: the schema, the product's document (a few keys) and canary's override.
configure() {
  fleet config schema set -P "$1" --file "$work/schema.json" >/dev/null
  fleet config set -P "$1" log=info sampling.rate_s=60 upload.url=https://upload.example/v1 \
    upload.batch=50 features.gps=true features.wifi=false -m defaults >/dev/null
  fleet config set -P "$1" --cohort canary log=debug features.wifi=true -m canary >/dev/null
}

# simulate NAME CA FIRST: N devices of the CA's product (identifiers from FIRST) connect, check
# in for SECONDS, ping for SECONDS; NAME.json is the summary, NAME.end when the simulator exited.
simulate() {
  "$BIN" -q simulate --device-url "https://127.0.0.1:$device_port" --server-fingerprint "$fingerprint" \
    --ca "$work/$2" --first "$3" --count "$N" --concurrency "$CONCURRENCY" --running app@1.0.0 \
    --target armv7-unknown-linux-gnueabihf -o json "${@:4}" >"$work/$1.json"
  now >"$work/$1.end"
}

# Two products, each with cohorts main (new devices join it) and canary, one CA with JITP each.
first_of_plain=0
first_of_configured=100000
for p in plain configured; do
  fleet product create "$p" >/dev/null
  fleet cohort create main --product "$p" >/dev/null
  fleet cohort create canary --product "$p" >/dev/null
  fleet ca generate "$p-factory" --out "$work/ca-$p" >/dev/null
  fleet ca add factory -P "$p" --cert "$work/ca-$p/ca.pem" --jitp --jitp-cohort main >/dev/null
done
echo "== JITP of $N devices into each product" >&2
simulate jitp-plain ca-plain "$first_of_plain" --check-ins-only --duration 1s
simulate jitp-configured ca-configured "$first_of_configured" --check-ins-only --duration 1s
for p in plain configured; do
  fleet device list -P "$p" --all -o id | head -n $((N / 2)) >"$work/canary-$p.ids"
  fleet cohort assign canary --product "$p" --from-file "$work/canary-$p.ids" --yes >/dev/null
done
configure configured
fleet config show -P configured --cohort canary --effective -o json >"$work/effective-canary.json"

echo "== $ROUNDS rounds in ABBA order of plain and configured (${SECONDS_EACH}s check-ins + ${SECONDS_EACH}s pings each)" >&2
loads=()
for r in $(seq 1 "$ROUNDS"); do
  # ABBA: odd rounds run plain first, even rounds configured first, so a load that rises or
  # falls through the run weighs on both alike.
  order="plain configured"
  [ $((r % 2)) = 0 ] && order="configured plain"
  for kind in $order; do
    simulate "$kind-$r" "ca-$kind" "$(eval echo "\$first_of_$kind")" --check-ins-only --ping --duration "${SECONDS_EACH}s"
  done
  loads+=("$(load)")
  echo "   round $r done, load $(load)" >&2
done
sleep 1
fleet product stats configured -o json >"$work/stats-configured.json"

# Every configured device applied one of the two effective revisions at its first check-in
# (the load mode's later answers are not read, so the simulator's `config_pending` stays N), and
# the service counts every one of them on its latest revision: from then on each check-in
# reported the revision it is answered for, so its answer carried no configuration.
for r in $(seq 1 "$ROUNDS"); do
  jq -e --argjson n "$N" '(.configs | length) == 2 and ([.configs[]] | add) == $n' \
    "$work/configured-$r.json" >/dev/null ||
    { echo "configured round $r did not converge: $(jq -c '.configs' "$work/configured-$r.json")" >&2; exit 1; }
  jq -e '.configs == {}' "$work/plain-$r.json" >/dev/null ||
    { echo "plain round $r received a configuration" >&2; exit 1; }
done
jq -e --argjson n "$N" '.config.latest == $n and .config.pending == 0' "$work/stats-configured.json" >/dev/null ||
  { echo "product stats: $(jq -c .config "$work/stats-configured.json") (want $N latest)" >&2; exit 1; }
echo "converged: $N configured devices on their latest revision ($(jq -c .config "$work/stats-configured.json"))" >&2

# --- 2: config set on a product of BIG devices ---------------------------------------------
echo "== importing $BIG devices into product big" >&2
for p in big empty; do
  fleet product create "$p" >/dev/null
  fleet cohort create main --product "$p" >/dev/null
  fleet cohort create canary --product "$p" >/dev/null
done
python3 - "$BIG" >"$work/big.csv" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout
out.write("identifier,tags,target,cohort\n")
for i in range(n):
    out.write(f"big-{i:07d},site:s{i % 50},armv7-unknown-linux-gnueabihf,{'canary' if i % 2 else 'main'}\n")
PY
t0=$(now)
fleet device import "$work/big.csv" --product big --yes >/dev/null
t1=$(now)
import_s=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")
big_count=$(fleet device list -P big --all -o id | wc -l)
[ "$big_count" = "$BIG" ] || { echo "product big has $big_count devices, want $BIG" >&2; exit 1; }
configure big
configure empty
# A few devices of big with an override of their own (checked per distinct override).
for i in $(seq 1 "$OVERRIDES"); do
  fleet config set --device "$(printf 'big-%07d' "$i")" sampling.rate_s=$((10 + i)) -m override >/dev/null
done
set_cmd() { echo "$BIN -q config set -P $1 sampling.rate_s=$2 -m bench"; }
echo "== hyperfine, $RUNS runs each" >&2
load_before_set=$(load)
big_id=$(fleet product show big -o json | jq -r .id)
# What every lookup of a product by name or ID counts (its device_count), by hand in sqlite3.
count_sql="SELECT COUNT(*) FROM devices d WHERE d.product_id = '$big_id'"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$work/reads.hyperfine.json" \
  -n true /bin/true \
  -n "count sql" "sqlite3 $work/data/fleet.db \"$count_sql\"" \
  -n "product show empty" "$BIN -q product show empty" \
  -n "config show" "$BIN -q config show -P big" \
  -n "product show" "$BIN -q product show big" >&2
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$work/sets.hyperfine.json" \
  --prepare "$(set_cmd empty 1)" -n "set empty" "$(set_cmd empty 2)" \
  --prepare "$(set_cmd configured 1)" -n "set configured" "$(set_cmd configured 2)" \
  --prepare "$(set_cmd big 1)" -n "set big" "$(set_cmd big 2)" >&2
load_after_set=$(load)
# The last change really is on every big device: the effective configuration moved.
fleet config show -P big --cohort canary --effective -o json | jq -e '.document.sampling.rate_s == 2' >/dev/null ||
  { echo "config set on big did not take" >&2; exit 1; }

# --- the tables ------------------------------------------------------------------------------
python3 - "$work" "$(getconf CLK_TCK)" "$ROUNDS" "$N" "$SECONDS_EACH" "$(nproc)" "${loads[*]}" "$BIG" <<'PY'
import json, sys
work, tck, rounds, n, secs, cores, loads, big_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
samples = []
for line in open(f"{work}/server.samples"):
    p = line.split()
    if len(p) == 2:
        samples.append((float(p[0]), int(p[1])))
def cpu_s(a, b):
    inside = [s for s in samples if a <= s[0] <= b]
    if len(inside) < 2:
        return float("nan"), 0.0
    return (inside[-1][1] - inside[0][1]) / tck, inside[-1][0] - inside[0][0]
rows = {"plain": [], "configured": []}
for r in range(1, rounds + 1):
    for kind in rows:
        s = json.load(open(f"{work}/{kind}-{r}.json"))
        end = float(open(f"{work}/{kind}-{r}.end").read())
        ci, ping = s["load"]["check_ins"], s["load"]["ping"]
        # The phases are back to back and end when the simulator exits: check-ins, then pings.
        b = end - ping["seconds"]
        a = b - ci["seconds"]
        used, span = cpu_s(a + 0.3, b - 0.3)
        us = 1e6 * used / (ci["per_s"] * span) if span else float("nan")
        rows[kind].append((r, ci["per_s"], ci["latency_ms"]["p50"], ci["latency_ms"]["p99"], ping["per_s"], us,
                           100 * used / span if span else float("nan"), s["errors"]))
print()
print(f"check-ins with and without configuration: {n} devices per product, {secs}s phases, {rounds} rounds, {cores} cores")
print(f"load average after each round: {loads}")
print("(rows in the order they ran)")
print(f"{'round':<6} {'product':<11} {'check-ins/s':>11} {'p50_ms':>8} {'p99_ms':>8} {'pings/s':>8} {'ci/ping':>8} {'server_us/ci':>12} {'server_cpu%':>11} {'errors':>6}")
for r in range(rounds):
    for kind in (("plain", "configured") if r % 2 == 0 else ("configured", "plain")):
        _, rate, p50, p99, ping, us, cpu, err = rows[kind][r]
        print(f"{r + 1:<6} {kind:<11} {rate:>11.0f} {p50:>8.1f} {p99:>8.1f} {ping:>8.0f} {rate / ping:>8.2f} {us:>12.0f} {cpu:>11.0f} {err:>6}")
mean = lambda kind, i: sum(x[i] for x in rows[kind]) / len(rows[kind])
ratio = mean("configured", 1) / mean("plain", 1)
norm = (mean("configured", 1) / mean("configured", 4)) / (mean("plain", 1) / mean("plain", 4))
print(f"mean check-ins/s: plain {mean('plain', 1):.0f}, configured {mean('configured', 1):.0f}: "
      f"configured/plain = {ratio:.3f} (target >= 0.90: {'met' if ratio >= 0.9 else 'MISSED'}); "
      f"each normalised by its own pings: {norm:.3f}; server CPU per check-in {mean('plain', 5):.0f} vs {mean('configured', 5):.0f} us")
r = {x["command"]: x for f in ("reads", "sets") for x in json.load(open(f"{work}/{f}.hyperfine.json"))["results"]}
print()
print(f"{'command (hyperfine -N)':<58} {'mean_ms':>8} {'sd_ms':>7} {'min_ms':>7} {'max_ms':>7}")
labels = [("true", "/bin/true (baseline)"), ("count sql", f"sqlite3: COUNT(*) of big's {big_n} devices"),
          ("product show empty", "fleet product show empty (baseline)"),
          ("product show", "fleet product show big (baseline)"),
          ("config show", "fleet config show -P big (baseline)"), ("set empty", "fleet config set, empty product"),
          ("set configured", f"fleet config set, product of {n} devices"),
          ("set big", f"fleet config set, product of {big_n} devices")]
for key, label in labels:
    x = r[key]
    print(f"{label:<58} {x['mean'] * 1e3:>8.1f} {x['stddev'] * 1e3:>7.1f} {x['min'] * 1e3:>7.1f} {x['max'] * 1e3:>7.1f}")
big = r["set big"]["mean"] * 1e3
print(f"config set on the big product: {big:.1f} ms (target < 200 ms: {'met' if big < 200 else 'MISSED'}); "
      f"{big / (r['config show']['mean'] * 1e3):.2f}x config show, {big / (r['set empty']['mean'] * 1e3):.2f}x the same set on an empty product")
PY
echo "BIG = $BIG devices imported in ${import_s}s; load average before the hyperfine runs $load_before_set, after $load_after_set"
