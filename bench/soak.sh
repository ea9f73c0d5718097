#!/usr/bin/env bash
# Slow-client soak (issue 9): CONNECTIONS idle connections (default 20000) are opened to a local
# `fleet server` and held: they send nothing, and a connection the server closes is opened again
# at once, so the pressure stays on. Meanwhile a normal client times SAMPLES requests (default 10)
# with curl (`time_total`): `GET /v1/health` and `GET /v1/products` with the admin key.
# Target: every request answers, in < 100 ms.
# The holders are python3 asyncio processes of at most 10000 connections each (one process can
# hold no more than its open-file limit). Every process of the run gets its soft open-file limit
# raised to the hard one; a higher hard limit needs privileges the script reports if it lacks.
# With OLD_FLEET_BIN=path, the same soak runs against that build first, in the same run, as the
# baseline. Usage: bench/soak.sh [CONNECTIONS [SAMPLES]]
# (FLEET_BIN=path skips the build.) Needs curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${1:-20000}
SAMPLES=${2:-10}
PER_HOLDER=10000
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y curl python3)" >&2; exit 1; }
done

if [ -n "${FLEET_BIN:-}" ]; then
  BIN=$FLEET_BIN
else
  cargo build --release --locked --quiet --bin fleet
  BIN=$PWD/target/release/fleet
fi

# As many open files as allowed: raise the hard limit if privileged, then the soft one to it.
wanted_hard=$((CONNECTIONS + 4096))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$wanted_hard" ]; then
  ulimit -Hn "$wanted_hard" 2>/dev/null ||
    echo "note: could not raise the hard open-file limit above $(ulimit -Hn) (needs CAP_SYS_RESOURCE)"
fi
ulimit -Sn "$(ulimit -Hn)"
echo "open-file limit of every process in this run: $(ulimit -Sn) (hard $(ulimit -Hn))"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/hold.py" <<'PY'
# Opens N connections to HOST:PORT, sends nothing, reopens any the server closes; writes
# "open closed failed" to STATS every half second.
import asyncio, resource, sys
host, port, n, stats_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
state = {"open": 0, "closed": 0, "failed": 0}

async def hold():
    while True:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        except Exception:
            state["failed"] += 1
            await asyncio.sleep(1)
            continue
        state["open"] += 1
        try:
            await reader.read(1)  # returns when the server closes the connection
        except Exception:
            pass
        state["open"] -= 1
        state["closed"] += 1
        writer.close()

async def report():
    while True:
        with open(stats_path + ".tmp", "w") as f:
            f.write(f'{state["open"]} {state["closed"]} {state["failed"]}\n')
        import os; os.replace(stats_path + ".tmp", stats_path)
        await asyncio.sleep(0.5)

async def main():
    tasks = [asyncio.create_task(report())]
    for _ in range(n):
        tasks.append(asyncio.create_task(hold()))
        if len(tasks) % 500 == 0:
            await asyncio.sleep(0.05)  # do not flood the listen backlog all at once
    await asyncio.gather(*tasks)

asyncio.run(main())
PY

# holder_totals: "open closed failed" summed over the holders' stats files.
holder_totals() {
  cat "$work"/stats.* 2>/dev/null | awk '{o+=$1; c+=$2; f+=$3} END {print o+0, c+0, f+0}'
}

# soak NAME BIN: one server, the holders, the timed requests; prints one block of figures.
soak() {
  local name=$1 bin=$2
  local port url data server_pid
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  url="http://127.0.0.1:$port"
  data=$work/data-$name
  mkdir -p "$data"
  FLEET_CONFIG_DIR=$work/config-$name FLEET_LOG=warn \
    "$bin" server --listen "127.0.0.1:$port" --data-dir "$data" --no-profile \
    >"$work/server-$name.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 1 100); do
    curl -fsS "$url/v1/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  local key
  key=$(cat "$data/admin-api-key")
  rm -f "$work"/stats.*
  local holders=() left=$CONNECTIONS i=0
  while [ "$left" -gt 0 ]; do
    local count=$((left < PER_HOLDER ? left : PER_HOLDER))
    python3 "$work/hold.py" 127.0.0.1 "$port" "$count" "$work/stats.$i" &
    holders+=($!)
    pids+=($!)
    left=$((left - count)) i=$((i + 1))
  done
  # Wait until the holders have all their connections open (or stop rising for 10 s).
  local best=0 still=0 open
  for _ in $(seq 1 240); do
    sleep 0.5
    read -r open _ _ < <(holder_totals)
    if [ "$open" -ge "$CONNECTIONS" ]; then break; fi
    if [ "$open" -gt "$best" ]; then best=$open still=0; else still=$((still + 1)); fi
    if [ "$still" -ge 20 ]; then break; fi
  done
  sleep 2
  local before after
  before=$(holder_totals)
  local health=() products=()
  for _ in $(seq 1 "$SAMPLES"); do
    health+=("$(curl -s -o /dev/null --max-time 10 -w '%{http_code}:%{time_total}' "$url/v1/health" || true)")
    products+=("$(curl -s -o /dev/null --max-time 10 -w '%{http_code}:%{time_total}' \
      -H "Authorization: Bearer $key" "$url/v1/products" || true)")
    sleep 0.5
  done
  after=$(holder_totals)
  local rss
  rss=$(awk '/VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$server_pid/status" 2>/dev/null || echo "?")
  local server_fds
  server_fds=$(ls "/proc/$server_pid/fd" 2>/dev/null | wc -l)
  for pid in "${holders[@]}"; do kill "$pid" 2>/dev/null || true; done
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  python3 - "$name" "$before" "$after" "$rss" "$server_fds" "${health[*]}" "${products[*]}" <<'PY'
import statistics, sys
name, before, after, rss, fds, health, products = sys.argv[1:8]
o1, c1, f1 = map(int, before.split()); o2, c2, f2 = map(int, after.split())
print(f"\n== {name}")
print(f"held by the clients: {o1} open before, {o2} after the samples (the server closed "
      f"{c2 - c1} and {f2 - f1} connects failed meanwhile); server: {fds} open files, RSS {rss}")
for label, samples in (("GET /v1/health", health), ("GET /v1/products (admin key)", products)):
    codes, times = [], []
    for sample in samples.split():
        code, _, seconds = sample.partition(":")
        codes.append(code)
        times.append(float(seconds) * 1000 if code not in ("000", "") else None)
    answered = [t for t in times if t is not None]
    shown = " ".join("timeout" if t is None else f"{t:.1f}" for t in times)
    ok = all(c.startswith("2") for c in codes) and answered and max(answered) < 100
    summary = (f"median {statistics.median(answered):.1f} ms, max {max(answered):.1f} ms"
               if answered else "no answer")
    print(f"{label:<30} {len(answered)}/{len(times)} answered, {summary} "
          f"[{'meets' if ok else 'misses'} < 100 ms]; ms: {shown}")
PY
  grep -m3 -iE "too many open files|open-file|error" "$work/server-$name.log" | sed 's/^/  server log: /' || true
}

echo "$CONNECTIONS idle connections held (reopened when closed), $SAMPLES timed requests of each" \
  "kind; server and clients share this machine ($(nproc) cores)"
if [ -n "${OLD_FLEET_BIN:-}" ]; then
  soak baseline "$OLD_FLEET_BIN"
fi
soak this-build "$BIN"
