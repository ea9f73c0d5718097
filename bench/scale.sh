#!/usr/bin/env bash
# Benchmark for the scaled-out deployment (issue 10): the core listing, bulk and firmware
# figures on PostgreSQL + an S3-compatible server (moto) beside SQLite + local blobs, in the
# same run, each with the storage's own limit measured beside it:
#   1. `fleet device import` of an N-row CSV, `device list --all -o json`, `cohort assign` and
#      `device move` of all N devices, on both deployments; baselines: the same list dumped as
#      JSON by `sqlite3` and by `psql` (json_agg over the same rows);
#   2. `fleet firmware push` of a SIZE_MIB file (default 1024) on both deployments; baselines:
#      `openssl dgst -sha256` of the file, and the S3 server's own upload limits: `curl
#      --aws-sigv4 -T` of the file in one PUT, and boto3's multipart upload of it in 8 MiB
#      parts, four at a time (the shape of the push's own upload);
#   3. one replica against two behind haproxy (`wrk`, `GET /v1/devices?limit=100`, 8
#      connections, 15 s each), on PostgreSQL; one replica both directly and behind the same
#      haproxy (the proxy's own cost on this machine), twice each, alternating.
# Usage: bench/scale.sh [N] [SIZE_MIB]   (defaults 100000 and 1024); FIRMWARE_ONLY=1 runs part 2
# alone (the push and its baselines, on both deployments). S3_ENDPOINT=http://HOST:PORT uses
# an S3 server you started (access key and secret `bench`, path-style) instead of moto, and
# S3_NAME names it in the table. Needs the same as .ci/run (PostgreSQL, python3 venv for moto,
# whose boto3 the multipart baseline uses; haproxy) plus sqlite3, wrk, openssl, curl, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-100000}
SIZE_MIB=${2:-1024}
for tool in sqlite3 wrk openssl curl python3 psql; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install sqlite3 wrk openssl curl postgresql-client)" >&2; exit 1; }
done
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
[ -x "$HAPROXY" ] || { echo "missing haproxy (apt-get install haproxy)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "missing GNU time (apt-get install time)" >&2; exit 1; }

if [ -n "${FLEET_BIN:-}" ]; then
  BIN=$FLEET_BIN
else
  cargo build --release --locked --quiet
  BIN=$PWD/target/release/fleet
fi

work=$(mktemp -d)
pids=()
s3_endpoint=""
s3_name=${S3_NAME:-moto}
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  [ -z "${S3_ENDPOINT:-}" ] && [ -n "$s3_endpoint" ] && bash .ci/s3 stop "$s3_endpoint" || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 200); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }
now_s() { date +%s.%N; }
secs() { awk "BEGIN{printf \"%.3f\", $2 - $1}"; }
ratio() { awk "BEGIN{ printf \"%.2fx\", $1 / ($2 > 0 ? $2 : 0.001) }"; }
rate() { awk "BEGIN{ printf \"%.0f\", $1 / ($2 > 0 ? $2 : 0.001) }"; }

pg_url=$(bash .ci/postgres "${PG_DB:-fleet_bench}")  # PG_DB: a database of your own
# moto's venv has boto3, for the multipart baseline.
moto_python=$(bash .ci/s3 install)
s3_endpoint=${S3_ENDPOINT:-$(bash .ci/s3 start)}
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
# The payload hash header: some servers (s3s) refuse a signed request without one.
s3_curl() {
  curl -fsS -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user bench:bench "$@"
}
s3_curl -X PUT "$s3_endpoint/fleet-bench" >/dev/null || \
  echo "(could not create bucket fleet-bench at $s3_endpoint; going on in case it exists)" >&2

python3 - "$N" >"$work/import.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("identifier,description,tags,target")
for i in range(1, n + 1):
    print(f"sn-{i:07d},,site:berlin,armv7-unknown-linux-gnueabihf")
PY
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$work/fw.img"

# start_server NAME ARGS...: a replica on a free port; sets $url.
start_server() {
  local name=$1; shift
  local port; port=$(free_port)
  RUST_LOG=warn "$BIN" server --listen "127.0.0.1:$port" --no-profile "$@" 2>"$work/$name.log" &
  pids+=($!)
  url=http://127.0.0.1:$port
  wait_http "$url/v1/health"
}

# measure NAME: the bulk, list and push figures against $FLEET_API_URL; writes $work/NAME.*
measure() {
  local name=$1 t0 t1
  "$BIN" -q product create bench-a >/dev/null
  "$BIN" -q product create bench-b >/dev/null
  if [ -z "${FIRMWARE_ONLY:-}" ]; then
  "$BIN" -q cohort create rollout --product bench-a >/dev/null
  t0=$(now_s); "$BIN" -q device import "$work/import.csv" --product bench-a --yes -o id >/dev/null; t1=$(now_s)
  secs "$t0" "$t1" >"$work/$name.import"
  t0=$(now_s); "$BIN" -q device list --all -o json >"$work/$name.list.json"; t1=$(now_s)
  secs "$t0" "$t1" >"$work/$name.list"
  t0=$(now_s); "$BIN" -q cohort assign rollout --product bench-a --no-cohort --yes -o id >/dev/null; t1=$(now_s)
  secs "$t0" "$t1" >"$work/$name.assign"
  t0=$(now_s); "$BIN" -q device move --product bench-a --to-product bench-b --yes -o id >/dev/null; t1=$(now_s)
  secs "$t0" "$t1" >"$work/$name.move"
  fi
  t0=$(now_s)
  /usr/bin/time -f '%M' -o "$work/$name.push.rss" "$BIN" -q firmware push "$work/fw.img" \
    -P bench-b -a app --version 1.0 -t armv7 >/dev/null
  t1=$(now_s)
  secs "$t0" "$t1" >"$work/$name.push"
  [ -n "${FIRMWARE_ONLY:-}" ] && return 0
  local listed; listed=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/$name.list.json")
  [ "$listed" -eq "$N" ] || { echo "$name: listed $listed devices, expected $N" >&2; exit 1; }
}

echo "== SQLite + local blobs" >&2
export FLEET_CONFIG_DIR=$work/config-sqlite
start_server sqlite --data-dir "$work/sqlite"
export FLEET_API_URL=$url
FLEET_API_KEY=$(cat "$work/sqlite/admin-api-key"); export FLEET_API_KEY
measure sqlite
sqlite_dump=–; pg_dump=–
# The dump is of the whole device: since migration 0019 that is `devices` joined to
# `device_details`, read through the `device_records` view (the join is now part of the baseline).
[ -z "${FIRMWARE_ONLY:-}" ] && {
t0=$(now_s)
sqlite3 -json "$work/sqlite/fleet.db" "SELECT * FROM device_records" >"$work/sqlite-dump.json"
t1=$(now_s); sqlite_dump=$(secs "$t0" "$t1")
}

echo "== PostgreSQL + S3 ($s3_name)" >&2
export FLEET_CONFIG_DIR=$work/config-pg
start_server pg --data-dir "$work/pg" --database-url "$pg_url" \
  --blob-store s3://fleet-bench/one --s3-endpoint "$s3_endpoint" --s3-path-style
pg_url_one=$url
export FLEET_API_URL=$url
FLEET_API_KEY=$(cat "$work/pg/admin-api-key"); export FLEET_API_KEY
measure pg
[ -z "${FIRMWARE_ONLY:-}" ] && {
t0=$(now_s)
psql "$pg_url" -Atc "SELECT json_agg(d) FROM device_records d" >"$work/pg-dump.json"
t1=$(now_s); pg_dump=$(secs "$t0" "$t1")
}

echo "== storage limits" >&2
t0=$(now_s); openssl dgst -sha256 "$work/fw.img" >/dev/null; t1=$(now_s); openssl_s=$(secs "$t0" "$t1")
t0=$(now_s)
s3_curl -T "$work/fw.img" "$s3_endpoint/fleet-bench/curl-upload.img" >/dev/null
t1=$(now_s); curl_s3=$(secs "$t0" "$t1")
t0=$(now_s)
"$moto_python" - "$s3_endpoint" "$work/fw.img" <<'PY'
import sys
import boto3
from boto3.s3.transfer import TransferConfig
endpoint, path = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="bench",
                  aws_secret_access_key="bench", region_name="us-east-1")
part = 8 * 1024 * 1024
s3.upload_file(path, "fleet-bench", "boto3-upload.img",
               Config=TransferConfig(multipart_threshold=part, multipart_chunksize=part,
                                     max_concurrency=4))
PY
t1=$(now_s); boto3_s3=$(secs "$t0" "$t1")

one_rps=(– – –); one_lb_rps=(– – –); two_rps=(– – –)
if [ -z "${FIRMWARE_ONLY:-}" ]; then
echo "== one replica against two behind haproxy" >&2
start_server pg2 --data-dir "$work/pg" --database-url "$pg_url" \
  --blob-store s3://fleet-bench/one --s3-endpoint "$s3_endpoint" --s3-path-style
lb_port=$(free_port)
lb_one_port=$(free_port)
cat >"$work/haproxy.cfg" <<CFG
global
  maxconn 512
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 60s
frontend fleet
  bind 127.0.0.1:$lb_port
  default_backend replicas
backend replicas
  balance roundrobin
  server a ${pg_url_one#http://}
  server b ${url#http://}
frontend fleet_one
  bind 127.0.0.1:$lb_one_port
  default_backend replica_a
backend replica_a
  server a ${pg_url_one#http://}
CFG
"$HAPROXY" -db -f "$work/haproxy.cfg" >/dev/null 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$lb_port/v1/health"
wrk_rate() {
  wrk -t2 -c8 -d15s -H "Authorization: Bearer $FLEET_API_KEY" "$1/v1/devices?limit=100" \
    | awk '/Requests\/sec/ { print $2 }'
}
# Twice each, alternating, so a drift in the machine's load falls on both deployments.
for round in 1 2; do
  one_rps[$round]=$(wrk_rate "$pg_url_one")
  one_lb_rps[$round]=$(wrk_rate "http://127.0.0.1:$lb_one_port")
  two_rps[$round]=$(wrk_rate "http://127.0.0.1:$lb_port")
done
fi

r() { cat "$work/$1"; }
size_mb=$SIZE_MIB
echo
echo "## scale-out: PostgreSQL + S3 ($s3_name) beside SQLite + local blobs, $N devices, $SIZE_MIB MiB firmware"
echo
echo "| operation | SQLite + local s | PostgreSQL + S3 s | PG / SQLite | PG rate | target on PG |"
echo "|---|---|---|---|---|---|"
[ -z "${FIRMWARE_ONLY:-}" ] && echo "| \`device import\` $N rows | $(r sqlite.import) | $(r pg.import) | $(ratio "$(r pg.import)" "$(r sqlite.import)") | $(rate "$N" "$(r pg.import)") rows/s | – |"
[ -z "${FIRMWARE_ONLY:-}" ] && echo "| \`device list --all -o json\` | $(r sqlite.list) | $(r pg.list) | $(ratio "$(r pg.list)" "$(r sqlite.list)") | $(rate "$N" "$(r pg.list)") devices/s | ≥ 100,000 devices/s |"
[ -z "${FIRMWARE_ONLY:-}" ] && echo "| \`cohort assign\` all | $(r sqlite.assign) | $(r pg.assign) | $(ratio "$(r pg.assign)" "$(r sqlite.assign)") | $(rate "$N" "$(r pg.assign)") devices/s | < 3 s |"
[ -z "${FIRMWARE_ONLY:-}" ] && echo "| \`device move\` all | $(r sqlite.move) | $(r pg.move) | $(ratio "$(r pg.move)" "$(r sqlite.move)") | $(rate "$N" "$(r pg.move)") devices/s | < 3 s |"
echo "| \`firmware push\` $SIZE_MIB MiB | $(r sqlite.push) | $(r pg.push) | $(ratio "$(r pg.push)" "$(r sqlite.push)") | $(rate "$size_mb" "$(r pg.push)") MiB/s | ≤ 2× SQLite/local |"
echo
echo "| baseline, same run | s |"
echo "|---|---|"
echo "| \`sqlite3 -json\` dump of the devices | $sqlite_dump |"
echo "| \`psql\` \`json_agg\` dump of the devices | $pg_dump |"
echo "| \`openssl dgst -sha256\` of the firmware file | $openssl_s |"
echo "| \`curl --aws-sigv4 -T\` of the firmware file into $s3_name (one PUT) | $curl_s3 |"
echo "| boto3 multipart upload of the firmware file into $s3_name (8 MiB parts, 4 at a time) | $boto3_s3 |"
echo
echo "Client peak RSS of the push: SQLite $(( $(r sqlite.push.rss) / 1024 )) MB, PostgreSQL + S3 $(( $(r pg.push.rss) / 1024 )) MB."
[ -n "${FIRMWARE_ONLY:-}" ] && exit 0
echo
echo "| \`GET /v1/devices?limit=100\`, wrk 8 connections, PostgreSQL | requests/s |"
echo "|---|---|"
for round in 1 2; do
  echo "| round $round: one replica, direct | ${one_rps[$round]} |"
  echo "| round $round: one replica behind haproxy | ${one_lb_rps[$round]} |"
  echo "| round $round: two replicas behind haproxy | ${two_rps[$round]} ($(ratio "${two_rps[$round]}" "${one_rps[$round]}") of one direct, $(ratio "${two_rps[$round]}" "${one_lb_rps[$round]}") of one behind haproxy) |"
done
