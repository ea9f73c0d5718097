#!/usr/bin/env bash
# Benchmark for `fleet firmware push` (issue 4). Builds in release mode, starts a local service on
# a fresh data dir, writes a SIZE_MIB file of random bytes (default 1024 = 1 GiB), and measures in
# the same run, with the file in the page cache:
#   - `sha256sum FILE`                                   (baseline 1: hashing the file once)
#   - `curl -T FILE` to a local HTTP sink that discards   (baseline 2: sending the file once)
#   - `fleet firmware push FILE --parallel 4`             (hash + parted upload + verified complete)
#   - the same push again (nothing to upload)             (target: < 2x sha256sum)
# and the client's peak RSS (/usr/bin/time -v) and the server's (VmHWM of the process, which was
# started fresh for this run). Targets: push >= 70% of the slower baseline's MB/s; client RSS
# under 64 MB. Usage: [FLEET_BIN=path/to/fleet] bench/firmware.sh [SIZE_MIB]. Needs curl,
# python3, /usr/bin/time (apt-get install curl python3 time).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${1:-1024}
for tool in curl python3 /usr/bin/time sha256sum; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install curl python3 time coreutils)" >&2; exit 1; }
done

cargo build --release --locked --quiet
BIN=${FLEET_BIN:-$PWD/target/release/fleet} # FLEET_BIN: another build, to compare in one setup

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

port=$(free_port)
export FLEET_CONFIG_DIR=$work/config
RUST_LOG=warn "$BIN" server --listen "127.0.0.1:$port" --data-dir "$work/data" --no-profile 2>"$work/server.log" &
server_pid=$!
pids+=($server_pid)
wait_http "http://127.0.0.1:$port/v1/health"
wait_http "http://127.0.0.1:$sink_port/"
export FLEET_API_URL=http://127.0.0.1:$port
FLEET_API_KEY=$(cat "$work/data/admin-api-key")
export FLEET_API_KEY
"$BIN" -q product create bench >/dev/null

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
mbps() { python3 -c "print(f'{$bytes / 1e6 / max($1, 1e-9):.0f}')"; }

measure sha256sum "$file"; sha_s=$SECS; sha_rss=$RSS_KB
measure curl -sS -f -T "$file" -H "Expect:" "http://127.0.0.1:$sink_port/upload"; curl_s=$SECS; curl_rss=$RSS_KB
measure "$BIN" -q firmware push "$file" -P bench -a app --version 1.0 -t armv7 --parallel 4; push_s=$SECS; push_rss=$RSS_KB
server_rss=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
measure "$BIN" -q firmware push "$file" -P bench -a app --version 1.0 -t armv7 --parallel 4; repush_s=$SECS; repush_rss=$RSS_KB

slower=$(python3 -c "print(max($sha_s, $curl_s))")
printf '\nfirmware push of %s MiB (%s bytes), release build, same run\n\n' "$SIZE_MIB" "$bytes"
printf '| %-46s | %8s | %8s | %14s |\n' "command" "seconds" "MB/s" "peak RSS (MB)"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" "----------:" "----------:" "---------------:"
row() { printf '| %-46s | %8.2f | %8s | %14s |\n' "$1" "$2" "$(mbps "$2")" "$3"; }
row "sha256sum (baseline)" "$sha_s" "$((sha_rss / 1024))"
row "curl -T to a discarding sink (baseline)" "$curl_s" "$((curl_rss / 1024))"
row "fleet firmware push --parallel 4 (client)" "$push_s" "$((push_rss / 1024))"
printf '| %-46s | %8s | %8s | %14s |\n' "fleet server during the push" "" "" "$((server_rss / 1024))"
row "fleet firmware push again (nothing to send)" "$repush_s" "$((repush_rss / 1024))"
python3 - <<PY
push = $bytes / $push_s; slower = $bytes / $slower
print()
print(f"push throughput vs the slower baseline: {push / slower:.0%} (target >= 70%)")
print(f"client peak RSS: {$push_rss / 1024:.0f} MB (target < 64 MB)")
print(f"re-push time vs sha256sum: {$repush_s / $sha_s:.2f}x (target < 2x)")
PY
