#!/usr/bin/env bash
# Benchmark for access control (issue 5): what authentication and product scoping cost.
# Builds in release mode, starts one local service on a fresh data dir, then runs wrk against
# that server in the same run:
#   1. baseline: unauthenticated `GET /v1/health`;
#   2. `GET /bench/no-auth/products/{id}`: the same product handler as 3 and 4, with no key and
#      no access control at all (a route only the benchmark server has);
#   3. `GET /v1/products/{id}` with the org-wide admin key;
#   4. `GET /v1/products/{id}` with a read key scoped to that product;
#   5. `GET /v1/products?limit=0` with the scoped key: authentication, authorization and scoping
#      run, then the handler rejects the limit (422) before touching the database, so this run
#      isolates what access control costs per request.
# The issue's target ("authentication and scoping must cost under 20% of throughput") is read
# as run 4 vs run 2: the same request with and without access control. Run 4 vs run 1 (health)
# is printed too; it also charges the product's own SQL to access control.
# The server is bench/auth_bench_server.rs (a cargo example): `fleet server`'s router plus route 2.
# Each load: 64 connections, 2 wrk threads, DURATION (default 30s); all five loads run in turn,
# ROUNDS times (default 1), and the medians are reported, which keeps a load that happened to
# share the machine with something else from deciding the result. Prints throughput, p99 and
# the ratio to the baseline. Usage: bench/auth.sh [DURATION [ROUNDS]]
# (FLEET_BIN=path and BENCH_SERVER=path skip the build.)
# Needs wrk, curl, jq, python3 (apt-get install -y wrk curl jq).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-30s}
ROUNDS=${2:-1}
for tool in wrk curl jq python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y wrk curl jq)" >&2; exit 1; }
done

if [ -n "${FLEET_BIN:-}" ] && [ -n "${BENCH_SERVER:-}" ]; then
  BIN=$FLEET_BIN SERVER=$BENCH_SERVER
else
  cargo build --release --locked --quiet --bin fleet --example auth_bench_server
  BIN=$PWD/target/release/fleet SERVER=$PWD/target/release/examples/auth_bench_server
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
export FLEET_CONFIG_DIR=$work/config
mkdir -p "$work/data"
"$SERVER" "127.0.0.1:$port" "$work/data" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$url/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done
admin=$(cat "$work/data/admin-api-key")
export FLEET_API_URL=$url FLEET_API_KEY=$admin
product=$("$BIN" product create bench -o id)
for i in $(seq 1 20); do "$BIN" product create "other-$i" -o id >/dev/null; done
scoped=$("$BIN" api-key create bench-reader --role read --product bench -o json 2>/dev/null | jq -r .secret)

# run INDEX PATH [KEY [EXPECT_ERRORS]]: one wrk load; appends "INDEX req/s p99" to $results.
results=$work/results.txt
run() {
  local index=$1 path=$2 key=${3:-} expect_errors=${4:-}
  local args=(-t2 -c64 -d"$DURATION" --latency)
  [ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
  local out
  out=$(wrk "${args[@]}" "$url$path")
  local rps p99 non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  if [ -z "$expect_errors" ]; then
    [ -z "$non2xx" ] || { echo "load $index ($path): $non2xx non-2xx responses" >&2; exit 1; }
  fi
  echo "$index $rps $p99" >>"$results"
}

echo "wrk: 64 connections, 2 threads, $DURATION per load, $ROUNDS round(s) of all loads in turn;"
echo "server and wrk share this machine ($(nproc) cores); figures are medians over the rounds"
for round in $(seq 1 "$ROUNDS"); do
  run 0 /v1/health
  run 1 "/bench/no-auth/products/$product"
  run 2 "/v1/products/$product" "$admin"
  run 3 "/v1/products/$product" "$scoped"
  run 4 "/v1/products?limit=0" "$scoped" yes
done

python3 - "$results" <<'PY'
import statistics, sys
names = [
    "GET /v1/health (no auth)",
    "GET /bench/no-auth/products/{id}",
    "GET /v1/products/{id} (admin key)",
    "GET /v1/products/{id} (scoped read key)",
    "auth+scope only (scoped key, 422)",
]
def ms(text):
    for unit, factor in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)
rps, p99 = {}, {}
for line in open(sys.argv[1]):
    index, r, p = line.split()
    rps.setdefault(int(index), []).append(float(r))
    p99.setdefault(int(index), []).append(ms(p))
med = {i: statistics.median(v) for i, v in rps.items()}
base = med[0]
print(f"\n{'endpoint':<42} {'req/s':>10} {'p99 ms':>8} {'vs health':>10}  per round")
for i, name in enumerate(names):
    rounds = " ".join(f"{r:.0f}" for r in rps[i])
    print(f"{name:<42} {med[i]:>10.0f} {statistics.median(p99[i]):>8.2f} "
          f"{med[i] / base * 100:>9.0f}%  {rounds}")
open_, admin, scoped, auth = med[1], med[2], med[3], med[4]
added = 1e6 / auth - 1e6 / base
print(f"\nauth+scoping adds {added:.1f} us per request (422 load vs health, at 64 connections),")
print(f"{added / (1e6 / scoped) * 100:.0f}% of a scoped GET /v1/products/{{id}} (derived)")
print("measured, same GET with vs without access control (target: cost < 20%):")
for name, value in (("admin key", admin), ("scoped read key", scoped)):
    print(f"  {name}: {value / open_ * 100:.0f}% of the throughput, i.e. costs "
          f"{(1 - value / open_) * 100:.0f}%")
print(f"literal reading (authenticated GET vs health): {scoped / base * 100:.0f}%; the product "
      f"GET without any access control reaches {open_ / base * 100:.0f}% of health by itself")
PY
