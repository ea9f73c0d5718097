#!/usr/bin/env bash
# Benchmark for bulk device operations (issue 3). Builds in release mode, starts a local service
# on a fresh data dir, seeds N devices straight into its SQLite file, then measures through the
# real CLI — each beside a baseline taken in the same run on a copy of the same database:
#   1. `fleet cohort assign` of all N devices vs the same UPDATE in the sqlite3 shell;
#   2. `fleet device move` of all N devices to another product vs the same UPDATE in sqlite3;
#   3. `fleet device import` of an N-row CSV (rows/s) vs the same INSERT in sqlite3.
# The service does more than the baseline UPDATE: it resolves the selection, writes one audit
# event per device and returns every affected device, which the CLI prints (`-o id`).
# Usage: bench/bulk.sh [N]   (default 100000). Needs sqlite3, curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-100000}
for tool in sqlite3 curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install sqlite3 curl python3)" >&2; exit 1; }
done

cargo build --release --locked --quiet
BIN=$PWD/target/release/fleet

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export FLEET_CONFIG_DIR=$work/config
RUST_LOG=warn "$BIN" server --listen "127.0.0.1:$port" --data-dir "$work/data" --no-profile 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done
export FLEET_API_URL=http://127.0.0.1:$port
FLEET_API_KEY=$(cat "$work/data/admin-api-key")
export FLEET_API_KEY

"$BIN" -q product create bench-a >/dev/null
"$BIN" -q product create bench-b >/dev/null
"$BIN" -q cohort create rollout --product bench-a >/dev/null
db=$work/data/fleet.db

# N devices in bench-a, no cohort, IDs in the service's format (prefix + 32 hex digits, ordered).
sqlite3 "$db" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $N)
INSERT INTO devices (id, org_id, product_id, cohort_id, identifier, description, tags, target,
                     quarantined, created_at, updated_at, revision)
SELECT printf('dev_00000000000000000000%012x', n), p.org_id, p.id, NULL, printf('sn-%07d', n),
       'seeded by bench/bulk.sh', '["line:consumer","site:berlin"]',
       'armv7-unknown-linux-gnueabihf', FALSE,
       strftime('%Y-%m-%dT%H:%M:%fZ'), strftime('%Y-%m-%dT%H:%M:%fZ'), 1
FROM seq, products p WHERE p.name = 'bench-a';
COMMIT;
SQL
echo "seeded $(sqlite3 "$db" "SELECT count(*) FROM devices") devices"
prod_a=$(sqlite3 "$db" "SELECT id FROM products WHERE name = 'bench-a'")
prod_b=$(sqlite3 "$db" "SELECT id FROM products WHERE name = 'bench-b'")
cohort=$(sqlite3 "$db" "SELECT id FROM cohorts WHERE name = 'rollout'")

# The baselines run on a consistent copy taken now, before the service changes anything.
sqlite3 "$db" ".backup '$work/base.db'"

now_s() { date +%s.%N; }
# Runs a command, stdout to a file; prints "seconds lines".
timed() {
  local start end
  start=$(now_s)
  "$@" >"$work/out.txt"
  end=$(now_s)
  echo "$(awk "BEGIN{printf \"%.3f\", $end - $start}") $(wc -l <"$work/out.txt")"
}

stamp="strftime('%Y-%m-%dT%H:%M:%fZ')"
assign_sql="UPDATE devices SET cohort_id = '$cohort', updated_at = $stamp, revision = revision + 1
            WHERE product_id = '$prod_a' AND cohort_id IS NULL;"
move_sql="UPDATE devices SET product_id = '$prod_b', cohort_id = NULL, needs_provisioning = TRUE,
          credentials_revoked_at = $stamp, updated_at = $stamp, revision = revision + 1
          WHERE product_id = '$prod_a';"
import_sql="WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $N)
  INSERT INTO devices (id, org_id, product_id, identifier, description, tags, target, quarantined,
                       created_at, updated_at, revision)
  SELECT printf('dev_11111111111111111111%012x', n), p.org_id, p.id, printf('imp-%07d', n), '',
         '[\"site:berlin\"]', 'armv7-unknown-linux-gnueabihf', FALSE, $stamp, $stamp, 1
  FROM seq, products p WHERE p.name = 'bench-b';"

read -r base_assign _ < <(timed sqlite3 "$work/base.db" "$assign_sql")
read -r base_move _ < <(timed sqlite3 "$work/base.db" "$move_sql")
read -r base_import _ < <(timed sqlite3 "$work/base.db" "$import_sql")

read -r assign_s assign_n < <(timed "$BIN" -q cohort assign rollout --product bench-a --no-cohort --yes -o id)
read -r move_s move_n < <(timed "$BIN" -q device move --product bench-a --to-product bench-b --yes -o id)

python3 - "$N" >"$work/import.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("identifier,description,tags,target")
for i in range(1, n + 1):
    print(f"imp-{i:07d},,site:berlin,armv7-unknown-linux-gnueabihf")
PY
read -r import_s import_n < <(timed "$BIN" -q device import "$work/import.csv" --product bench-b --yes -o id)
read -r reimport_s _ < <(timed "$BIN" -q device import "$work/import.csv" --product bench-b --yes -o id)

check() { [ "$1" -eq "$N" ] || { echo "$2 printed $1 devices, expected $N" >&2; exit 1; }; }
check "$assign_n" "cohort assign"
check "$move_n" "device move"
check "$import_n" "device import"
moved=$(sqlite3 "$db" "SELECT count(*) FROM devices WHERE product_id = '$prod_b' AND needs_provisioning")
events=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE action = 'device.moved'")
[ "$moved" -eq "$N" ] && [ "$events" -eq "$N" ] || { echo "moved $moved, events $events" >&2; exit 1; }

ratio() { awk "BEGIN{ printf \"%.1fx\", $1 / ($2 > 0 ? $2 : 0.001) }"; }
rate() { awk "BEGIN{ printf \"%.0f\", $1 / ($2 > 0 ? $2 : 0.001) }"; }
echo
echo "## bulk operations, $N devices"
echo
echo "| operation | fleet CLI wall s | sqlite3 baseline s | ratio | rows/s (fleet) |"
echo "|---|---|---|---|---|"
echo "| \`fleet cohort assign --no-cohort\` (all $N) | $assign_s | $base_assign | $(ratio "$assign_s" "$base_assign") | $(rate "$N" "$assign_s") |"
echo "| \`fleet device move --product … --to-product …\` (all $N) | $move_s | $base_move | $(ratio "$move_s" "$base_move") | $(rate "$N" "$move_s") |"
echo "| \`fleet device import\` ($N-row CSV) | $import_s | $base_import | $(ratio "$import_s" "$base_import") | $(rate "$N" "$import_s") |"
echo "| \`fleet device import\` again (all unchanged) | $reimport_s | – | – | $(rate "$N" "$reimport_s") |"
