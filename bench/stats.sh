#!/usr/bin/env bash
# Benchmark for `fleet product stats` at scale, on SQLite and on PostgreSQL, in one run:
#   1. a product with DEVICES devices (default 1,000,000) and about five update reports each is
#      written straight into the database by SQL (bench/stats/seed.*.sql: cohorts, quarantine,
#      last check-ins from minutes to weeks ago, versions, two releases per cohort with
#      failures), through the triggers that keep the statistics' summaries (migration 0013);
#   2. the service's answer is checked against the same figures counted from the raw tables
#      (bench/stats/raw.*.sql at the answer's `generated_at`): they must be equal;
#   3. hyperfine times, RUNS times each: `fleet product stats bench` end to end (process start,
#      HTTP, the service's read transaction, the table on a pipe); the same figures by hand in
#      sqlite3/psql from the same summaries (bench/stats/hand.*.sql, process start included);
#      and from the raw tables (raw.*.sql, what the service did before the summaries).
# Prints a table of milliseconds and ratios. Targets: fleet < 300 ms, and within 2x of the
# hand SQL on the same summaries.
# Usage: bench/stats.sh [DEVICES]   RUNS (default 10); FLEET_BIN=path skips the release build;
#   BACKENDS (default "sqlite pg") picks the databases; the PostgreSQL database fleet_stats_bench
#   is dropped at the end unless KEEP_PG_DB is set.
# Needs sqlite3, psql, hyperfine (apt-get install sqlite3 postgresql-client hyperfine), python3,
# curl, and this machine's PostgreSQL (.ci/postgres starts it).
set -euo pipefail
cd "$(dirname "$0")/.."

DEVICES=${1:-1000000}
RUNS=${RUNS:-10}
for tool in sqlite3 psql hyperfine python3 curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install sqlite3 postgresql-client hyperfine python3 curl)" >&2; exit 1; }
done
if [ -n "${FLEET_BIN:-}" ]; then
  BIN=$FLEET_BIN
else
  cargo build --release --locked --quiet
  BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/fleet
fi

work=$(mktemp -d)
server_pid=""
pg_db=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  # The seeded PostgreSQL database is gigabytes at a million devices: dropped unless KEEP_PG_DB.
  if [ -n "$pg_db" ] && [ -z "${KEEP_PG_DB:-}" ]; then
    if [ "$(id -u)" -eq 0 ]; then
      su postgres -c "psql -qc 'DROP DATABASE IF EXISTS $pg_db WITH (FORCE)'" >&2 || true
    else
      sudo -n -u postgres psql -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >&2 || true
    fi
  fi
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_s() { date +%s.%N; }
secs() { awk "BEGIN{printf \"%.1f\", $2 - $1}"; }
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# start_server NAME ARGS…: the service on a free port; sets FLEET_API_URL.
start_server() {
  local name=$1; shift
  local port; port=$(free_port)
  RUST_LOG=warn "$BIN" server --listen "127.0.0.1:$port" --no-profile "$@" 2>>"$work/$name.log" &
  server_pid=$!
  export FLEET_API_URL=http://127.0.0.1:$port
  for _ in $(seq 1 600); do
    curl -fsS "$FLEET_API_URL/v1/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the $name server did not start:" >&2; cat "$work/$name.log" >&2; exit 1
}
stop_server() { kill "$server_pid"; wait "$server_pid" || true; server_pid=""; }
fill() { sed -e "s/@ORG@/$org/g; s/@PRODUCT@/$product/g; s/@DEVICES@/$DEVICES/g; s/@NOW@/$1/g" "$2"; }
# medians RELEASE…: each release's median offer-to-success time as the service reads it: the
# bucket holding the middle from the bucket counts (migration 0017), then the middle rows
# through the index from that bucket's start, with the release written in.
medians() {
  for release in "$@"; do
    cat <<SQL
CREATE TEMP TABLE m_${release} AS SELECT bucket_ms, (n - 1) / 2 - below AS skip,
    CASE WHEN n % 2 = 0 THEN 2 ELSE 1 END AS k FROM (
    SELECT bucket_ms, devices, SUM(devices) OVER (ORDER BY bucket_ms) - devices AS below,
        SUM(devices) OVER () AS n
    FROM release_success_times WHERE release_id = '$release' AND devices > 0) b
WHERE below <= (n - 1) / 2 AND (n - 1) / 2 < below + devices;
SELECT offer_to_success_ms FROM release_devices WHERE release_id = '$release'
    AND offer_to_success_ms IS NOT NULL
    AND offer_to_success_ms >= (SELECT bucket_ms FROM m_${release})
    ORDER BY offer_to_success_ms LIMIT (SELECT k FROM m_${release})
    OFFSET (SELECT skip FROM m_${release});
SQL
  done
}
# raw_medians RELEASE…: the same without the bucket counts (what the service did before
# them): a count, then a walk to the middle through the index.
raw_medians() {
  for release in "$@"; do
    cat <<SQL
CREATE TEMP TABLE r_${release} AS SELECT COUNT(*) AS n FROM release_devices
WHERE release_id = '$release' AND offer_to_success_ms IS NOT NULL;
SELECT offer_to_success_ms FROM release_devices WHERE release_id = '$release'
    AND offer_to_success_ms IS NOT NULL ORDER BY offer_to_success_ms LIMIT 2
    OFFSET (SELECT (n - 1) / 2 FROM r_${release});
SQL
  done
}
# median_rows RELEASE…: for the check, each release's median counted from the raw rows, as
# one JSON line each (the mean of the two middle values for an even count, rounded down).
median_rows() {
  for release in "$@"; do
    local timed="FROM release_devices WHERE release_id = '$release' AND offer_to_success_ms IS NOT NULL"
    cat <<SQL
SELECT '{"figure": "median", "release_id": "$release", "ms": '
    || COALESCE(CAST((SELECT SUM(offer_to_success_ms) / COUNT(*) FROM (
        SELECT offer_to_success_ms $timed ORDER BY offer_to_success_ms
        LIMIT (SELECT 2 - COUNT(*) % 2 $timed) OFFSET (SELECT (COUNT(*) - 1) / 2 $timed)) m)
        AS TEXT), 'null') || '}';
SQL
  done
}
# The newest release of each cohort, the ones `product stats` shows.
newest="SELECT r.id FROM releases r WHERE r.id = (SELECT MAX(r2.id) FROM releases r2 WHERE r2.cohort_id = r.cohort_id)"

# check NAME RAW_JSON_LINES: the service's answer ($work/NAME.json) equals the raw counts.
check() {
  python3 - "$work/$1.json" "$2" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
rows = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
raw = next(r for r in rows if r["figure"] == "devices")
got = {**stats["devices"], **stats["connection"]}
bad = [f"{k}: {got[k]} != {raw[k]}" for k in raw if k != "figure" and got[k] != raw[k]]
medians = {r["release_id"]: r["ms"] for r in rows if r["figure"] == "median"}
versions = {(r["artifact"], r["version"]): r["devices"] for r in rows if r["figure"] == "version"}
answered = {(a["artifact"], v["version"]): v["devices"] for a in stats["firmware"] for v in a["versions"]}
if versions != answered:
    bad.append(f"versions {answered} != {versions}")
for u in stats["updates"]:
    states = {r["state"]: r["devices"] for r in rows if r["figure"] == "state" and r["release_id"] == u["release_id"]}
    for state in ["pending", "downloading", "installing", "succeeded", "failed", "rolled_back"]:
        if u[state] != states.get(state, 0):
            bad.append(f"{u['release_id']} {state}: {u[state]} != {states.get(state, 0)}")
    reasons = {r["reason"]: r["devices"] for r in rows if r["figure"] == "reason" and r["release_id"] == u["release_id"]}
    if u["median_offer_to_success_ms"] != medians.get(u["release_id"], "not counted"):
        bad.append(f"{u['release_id']} median: {u['median_offer_to_success_ms']} != {medians.get(u['release_id'])}")
    if {r["reason"]: r["devices"] for r in u["failure_reasons"]} != reasons:
        bad.append(f"{u['release_id']} reasons {u['failure_reasons']} != {reasons}")
if bad:
    sys.exit("the service's figures differ from the raw tables': " + "; ".join(bad))
print(f"figures equal to the raw tables' (devices {raw['total']}, online {raw['online']}, "
      f"{len(stats['updates'])} releases)", file=sys.stderr)
PY
}

# measure NAME HAND RAW: hyperfine of the three commands; the means in $work/NAME.means.
measure() {
  local name=$1 hand=$2 raw=$3
  hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$work/$name.hyperfine.json" \
    -n fleet "$BIN -q product stats bench" -n hand "$hand" >&2
  hyperfine -N --warmup 1 --runs 3 --export-json "$work/$name.raw.json" -n raw "$raw" >&2
  python3 - "$work/$name.hyperfine.json" "$work/$name.raw.json" >"$work/$name.means" <<'PY'
import json, sys
r = {x["command"]: x for f in sys.argv[1:] for x in json.load(open(f))["results"]}
print(" ".join(f"{r[c]['mean'] * 1000:.1f} {r[c]['stddev'] * 1000:.1f}" for c in ["fleet", "hand", "raw"]))
PY
}

BACKENDS=${BACKENDS:-sqlite pg}
case " $BACKENDS " in *" sqlite "*) ;; *) skip_sqlite=1 ;; esac
case " $BACKENDS " in *" pg "*) ;; *) skip_pg=1 ;; esac

# --- SQLite --------------------------------------------------------------------------------
if [ -z "${skip_sqlite:-}" ]; then
export FLEET_CONFIG_DIR=$work/config-sqlite
start_server sqlite --data-dir "$work/sqlite"
FLEET_API_KEY=$(cat "$work/sqlite/admin-api-key"); export FLEET_API_KEY
product=$("$BIN" -q product create bench -o id)
stop_server
db=$work/sqlite/fleet.db
org=$(sqlite3 "$db" "SELECT id FROM organizations")
echo "== SQLite: seeding $DEVICES devices" >&2
t0=$(now_s); fill x bench/stats/seed.sqlite.sql | sqlite3 "$db"; t1=$(now_s)
sqlite_seed=$(secs "$t0" "$t1")
# The devices seen in the last hour at the seed check in again now, as a live fleet's would
# have while the seed ran (its times are from its start): through the triggers, as check-ins.
sqlite3 "$db" "UPDATE device_status SET last_seen_at = strftime('%Y-%m-%dT%H:%M:%f+00:00',
  CAST(strftime('%s', last_seen_at) AS INTEGER) + $(date +%s) - ${t0%.*}, 'unixepoch')
  WHERE last_seen_at >= strftime('%Y-%m-%dT%H:%M:%f+00:00', ${t0%.*} - 3600, 'unixepoch')"
sqlite_reports=$(sqlite3 "$db" "SELECT COUNT(*) FROM update_reports")
start_server sqlite --data-dir "$work/sqlite"
"$BIN" -q product stats bench -o json >"$work/sqlite.json"
generated=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["generated_at"])' "$work/sqlite.json")
# sqlite3 -json prints one array per statement: flatten them to lines.
fill "$generated" bench/stats/raw.sqlite.sql | sqlite3 -json "$db" | python3 -c '
import json, sys
text = sys.stdin.read()
decoder, i = json.JSONDecoder(), 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    block, i = decoder.raw_decode(text, i)
    for row in block:
        print(json.dumps(row))
' >"$work/sqlite.raw"
releases=$(sqlite3 "$db" "$newest")
median_rows $releases | sqlite3 -batch "$db" >>"$work/sqlite.raw"
check sqlite "$work/sqlite.raw"
{ fill now bench/stats/hand.sqlite.sql; medians $releases; } >"$work/hand.sqlite.sql"
{ fill now bench/stats/raw.sqlite.sql; raw_medians $releases; } >"$work/raw.sqlite.sql"
measure sqlite "sqlite3 -init $work/hand.sqlite.sql -batch $db .quit" \
  "sqlite3 -init $work/raw.sqlite.sql -batch $db .quit"
stop_server
fi

# --- PostgreSQL ----------------------------------------------------------------------------
if [ -z "${skip_pg:-}" ]; then
pg_db=fleet_stats_bench
pg_url=$(bash .ci/postgres "$pg_db")
export FLEET_CONFIG_DIR=$work/config-pg
start_server pg --data-dir "$work/pg" --database-url "$pg_url"
FLEET_API_KEY=$(cat "$work/pg/admin-api-key"); export FLEET_API_KEY
product=$("$BIN" -q product create bench -o id)
org=$(psql "$pg_url" -Atc "SELECT id FROM organizations")
echo "== PostgreSQL: seeding $DEVICES devices" >&2
t0=$(now_s); fill x bench/stats/seed.postgres.sql | psql -q "$pg_url" >/dev/null; t1=$(now_s)
pg_seed=$(secs "$t0" "$t1")
psql -q "$pg_url" -c "UPDATE device_status SET last_seen_at = last_seen_at
  + (now() - to_timestamp(${t0%.*})) WHERE last_seen_at >= to_timestamp(${t0%.*}) - interval '1 hour'" \
  -c "VACUUM ANALYZE device_status, seen_hours"
pg_reports=$(psql "$pg_url" -Atc "SELECT COUNT(*) FROM update_reports")
"$BIN" -q product stats bench -o json >"$work/pg.json"
generated=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["generated_at"])' "$work/pg.json")
fill "$generated" bench/stats/raw.postgres.sql | psql -qAt "$pg_url" | grep '^{' >"$work/pg.raw"
releases=$(psql "$pg_url" -Atc "$newest")
median_rows $releases | psql -qAt "$pg_url" >>"$work/pg.raw"
check pg "$work/pg.raw"
{ fill now bench/stats/hand.postgres.sql; medians $releases; echo "ROLLBACK;"; } >"$work/hand.pg.sql"
{ fill now bench/stats/raw.postgres.sql; raw_medians $releases; echo "ROLLBACK;"; } >"$work/raw.pg.sql"
measure pg "psql -qAt $pg_url -o /dev/null -f $work/hand.pg.sql" \
  "psql -qAt $pg_url -o /dev/null -f $work/raw.pg.sql"
stop_server
fi

# --- the table -----------------------------------------------------------------------------
echo
echo "fleet product stats, $DEVICES devices; mean ± sd of $RUNS runs (raw: 3), ms; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-11s %9s %11s %15s %14s %10s %17s %10s\n' backend reports seeded "fleet stats" "hand SQL" "fleet/hand" "raw-table SQL" "raw/fleet"
for name in sqlite pg; do
  [ -f "$work/$name.means" ] || continue
  read -r fm fs hm hs rm rs <"$work/$name.means"
  if [ "$name" = sqlite ]; then label=SQLite; reports=$sqlite_reports; seeded=$sqlite_seed; else label=PostgreSQL; reports=$pg_reports; seeded=$pg_seed; fi
  printf '%-11s %9s %10ss %8s ± %-4s %7s ± %-4s %9s %10s ± %-5s %9s\n' "$label" "$reports" "$seeded" \
    "$fm" "$fs" "$hm" "$hs" "$(awk "BEGIN{printf \"%.2fx\", $fm / $hm}")" "$rm" "$rs" \
    "$(awk "BEGIN{printf \"%.1fx\", $rm / $fm}")"
done
