#!/usr/bin/env bash
# Benchmark for access control (issue 5): what authentication and product scoping cost.
# Builds in release mode, starts a local service on a fresh data dir, then runs wrk against the
# same server in the same run:
#   1. baseline: unauthenticated `GET /v1/health`;
#   2. `GET /v1/products/{id}` with the org-wide admin key;
#   3. `GET /v1/products/{id}` with a read key scoped to that product;
#   4. `GET /v1/products?limit=0` with the scoped key: authentication, authorization and scoping
#      run, then the handler rejects the limit (422) before touching the database, so this run
#      isolates what access control costs per request.
# From 1/throughput per run it derives the time auth+scoping adds (run 4 - run 1) and its share
# of a full authenticated GET (run 3).
# Each run: 64 connections, 2 wrk threads, DURATION (default 30s). Prints throughput and p99 and
# the ratio to the baseline. Usage: bench/auth.sh [DURATION]   (FLEET_BIN=path skips the build)
# Needs wrk, curl, jq, python3 (apt-get install -y wrk curl jq).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-30s}
for tool in wrk curl jq python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y wrk curl jq)" >&2; exit 1; }
done

if [ -n "${FLEET_BIN:-}" ]; then
  BIN=$FLEET_BIN
else
  cargo build --release --locked --quiet
  BIN=$PWD/target/release/fleet
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
FLEET_LOG=warn "$BIN" server --listen "127.0.0.1:$port" --data-dir "$work/data" --no-profile 2>"$work/server.log" &
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

# run NAME PATH [KEY [EXPECT_ERRORS]] -> "NAME req/s p99"
run() {
  local name=$1 path=$2 key=${3:-} expect_errors=${4:-}
  local args=(-t2 -c64 -d"$DURATION" --latency)
  [ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
  local out
  out=$(wrk "${args[@]}" "$url$path")
  local rps p99 non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  if [ -z "$expect_errors" ]; then
    [ -z "$non2xx" ] || { echo "$name: $non2xx non-2xx responses" >&2; exit 1; }
  fi
  echo "$name $rps $p99"
}

echo "wrk: 64 connections, 2 threads, $DURATION per run; server and wrk share this machine ($(nproc) cores)"
base=$(run "GET /v1/health (no auth)" /v1/health)
admin_run=$(run "GET /v1/products/{id} (admin key)" "/v1/products/$product" "$admin")
scoped_run=$(run "GET /v1/products/{id} (scoped read key)" "/v1/products/$product" "$scoped")
auth_run=$(run "auth+scope only (scoped key, 422)" "/v1/products?limit=0" "$scoped" yes)
base_rps=$(awk '{print $(NF-1)}' <<<"$base")
printf '\n%-42s %12s %10s %10s\n' "endpoint" "req/s" "p99" "vs health"
for line in "$base" "$admin_run" "$scoped_run" "$auth_run"; do
  name=${line% * *}
  rest=${line##"$name "}
  rps=${rest% *}
  p99=${rest#* }
  ratio=$(python3 -c "print(f'{$rps / $base_rps * 100:.0f}%')")
  printf '%-42s %12s %10s %10s\n' "$name" "$rps" "$p99" "$ratio"
done

scoped_rps=$(awk '{print $(NF-1)}' <<<"$scoped_run")
auth_rps=$(awk '{print $(NF-1)}' <<<"$auth_run")
python3 - "$base_rps" "$auth_rps" "$scoped_rps" <<'PY'
import sys
base, auth, full = (float(x) for x in sys.argv[1:])
added = 1e6 / auth - 1e6 / base
share = added / (1e6 / full) * 100
print(f"\nauth+scoping adds {added:.1f} us of server time per request (at 64 connections);")
print(f"that is {share:.0f}% of an authenticated GET /v1/products/{{id}} (target: < 20%)")
PY
