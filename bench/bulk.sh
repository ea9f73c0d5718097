#!/usr/bin/env bash
# Benchmark for bulk device operations. Builds in release mode (or takes FLEET_BIN), starts a
# local service on a fresh data dir, seeds N devices straight into its database, then measures
# through the real CLI, end to end (process start, request, one transaction, answer, output)
# — each beside a baseline taken in the same run: the same change as bare SQL in the engine's
# own shell.
#   1. `fleet cohort assign` of all N devices vs the same UPDATE;
#   2. `fleet device move` of all N devices to another product vs the same UPDATE;
#   3. `fleet device import` of an N-row CSV vs the same INSERT.
# SQLite: the baselines run in `sqlite3` on a copy of the database taken after seeding.
# PostgreSQL (when `psql` and .ci/postgres work; BULK_POSTGRES=0 skips it): the baselines run in
# `psql` on the live database first, each undone afterwards (untimed, then VACUUM ANALYZE).
# The service does more than the baseline: it resolves the selection, records the audit trail
# (one event per operation, one index row per device) and answers with every changed device's
# ID, which the CLI prints (`-o id`). With BULK_PROFILE=1 the service logs every statement's
# time (sqlx), and the slowest statements of each operation are printed after the table.
# BULK_CHECKED_IN=1 seeds every device as one that has checked in (a status row and a running
# version, as a live fleet has them); a move or cohort change then also moves those rows and
# their summaries. Without it the devices have never checked in, the cheapest case.
# Usage: bench/bulk.sh [N]   (default 100000). Needs sqlite3, curl, python3 (and psql).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-100000}
for tool in sqlite3 curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install sqlite3 curl python3)" >&2; exit 1; }
done
postgres=${BULK_POSTGRES:-1}
command -v psql >/dev/null || postgres=0

if [ -n "${FLEET_BIN:-}" ]; then
  BIN=$FLEET_BIN
else
  cargo build --release --locked --quiet
  BIN=$PWD/target/release/fleet
fi

work=$(mktemp -d)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=""
}
cleanup() { stop_server; [ -n "${BULK_KEEP:-}" ] && cp "$work"/*.log "$BULK_KEEP"/ 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

log_filter=${BULK_LOG:-warn}
[ "${BULK_PROFILE:-0}" = 1 ] && log_filter=warn,sqlx::query=debug

# start_server NAME ARGS...: a service on a free port, its key and URL exported.
start_server() {
  local name=$1; shift
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export FLEET_CONFIG_DIR=$work/config-$name
  RUST_LOG=$log_filter NO_COLOR=1 "$BIN" server --listen "127.0.0.1:$port" --data-dir "$work/$name" \
    --no-profile "$@" 2>>"$work/$name.log" &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  export FLEET_API_URL=http://127.0.0.1:$port
  FLEET_API_KEY=$(cat "$work/$name/admin-api-key")
  export FLEET_API_KEY
  "$BIN" -q product create bench-a >/dev/null
  "$BIN" -q product create bench-b >/dev/null
  "$BIN" -q cohort create rollout --product bench-a >/dev/null
}

now_s() { date +%s.%N; }
# Runs a command, stdout to a file; prints "seconds lines".
timed() {
  local start end
  start=$(now_s)
  "$@" >"$work/out.txt"
  end=$(now_s)
  echo "$(awk "BEGIN{printf \"%.3f\", $end - $start}") $(wc -l <"$work/out.txt")"
}
ratio() { awk "BEGIN{ printf \"%.2fx\", $1 / ($2 > 0 ? $2 : 0.001) }"; }
rate() { awk "BEGIN{ printf \"%.0f\", $1 / ($2 > 0 ? $2 : 0.001) }"; }
check() { [ "$1" -eq "$N" ] || { echo "$2 printed $1 devices, expected $N" >&2; exit 1; }; }

python3 - "$N" >"$work/import.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("identifier,description,tags,target")
for i in range(1, n + 1):
    print(f"imp-{i:07d},,site:berlin,armv7-unknown-linux-gnueabihf")
PY

# The three operations through the CLI; sets assign_s move_s import_s reimport_s.
run_cli() {
  local name=$1 n
  mark() { echo "=== $1" >>"$work/$name.log"; }
  mark assign
  read -r assign_s n < <(timed "$BIN" -q cohort assign rollout --product bench-a --no-cohort --yes -o id)
  check "$n" "cohort assign"
  mark move
  read -r move_s n < <(timed "$BIN" -q device move --product bench-a --to-product bench-b --yes -o id)
  check "$n" "device move"
  mark import
  read -r import_s n < <(timed "$BIN" -q device import "$work/import.csv" --product bench-b --yes -o id)
  check "$n" "device import"
  mark reimport
  read -r reimport_s _ < <(timed "$BIN" -q device import "$work/import.csv" --product bench-b --yes -o id)
  mark end
  # The audit trail: one event for the move, and a device's own history finds it.
  local moved device found
  moved=$("$BIN" -q event list --action device.moved -o id | wc -l)
  [ "$moved" -eq 1 ] || { echo "$name: $moved device.moved events, expected 1" >&2; exit 1; }
  device=$("$BIN" -q device show sn-0000777 -o id)
  found=$("$BIN" -q event list --resource "$device" --action device.moved -o json | grep -c '"identifier": "sn-0000777"' || true)
  [ "$found" -ge 1 ] || { echo "$name: the move is not in sn-0000777's history" >&2; exit 1; }
}

# The slowest statements of each operation, from the service's sqlx log.
profile() {
  [ "${BULK_PROFILE:-0}" = 1 ] || return 0
  echo
  echo "### where the time goes ($1), statements ≥ 5 ms"
  python3 - "$work/$1.log" <<'PY'
import re, sys
op, rows = None, []
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("=== "):
        op = line[4:].strip(); continue
    m = re.search(r'elapsed(?:_secs)?[=:]\s*"?([0-9.]+)(µs|ms|s)?', line)
    if not m or op in (None, "end"): continue
    v = float(m.group(1)); unit = m.group(2) or "s"
    ms = v / 1000 if unit == "µs" else v if unit == "ms" else v * 1000
    stmt = re.search(r'summary="([^"]*)"', line)
    rows.append((op, ms, stmt.group(1) if stmt else line.strip()[:100]))
for o in ("assign", "move", "import"):
    mine = [r for r in rows if r[0] == o]
    print(f"- {o}: {sum(r[1] for r in mine):.0f} ms in {len(mine)} statements")
    for _, ms, s in sorted(mine, key=lambda r: -r[1]):
        if ms >= 5: print(f"  - {ms:7.1f} ms  {s}")
PY
}

table() {
  local engine=$1 base_assign=$2 base_move=$3 base_import=$4
  echo
  echo "## bulk operations, $N devices, $engine"
  echo
  echo "| operation | fleet CLI wall s | bare SQL s | ratio | devices/s (fleet) |"
  echo "|---|---|---|---|---|"
  echo "| \`fleet cohort assign --no-cohort\` (all $N) | $assign_s | $base_assign | $(ratio "$assign_s" "$base_assign") | $(rate "$N" "$assign_s") |"
  echo "| \`fleet device move --product … --to-product …\` (all $N) | $move_s | $base_move | $(ratio "$move_s" "$base_move") | $(rate "$N" "$move_s") |"
  echo "| \`fleet device import\` ($N-row CSV) | $import_s | $base_import | $(ratio "$import_s" "$base_import") | $(rate "$N" "$import_s") |"
  echo "| \`fleet device import\` again (all unchanged) | $reimport_s | – | – | $(rate "$N" "$reimport_s") |"
}

# ---- SQLite (BULK_SQLITE=0 skips it)
if [ "${BULK_SQLITE:-1}" = 1 ]; then
start_server sqlite
db=$work/sqlite/fleet.db
sqlite3 "$db" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $N)
INSERT INTO devices (id, org_id, product_id, cohort_id, quarantined, updated_at, revision)
SELECT printf('dev_00000000000000000000%012x', n), p.org_id, p.id, NULL, FALSE,
       strftime('%Y-%m-%dT%H:%M:%fZ'), 1
FROM seq, products p WHERE p.name = 'bench-a';
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $N)
INSERT INTO device_details (device_id, org_id, identifier, description, tags, target, created_at)
SELECT printf('dev_00000000000000000000%012x', n), p.org_id, printf('sn-%07d', n),
       'seeded by bench/bulk.sh', '["line:consumer","site:berlin"]',
       'armv7-unknown-linux-gnueabihf', strftime('%Y-%m-%dT%H:%M:%fZ')
FROM seq, products p WHERE p.name = 'bench-a';
COMMIT;
SQL
[ "${BULK_CHECKED_IN:-0}" = 1 ] && sqlite3 "$db" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
INSERT INTO device_status (device_id, last_seen_at, check_ins, product_id, cohort_id)
SELECT id, strftime('%Y-%m-%dT%H:%M:%fZ'), 1, product_id, COALESCE(cohort_id, '') FROM devices;
INSERT INTO device_running (device_id, artifact, version, product_id, cohort_id)
SELECT id, 'app', '1.0.0', product_id, COALESCE(cohort_id, '') FROM devices;
COMMIT;
SQL
prod_a=$(sqlite3 "$db" "SELECT id FROM products WHERE name = 'bench-a'")
prod_b=$(sqlite3 "$db" "SELECT id FROM products WHERE name = 'bench-b'")
cohort=$(sqlite3 "$db" "SELECT id FROM cohorts WHERE name = 'rollout'")
sqlite3 "$db" ".backup '$work/base.db'"

stamp="strftime('%Y-%m-%dT%H:%M:%fZ')"
read -r sq_assign _ < <(timed sqlite3 "$work/base.db" "UPDATE devices SET cohort_id = '$cohort',
  updated_at = $stamp, revision = revision + 1 WHERE product_id = '$prod_a' AND cohort_id IS NULL;")
read -r sq_move _ < <(timed sqlite3 "$work/base.db" "UPDATE devices SET product_id = '$prod_b',
  cohort_id = NULL, needs_provisioning = TRUE, credentials_revoked_at = $stamp, updated_at = $stamp,
  revision = revision + 1 WHERE product_id = '$prod_a';")
read -r sq_import _ < <(timed sqlite3 "$work/base.db" "BEGIN;
  WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $N)
  INSERT INTO devices (id, org_id, product_id, quarantined, updated_at, revision)
  SELECT printf('dev_11111111111111111111%012x', n), p.org_id, p.id, FALSE, $stamp, 1
  FROM seq, products p WHERE p.name = 'bench-b';
  WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $N)
  INSERT INTO device_details (device_id, org_id, identifier, description, tags, target, created_at)
  SELECT printf('dev_11111111111111111111%012x', n), p.org_id, printf('imp-%07d', n), '',
         '[\"site:berlin\"]', 'armv7-unknown-linux-gnueabihf', $stamp
  FROM seq, products p WHERE p.name = 'bench-b';
  COMMIT;")
run_cli sqlite
rows=$(sqlite3 "$db" "SELECT count(*) FROM event_devices ed JOIN events e ON e.id = ed.event_id WHERE e.action = 'device.moved'")
[ "$rows" -eq "$N" ] || { echo "sqlite: $rows moved devices indexed, expected $N" >&2; exit 1; }
stop_server
table SQLite "$sq_assign" "$sq_move" "$sq_import"
profile sqlite
fi

# ---- PostgreSQL
[ "$postgres" = 1 ] || { echo; echo "(PostgreSQL skipped: BULK_POSTGRES=0 or no psql)"; exit 0; }
pg_url=$(bash .ci/postgres fleet_bench_bulk)
start_server pg --database-url "$pg_url"
psql -q "$pg_url" -v ON_ERROR_STOP=1 <<SQL
INSERT INTO devices (id, org_id, product_id, cohort_id, quarantined, updated_at, revision)
SELECT 'dev_00000000000000000000' || lpad(to_hex(n), 12, '0'), p.org_id, p.id, NULL, FALSE,
       now(), 1
FROM generate_series(1, $N) n, products p WHERE p.name = 'bench-a';
INSERT INTO device_details (device_id, org_id, identifier, description, tags, target, created_at)
SELECT 'dev_00000000000000000000' || lpad(to_hex(n), 12, '0'), p.org_id,
       'sn-' || lpad(n::text, 7, '0'), 'seeded by bench/bulk.sh', '["line:consumer","site:berlin"]',
       'armv7-unknown-linux-gnueabihf', now()
FROM generate_series(1, $N) n, products p WHERE p.name = 'bench-a';
VACUUM ANALYZE devices;
VACUUM ANALYZE device_details;
SQL
[ "${BULK_CHECKED_IN:-0}" = 1 ] && psql -q "$pg_url" -v ON_ERROR_STOP=1 <<SQL
INSERT INTO device_status (device_id, last_seen_at, check_ins, product_id, cohort_id)
SELECT id, now(), 1, product_id, COALESCE(cohort_id, '') FROM devices;
INSERT INTO device_running (device_id, artifact, version, product_id, cohort_id)
SELECT id, 'app', '1.0.0', product_id, COALESCE(cohort_id, '') FROM devices;
VACUUM ANALYZE device_status;
VACUUM ANALYZE device_running;
SQL
pg_prod_a=$(psql "$pg_url" -Atc "SELECT id FROM products WHERE name = 'bench-a'")
pg_prod_b=$(psql "$pg_url" -Atc "SELECT id FROM products WHERE name = 'bench-b'")
pg_cohort=$(psql "$pg_url" -Atc "SELECT id FROM cohorts WHERE name = 'rollout'")
read -r pg_assign _ < <(timed psql -q "$pg_url" -c "UPDATE devices SET cohort_id = '$pg_cohort',
  updated_at = now(), revision = revision + 1 WHERE product_id = '$pg_prod_a' AND cohort_id IS NULL")
psql -q "$pg_url" -c "UPDATE devices SET cohort_id = NULL" >/dev/null
read -r pg_move _ < <(timed psql -q "$pg_url" -c "UPDATE devices SET product_id = '$pg_prod_b',
  cohort_id = NULL, needs_provisioning = TRUE, credentials_revoked_at = now(), updated_at = now(),
  revision = revision + 1 WHERE product_id = '$pg_prod_a'")
psql -q "$pg_url" -c "UPDATE devices SET product_id = '$pg_prod_a', needs_provisioning = FALSE,
  credentials_revoked_at = NULL" >/dev/null
# Two statements in one -c: psql sends them as one query, which runs as one transaction.
read -r pg_import _ < <(timed psql -q "$pg_url" -c "INSERT INTO devices (id, org_id, product_id,
  quarantined, updated_at, revision)
  SELECT 'dev_11111111111111111111' || lpad(to_hex(n), 12, '0'), p.org_id, p.id, FALSE, now(), 1
  FROM generate_series(1, $N) n, products p WHERE p.name = 'bench-b';
  INSERT INTO device_details (device_id, org_id, identifier, description, tags, target, created_at)
  SELECT 'dev_11111111111111111111' || lpad(to_hex(n), 12, '0'), p.org_id,
         'imp-' || lpad(n::text, 7, '0'), '', '[\"site:berlin\"]', 'armv7-unknown-linux-gnueabihf',
         now()
  FROM generate_series(1, $N) n, products p WHERE p.name = 'bench-b'")
psql -q "$pg_url" -c "DELETE FROM devices WHERE id LIKE 'dev_1111%'" >/dev/null
psql -q "$pg_url" -c "VACUUM ANALYZE devices" -c "VACUUM ANALYZE device_details" >/dev/null
run_cli pg
rows=$(psql "$pg_url" -Atc "SELECT count(*) FROM event_devices ed JOIN events e ON e.id = ed.event_id WHERE e.action = 'device.moved'")
[ "$rows" -eq "$N" ] || { echo "pg: $rows moved devices indexed, expected $N" >&2; exit 1; }
stop_server
table PostgreSQL "$pg_assign" "$pg_move" "$pg_import"
profile pg
