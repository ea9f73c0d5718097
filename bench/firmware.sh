#!/usr/bin/env bash
# Benchmark for `fleet firmware push` (issues 4 and 15). Builds in release mode, starts a local
# service on a fresh data dir, writes a SIZE_MIB file of random bytes (default 1024 = 1 GiB), and
# measures in the same run, with the file in the page cache:
#   - `openssl dgst -sha256 FILE`                        (baseline: hashing the file once, SHA-NI)
#   - `curl -T FILE` to a local HTTP sink that discards   (baseline: sending the file once)
#   - `dd` of FILE to a new file, through the page cache and with `oflag=direct`
#                                                          (baselines: writing it once; the service
#                                                           writes parts direct, see blobs/direct.rs)
#   - `fleet firmware push FILE --parallel 4`             (upload + hash beside it + verified complete)
#   - the same push again (nothing to upload)             (hashes the file once)
# and the client's peak RSS (/usr/bin/time -v) and the server's (VmHWM of the process, which was
# started fresh for this run). Targets (issue 15): push <= 2x the openssl time; client RSS under
# 64 MB. With OLD_BIN=path/to/another/fleet, that build gets a service of its own and its push is
# measured too, alternating with the current one ROUNDS times (default 2), for an A/B in one run.
# Usage: [FLEET_BIN=path] [OLD_BIN=path] [ROUNDS=n] bench/firmware.sh [SIZE_MIB]; FLEET_BIN skips
# the build. Needs curl, python3, openssl, /usr/bin/time (apt-get install curl python3 openssl time).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${1:-1024}
ROUNDS=${ROUNDS:-2}
for tool in curl python3 /usr/bin/time openssl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install curl python3 openssl time)" >&2; exit 1; }
done

if [ -n "${FLEET_BIN:-}" ]; then
  BIN=$FLEET_BIN # another build, to compare in one setup; nothing is built
else
  cargo build --release --locked --quiet
  BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/fleet
fi
OLD_BIN=${OLD_BIN:-}

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 100); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

# The sink: answers PUT after reading and discarding the whole body.
sink_port=$(free_port)
cat > "$work/sink.py" <<'PY'
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_PUT(self):
        left = int(self.headers.get("Content-Length", 0))
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            left -= len(chunk)
        self.send_response(201); self.send_header("Content-Length", "0"); self.end_headers()
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
PY
python3 "$work/sink.py" "$sink_port" &
pids+=($!)
wait_http "http://127.0.0.1:$sink_port/"

# start_server NAME BIN: a fresh service of that build; sets NAME_url, NAME_key, NAME_pid.
start_server() {
  local name=$1 bin=$2 port
  port=$(free_port)
  RUST_LOG=warn "$bin" server --listen "127.0.0.1:$port" --data-dir "$work/$name" --no-profile 2>"$work/$name.log" &
  pids+=($!)
  printf -v "${name}_pid" '%s' "$!"
  wait_http "http://127.0.0.1:$port/v1/health"
  printf -v "${name}_url" '%s' "http://127.0.0.1:$port"
  printf -v "${name}_key" '%s' "$(cat "$work/$name/admin-api-key")"
  FLEET_CONFIG_DIR=$work/config FLEET_API_URL="http://127.0.0.1:$port" FLEET_API_KEY="$(cat "$work/$name/admin-api-key")" \
    "$bin" -q product create bench >/dev/null
}
start_server new "$BIN"
[ -n "$OLD_BIN" ] && start_server old "$OLD_BIN"

file=$work/firmware.img
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$file"
cat "$file" > /dev/null # into the page cache, for every contender alike
bytes=$(stat -c %s "$file")

# Runs a command under /usr/bin/time -v; sets SECS and RSS_KB.
measure() {
  /usr/bin/time -v -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" || { cat "$work/stderr.txt" >&2; exit 1; }
  SECS=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time.txt")
  RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
}
# Writes back what the previous push left dirty, so its writeback does not run during the
# next measurement, and keeps the file in the page cache.
settle() { sync; sleep 1; cat "$file" > /dev/null; }
mbps() { python3 -c "print(f'{$bytes / 1e6 / max($1, 1e-9):.0f}')"; }
# push NAME VERSION: `fleet firmware push` with NAME's build against NAME's service.
push() {
  local bin_var=BIN url_var=${1}_url key_var=${1}_key
  [ "$1" = old ] && bin_var=OLD_BIN
  settle
  FLEET_CONFIG_DIR=$work/config FLEET_API_URL=${!url_var} FLEET_API_KEY=${!key_var} \
    measure "${!bin_var}" -q firmware push "$file" -P bench -a app --version "$2" -t armv7 --parallel 4
}

measure openssl dgst -sha256 "$file"; openssl_s=$SECS; openssl_rss=$RSS_KB
measure curl -sS -f -T "$file" -H "Expect:" "http://127.0.0.1:$sink_port/upload"; curl_s=$SECS; curl_rss=$RSS_KB
# Writing the file once, each way, beside the service's data (removed again after).
measure dd if="$file" of="$work/copy.img" bs=8M; dd_s=$SECS; rm -f "$work/copy.img"
settle
measure dd if="$file" of="$work/copy.img" bs=8M oflag=direct; dd_direct_s=$SECS; rm -f "$work/copy.img"
push new 1.0; push_s=$SECS; push_rss=$RSS_KB
server_rss=$(awk '/VmHWM/ {print $2}' "/proc/$new_pid/status")
push new 1.0; repush_s=$SECS; repush_rss=$RSS_KB

ab=()
if [ -n "$OLD_BIN" ]; then
  for round in $(seq 1 "$ROUNDS"); do
    for build in old new; do
      settle
      measure openssl dgst -sha256 "$file"; o=$SECS
      push "$build" "2.$round"; ab+=("$build $SECS $o $((RSS_KB / 1024))")
    done
  done
fi

printf '\nfirmware push of %s MiB (%s bytes), release build, same run\n\n' "$SIZE_MIB" "$bytes"
printf '| %-46s | %8s | %8s | %14s |\n' "command" "seconds" "MB/s" "peak RSS (MB)"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" "----------:" "----------:" "---------------:"
row() { printf '| %-46s | %8.2f | %8s | %14s |\n' "$1" "$2" "$(mbps "$2")" "$3"; }
row "openssl dgst -sha256 (baseline)" "$openssl_s" "$((openssl_rss / 1024))"
row "curl -T to a discarding sink (baseline)" "$curl_s" "$((curl_rss / 1024))"
row "dd to a new file, page cache (baseline)" "$dd_s" "–"
row "dd to a new file, oflag=direct (baseline)" "$dd_direct_s" "–"
row "fleet firmware push --parallel 4 (client)" "$push_s" "$((push_rss / 1024))"
printf '| %-46s | %8s | %8s | %14s |\n' "fleet server during the push" "" "" "$((server_rss / 1024))"
row "fleet firmware push again (nothing to send)" "$repush_s" "$((repush_rss / 1024))"
python3 - <<PY
print()
print(f"push time vs openssl dgst -sha256: {$push_s / $openssl_s:.2f}x (target <= 2x)")
print(f"client peak RSS: {$push_rss / 1024:.0f} MB (target < 64 MB)")
print(f"re-push time vs openssl: {$repush_s / $openssl_s:.2f}x")
PY
if [ ${#ab[@]} -gt 0 ]; then
  printf '\nA/B, alternating (each push beside an openssl run just before it)\n\n'
  printf '| build | push s | openssl s | push / openssl | client RSS MB |\n|---|---:|---:|---:|---:|\n'
  for line in "${ab[@]}"; do
    read -r build s o rss <<<"$line"
    printf '| %s | %.2f | %.2f | %s | %s |\n' "$build" "$s" "$o" "$(python3 -c "print(f'{$s / $o:.2f}x')")" "$rss"
  done
fi
