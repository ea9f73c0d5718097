#!/usr/bin/env bash
# Where a request's cost goes with one replica and with two (issue 10: "two replicas must not be
# slower than one"; "say what saturates first"). On PostgreSQL, one `fleet server` replica is
# loaded directly, then behind haproxy, then two replicas behind the same haproxy (`wrk`,
# `GET /v1/devices?limit=100`, 8 connections, DURATION s each), ROUNDS times, alternating. Per
# phase it records the rate, the CPU time of every process taking part (each replica,
# haproxy, PostgreSQL's backends, wrk) per request, and PostgreSQL's own counters per request
# (transactions, and reads of the API-key epoch row), so the figures say which process spends
# more per request when the load is split over two replicas. A fourth phase runs two replicas
# sized to share the machine (one tokio worker thread each, `TOKIO_WORKER_THREADS=1`), so the
# two together run as many worker threads as the one replica of the other phases.
# Usage: bench/replicas.sh [N_DEVICES] [DURATION_S] [ROUNDS]   (defaults 10000, 15, 2).
# FLEET_BIN=path skips the release build; PG_DB names the benchmark's database (dropped and
# made again by .ci/postgres). Needs PostgreSQL (as .ci/run), haproxy, wrk, curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-10000}
DURATION=${2:-15}
ROUNDS=${3:-2}
for tool in wrk curl python3 psql; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install wrk curl postgresql-client)" >&2; exit 1; }
done
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
[ -x "$HAPROXY" ] || { echo "missing haproxy (apt-get install haproxy)" >&2; exit 1; }

if [ -n "${FLEET_BIN:-}" ]; then
  BIN=$FLEET_BIN
else
  cargo build --release --locked --quiet
  BIN=$PWD/target/release/fleet
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 200); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }

# cpu_ticks PID...: user + system CPU of the processes, in clock ticks.
cpu_ticks() {
  local total=0 pid fields
  for pid in "$@"; do
    fields=$(cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null) || continue
    total=$((total + ${fields% *} + ${fields#* }))
  done
  echo "$total"
}
postgres_pids() { pgrep -u postgres -d ' ' postgres || true; }
TICKS=$(getconf CLK_TCK)

pg_url=$(bash .ci/postgres "${PG_DB:-fleet_bench_replicas}")
pg_counters() {
  psql "$pg_url" -Atc "SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database
      WHERE datname = current_database()),
    (SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables
      WHERE relname = 'auth_epoch')" | tr '|' ' '
}

# start_replica NAME [ENV...]: a replica on a free port, on the benchmark's database, with ENV
# (VAR=value) in its environment; sets $url, $pid.
start_replica() {
  local name=$1; shift
  local port; port=$(free_port)
  env "$@" RUST_LOG=warn "$BIN" server --listen "127.0.0.1:$port" --no-profile --data-dir "$work/data" \
    --database-url "$pg_url" 2>"$work/$name.log" &
  pid=$!
  pids+=("$pid")
  url=http://127.0.0.1:$port
  wait_http "$url/v1/health"
}

start_replica a; a_url=$url; a_pid=$pid
export FLEET_CONFIG_DIR=$work/config FLEET_API_URL=$a_url
FLEET_API_KEY=$(cat "$work/data/admin-api-key"); export FLEET_API_KEY
"$BIN" -q product create bench >/dev/null
python3 - "$N" >"$work/import.csv" <<'PY'
import sys
print("identifier,description,tags,target")
for i in range(1, int(sys.argv[1]) + 1):
    print(f"sn-{i:07d},,site:berlin,armv7-unknown-linux-gnueabihf")
PY
"$BIN" -q device import "$work/import.csv" --product bench --yes -o id >/dev/null
psql "$pg_url" -qc "VACUUM ANALYZE" >/dev/null
start_replica b; b_pid=$pid; b_url=$url
start_replica c TOKIO_WORKER_THREADS=1; c_pid=$pid; c_url=$url
start_replica d TOKIO_WORKER_THREADS=1; d_pid=$pid; d_url=$url
workers() { grep -lx tokio-rt-worker /proc/"$1"/task/*/comm 2>/dev/null | wc -l; }
echo "tokio worker threads: a $(workers "$a_pid"), b $(workers "$b_pid"), c $(workers "$c_pid"), d $(workers "$d_pid")" >&2

lb_two=$(free_port); lb_one=$(free_port); lb_sized=$(free_port)
# proxy NAME PORT URL...: a frontend on PORT passing round-robin to the replicas at URL...
proxy() {
  local name=$1 port=$2 n=0; shift 2
  printf 'frontend %s\n  bind 127.0.0.1:%s\n  default_backend %s\nbackend %s\n  balance roundrobin\n' \
    "$name" "$port" "$name" "$name"
  for replica in "$@"; do n=$((n + 1)); echo "  server r$n ${replica#http://}"; done
}
{
  printf 'global\n  maxconn 512\ndefaults\n  mode http\n  timeout connect 1s\n'
  printf '  timeout client 60s\n  timeout server 60s\n'
  proxy two "$lb_two" "$a_url" "$b_url"
  proxy sized "$lb_sized" "$c_url" "$d_url"
  proxy one "$lb_one" "$a_url"
} >"$work/haproxy.cfg"
"$HAPROXY" -db -f "$work/haproxy.cfg" >/dev/null 2>&1 &
haproxy_pid=$!
pids+=("$haproxy_pid")
wait_http "http://127.0.0.1:$lb_two/v1/health"

# phase NAME URL PID PID: one wrk run against URL, whose replicas are the two PIDs (the second
# idle in the one-replica phases); prints a table row of the rate and the costs per request.
phase() {
  local name=$1 target=$2 a_pid=$3 b_pid=$4
  local pg_pids; pg_pids=$(postgres_pids)
  local a0 b0 h0 p0 x0 e0 a1 b1 h1 p1 x1 e1 out rps requests wrk_cpu
  a0=$(cpu_ticks "$a_pid"); b0=$(cpu_ticks "$b_pid"); h0=$(cpu_ticks "$haproxy_pid")
  # shellcheck disable=SC2086
  p0=$(cpu_ticks $pg_pids); read -r x0 e0 < <(pg_counters)
  out=$(/usr/bin/time -f 'wrk_cpu %U %S' wrk -t2 -c8 -d"${DURATION}s" \
    -H "Authorization: Bearer $FLEET_API_KEY" "$target/v1/devices?limit=100" 2>&1)
  a1=$(cpu_ticks "$a_pid"); b1=$(cpu_ticks "$b_pid"); h1=$(cpu_ticks "$haproxy_pid")
  # shellcheck disable=SC2086
  p1=$(cpu_ticks $pg_pids)
  # PostgreSQL's backends publish their statistics up to a second late.
  sleep 2
  read -r x1 e1 < <(pg_counters)
  rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  wrk_cpu=$(awk '/^wrk_cpu/ { print $2 + $3 }' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "$name: non-2xx answers: $out" >&2; exit 1; fi
  awk -v name="$name" -v rps="$rps" -v n="$requests" -v t="$TICKS" -v d="$DURATION" \
    -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v h=$((h1 - h0)) -v p=$((p1 - p0)) -v w="$wrk_cpu" \
    -v x=$((x1 - x0)) -v e=$((e1 - e0)) 'BEGIN {
      us = 1e6 / t / n
      total = (a + b + h + p) / t + w
      printf "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f %% | %.2f | %.2f |\n",
        name, rps, (a + b) * us, h * us, p * us, w * 1e6 / n, total * 1e6 / n,
        100 * total / d, x / n, e / n
    }'
}

# Every replica's pool opens its connections (PostgreSQL backends counted from here on).
for lb in "$lb_two" "$lb_sized"; do
  wrk -t2 -c8 -d3s -H "Authorization: Bearer $FLEET_API_KEY" "http://127.0.0.1:$lb/v1/devices?limit=100" >/dev/null
done
sleep 2

echo
echo "## One replica against two (PostgreSQL, $N devices, wrk 8 connections, ${DURATION} s per phase)"
echo
echo "| phase | req/s | replicas µs/req | haproxy µs/req | PostgreSQL µs/req | wrk µs/req | all µs/req | CPU used (of 200 %) | PG transactions/req | epoch reads/req |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for round in $(seq 1 "$ROUNDS"); do
  phase "round $round: one, direct" "$a_url" "$a_pid" "$b_pid"
  phase "round $round: one behind haproxy" "http://127.0.0.1:$lb_one" "$a_pid" "$b_pid"
  phase "round $round: two behind haproxy" "http://127.0.0.1:$lb_two" "$a_pid" "$b_pid"
  phase "round $round: two, 1 worker thread each, behind haproxy" "http://127.0.0.1:$lb_sized" "$c_pid" "$d_pid"
done
