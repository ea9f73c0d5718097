#!/usr/bin/env bash
# Listing and start-up (issue 15), on SQLite and PostgreSQL in the same run, each figure beside
# the machine's own limit measured in that run:
#   1. start-up: `fleet --version` and `fleet product list` (local service, SQLite) against
#      `/bin/true` (hyperfine);
#   2. `fleet device list --all -o json` of N devices (wall, devices/s, client peak RSS, and the
#      RSS for a third of them: flat in N) against the same joined rows dumped as JSON by
#      `sqlite3 -json` and by `psql` (`json_agg`), on each backend's own service.
# Devices are seeded straight into each database (IDs in the service's format, a third in a
# cohort, two tags and a target each). Best of 3 for every listing and dump.
# Usage: bench/listing.sh [N]   (default 100000; FLEET_BIN=path skips the build). Needs
# hyperfine, sqlite3, psql (and a PostgreSQL reachable by .ci/postgres), curl, python3, GNU time.
# STARTUP_ONLY=1 runs part 1 alone (no seeding, no PostgreSQL); BEFORE_BIN=path adds another
# build's two start-up commands to the same hyperfine run, against the same service, so a
# change is measured beside what it replaces.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-100000}
STARTUP_ONLY=${STARTUP_ONLY:-}
tools=(hyperfine curl python3)
[ -n "$STARTUP_ONLY" ] || tools+=(sqlite3 psql)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install hyperfine sqlite3 postgresql-client curl)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "missing GNU time (apt-get install time)" >&2; exit 1; }

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

# start_server NAME ARGS...: a service on a free port with its own config dir; exports
# FLEET_API_URL, FLEET_API_KEY and FLEET_CONFIG_DIR for the commands that follow.
start_server() {
  local name=$1; shift
  local port; port=$(free_port)
  RUST_LOG=warn "$BIN" server --listen "127.0.0.1:$port" --data-dir "$work/$name" --no-profile "$@" \
    2>"$work/$name.log" &
  pids+=($!)
  export FLEET_API_URL=http://127.0.0.1:$port FLEET_CONFIG_DIR=$work/config-$name
  wait_http "$FLEET_API_URL/v1/health"
  FLEET_API_KEY=$(cat "$work/$name/admin-api-key"); export FLEET_API_KEY
  "$BIN" -q product create bench-sensor >/dev/null
  "$BIN" -q cohort create beta --product bench-sensor >/dev/null
}

# Runs a command with stdout to a file; prints "seconds max_rss_kb".
measure() {
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >"$work/out.json"
  cat "$work/time.txt"
}

# Best wall time of 3 runs, with that run's RSS.
best() {
  local best_line="" best_s=""
  for _ in 1 2 3; do
    local line s
    line=$(measure "$@")
    s=${line%% *}
    if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s; best_line=$line; fi
  done
  echo "$best_line"
}

count_json() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/out.json"; }
rate() { awk "BEGIN{ if ($2 > 0) printf \"%.0f\", $1 / $2; else print \"inf\" }"; }
ratio() { awk "BEGIN{ printf \"%.2fx\", $1 / ($2 > 0 ? $2 : 0.001) }"; }
mb() { awk "BEGIN{ printf \"%.1f\", $1 / 1024 }"; }

# The rows the service lists, read as it reads them: a device is its `devices` row joined to its
# `device_details` row (migration 0019), so the dumps join them too.
columns="d.id, i.identifier, d.product_id, p.name AS product, d.cohort_id, c.name AS cohort,
         i.description, i.tags, i.target, d.quarantined, d.needs_provisioning, i.created_at,
         d.updated_at, d.revision
  FROM devices d JOIN device_details i ON i.device_id = d.id
  JOIN products p ON p.id = d.product_id LEFT JOIN cohorts c ON c.id = d.cohort_id"

# Start-up: hyperfine's JSON into $work/startup.json, then its table on stdout.
startup() {
  local before=()
  if [ -n "${BEFORE_BIN:-}" ]; then
    before=(-n 'before: fleet --version' "$BEFORE_BIN --version"
            -n 'before: fleet product list' "$BEFORE_BIN product list")
  fi
  echo "start-up (hyperfine)" >&2
  hyperfine --warmup 10 --min-runs 100 -N --style none --export-json "$work/startup.json" \
    -n '/bin/true' '/bin/true' \
    "${before[@]}" \
    -n 'fleet --version' "$BIN --version" \
    -n 'fleet product list' "$BIN product list" >/dev/null
}

print_startup() {
  echo
  echo "Start-up (hyperfine -N, warm, ≥ 100 runs):"
  echo
  echo "| command | mean ms | min ms | vs \`/bin/true\` |"
  echo "|---|---:|---:|---:|"
  python3 - "$work/startup.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base = results[0]["mean"]
for r in results:
    print(f"| `{r['command']}` | {r['mean'] * 1000:.2f} | {r['min'] * 1000:.2f} | {r['mean'] / base:.2f}x |")
PY
}

echo "== SQLite" >&2
start_server sqlite
if [ -n "$STARTUP_ONLY" ]; then
  startup
  print_startup
  exit 0
fi
db=$work/sqlite/fleet.db
# Each device is a `devices` row and its `device_details` row (migration 0019), with one
# timestamp for both.
sqlite3 "$db" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
CREATE TEMP TABLE moment AS SELECT strftime('%Y-%m-%dT%H:%M:%fZ') AS now;
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $N)
INSERT INTO devices (id, org_id, product_id, cohort_id, quarantined, updated_at, revision)
SELECT printf('dev_00000000000000000000%012x', n), p.org_id, p.id,
       CASE WHEN n % 3 = 0 THEN (SELECT id FROM cohorts WHERE product_id = p.id) END, FALSE,
       m.now, 1
FROM seq, products p, moment m WHERE p.name = 'bench-sensor';
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $N)
INSERT INTO device_details (device_id, org_id, identifier, description, tags, target, created_at)
SELECT printf('dev_00000000000000000000%012x', n), p.org_id, printf('sn-%07d', n),
       'seeded by bench/listing.sh', '["line:consumer","site:berlin"]',
       'armv7-unknown-linux-gnueabihf', m.now
FROM seq, products p, moment m WHERE p.name = 'bench-sensor';
COMMIT;
SQL

startup

read -r s_fleet s_rss < <(best "$BIN" device list --all -o json)
s_listed=$(count_json)
read -r s_third s_third_rss < <(best "$BIN" device list --all --product bench-sensor --cohort beta -o json)
read -r s_dump _ < <(best sqlite3 -json "$db" "SELECT $columns ORDER BY d.id")

echo "== PostgreSQL" >&2
pg_url=$(bash .ci/postgres fleet_list_bench)
start_server pg --database-url "$pg_url"
# One transaction: both tables' rows get the same now().
psql -q "$pg_url" -v ON_ERROR_STOP=1 >/dev/null <<SQL
BEGIN;
INSERT INTO devices (id, org_id, product_id, cohort_id, quarantined, updated_at, revision)
SELECT 'dev_00000000000000000000' || lpad(to_hex(n), 12, '0'), p.org_id, p.id,
       CASE WHEN n % 3 = 0 THEN (SELECT id FROM cohorts WHERE product_id = p.id) END, FALSE,
       now(), 1
FROM generate_series(1, $N) n, products p WHERE p.name = 'bench-sensor';
INSERT INTO device_details (device_id, org_id, identifier, description, tags, target, created_at)
SELECT 'dev_00000000000000000000' || lpad(to_hex(n), 12, '0'), p.org_id,
       'sn-' || lpad(n::text, 7, '0'), 'seeded by bench/listing.sh',
       '["line:consumer","site:berlin"]', 'armv7-unknown-linux-gnueabihf', now()
FROM generate_series(1, $N) n, products p WHERE p.name = 'bench-sensor';
COMMIT;
ANALYZE;
SQL
read -r p_fleet p_rss < <(best "$BIN" device list --all -o json)
p_listed=$(count_json)
read -r p_third p_third_rss < <(best "$BIN" device list --all --product bench-sensor --cohort beta -o json)
read -r p_dump _ < <(best psql "$pg_url" -Atc "SELECT json_agg(t ORDER BY t.id) FROM (SELECT $columns) t")

[ "$s_listed" -eq "$N" ] || { echo "SQLite: listed $s_listed devices, expected $N" >&2; exit 1; }
[ "$p_listed" -eq "$N" ] || { echo "PostgreSQL: listed $p_listed devices, expected $N" >&2; exit 1; }

print_startup
echo
echo "Listing $N devices, \`-o json\` to a file (best of 3):"
echo
echo "| backend | command | devices | wall s | devices/s | vs dump | peak RSS MB |"
echo "|---|---|---:|---:|---:|---:|---:|"
echo "| SQLite | \`sqlite3 -json\` dump (baseline) | $N | $s_dump | $(rate "$N" "$s_dump") | 1.00x | – |"
echo "| SQLite | \`fleet device list --all -o json\` | $s_listed | $s_fleet | $(rate "$s_listed" "$s_fleet") | $(ratio "$s_fleet" "$s_dump") | $(mb "$s_rss") |"
echo "| SQLite | same, the cohort's third | $((N / 3)) | $s_third | $(rate $((N / 3)) "$s_third") | – | $(mb "$s_third_rss") |"
echo "| PostgreSQL | \`psql\` \`json_agg\` dump (baseline) | $N | $p_dump | $(rate "$N" "$p_dump") | 1.00x | – |"
echo "| PostgreSQL | \`fleet device list --all -o json\` | $p_listed | $p_fleet | $(rate "$p_listed" "$p_fleet") | $(ratio "$p_fleet" "$p_dump") | $(mb "$p_rss") |"
echo "| PostgreSQL | same, the cohort's third | $((N / 3)) | $p_third | $(rate $((N / 3)) "$p_third") | – | $(mb "$p_third_rss") |"
