#!/usr/bin/env bash
# Benchmark for the working core (issue 2). Builds in release mode, starts a local service on a
# fresh data dir, seeds devices straight into its SQLite file, then measures — each beside a
# baseline taken in the same run on the same machine:
#   1. start-up: `fleet --version` and `fleet product list` against `/bin/true` (hyperfine);
#   2. listing: `fleet device list --all -o ndjson` over N devices (devices/s, peak client RSS)
#      against the sqlite3 shell dumping the same rows as JSON, and the client's peak RSS at
#      N/10 devices to show memory does not grow with N.
# Usage: bench/core.sh [N]   (default 100000; FLEET_BIN=path skips the build). Needs hyperfine, sqlite3, curl, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-100000}
for tool in hyperfine sqlite3 curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install hyperfine sqlite3 curl)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "missing GNU time (apt-get install time)" >&2; exit 1; }

# FLEET_BIN runs a binary built earlier (e.g. a copy of target/release/fleet) instead of building.
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

"$BIN" -q product create bench-sensor >/dev/null
"$BIN" -q cohort create beta --product bench-sensor >/dev/null
db=$work/data/fleet.db

# Seed N devices in one transaction. IDs follow the service's format (prefix + 32 hex digits,
# ordered), a third of them in the cohort, all with two tags and a target. Each device is a
# `devices` row and its `device_details` row (migration 0019), with one timestamp for both.
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
       'seeded by bench/core.sh', '["line:consumer","site:berlin"]',
       'armv7-unknown-linux-gnueabihf', m.now
FROM seq, products p, moment m WHERE p.name = 'bench-sensor';
COMMIT;
SQL
count=$(sqlite3 "$db" "SELECT count(*) FROM devices")
echo "seeded $count devices"

echo
echo "## start-up (hyperfine)"
hyperfine --warmup 5 --min-runs 30 --style basic --export-markdown "$work/startup.md" \
  -n '/bin/true' '/bin/true' \
  -n 'fleet --version' "$BIN --version" \
  -n 'fleet product list' "$BIN product list" >/dev/null
cat "$work/startup.md"

# Runs a command under GNU time with stdout to a file; prints "seconds max_rss_kb lines".
measure() {
  local out=$work/out.txt
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >"$out"
  local lines
  lines=$(wc -l <"$out")
  echo "$(cat "$work/time.txt") $lines"
}

# Each measurement three times; the best wall time and its RSS are reported.
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

# The rows the service lists, read as it reads them: a device is its `devices` row joined to its
# `device_details` row (migration 0019), so the baseline joins them too.
sql="SELECT d.id, i.identifier, d.product_id, p.name AS product, d.cohort_id, c.name AS cohort,
            i.description, i.tags, i.target, d.quarantined, i.created_at, d.updated_at, d.revision
     FROM devices d JOIN device_details i ON i.device_id = d.id
     JOIN products p ON p.id = d.product_id LEFT JOIN cohorts c ON c.id = d.cohort_id
     ORDER BY d.id"

echo
echo "## device listing, $count devices (best of 3)"
read -r fs frss flines < <(best "$BIN" device list --all -o ndjson)
read -r ss srss slines < <(best sqlite3 -json "$db" "$sql")
small=$((count / 10))
read -r ms mrss mlines < <(best "$BIN" device list --limit "$small" -o ndjson)

rate() { awk "BEGIN{ if ($2 > 0) printf \"%.0f\", $1 / $2; else print \"inf\" }"; }
echo
echo "| command | devices | wall s | devices/s | peak RSS MB |"
echo "|---|---|---|---|---|"
printf '| `sqlite3 -json` dump (baseline) | %s | %s | %s | %.1f |\n' "$count" "$ss" "$(rate "$count" "$ss")" "$(awk "BEGIN{print $srss/1024}")"
printf '| `fleet device list --all -o ndjson` | %s | %s | %s | %.1f |\n' "$flines" "$fs" "$(rate "$flines" "$fs")" "$(awk "BEGIN{print $frss/1024}")"
printf '| `fleet device list --limit %s -o ndjson` | %s | %s | %s | %.1f |\n' "$small" "$mlines" "$ms" "$(rate "$mlines" "$ms")" "$(awk "BEGIN{print $mrss/1024}")"
echo
awk "BEGIN{ printf \"fleet / sqlite3 wall-time ratio: %.2fx\n\", $fs / ($ss > 0 ? $ss : 0.001) }"
[ "$flines" -eq "$count" ] || { echo "fleet printed $flines devices, expected $count" >&2; exit 1; }
