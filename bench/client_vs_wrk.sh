#!/usr/bin/env bash
# bench/client_vs_wrk.sh — planproof's client against wrk, both driving the same mock stub.
#
# `planproof serve bench/stubs.plan.yaml` (one I/O thread, pinned to CPU 0) serves GET /v1/items;
# then `wrk -t1 -c32` (pinned to CPU 1) and the client benchmark (bench/client_bench.cpp: 32
# logical requests in flight on one thread, pinned to CPU 1) are run against it one after the
# other, and the ratio client / wrk is printed. Both keep their connections alive. Loopback only;
# every run is bounded in time (wrk -d, the benchmark's min time, a timeout around each).
#
# Env knobs: BUILD_DIR [build/bench] (Release build with planproof and client_bench),
#            PORT [18096], DURATION [8s], CONNS [32], MIN_TIME [5] (client benchmark seconds)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/bench}
PORT=${PORT:-18096}
DURATION=${DURATION:-8s}
CONNS=${CONNS:-32}
MIN_TIME=${MIN_TIME:-5}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
if [[ ! -x $BUILD_DIR/planproof || ! -x $BUILD_DIR/bench/client_bench ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" --target planproof client_bench
fi

LOG=$(mktemp)
taskset -c 0 "$BUILD_DIR/planproof" serve "$HERE/stubs.plan.yaml" --listen "127.0.0.1:$PORT" \
  --admin 127.0.0.1:0 --max-records 10000 >"$LOG" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 100); do grep -q '^mock:' "$LOG" && break; sleep 0.1; done
grep -q '^mock:' "$LOG" || { cat "$LOG" >&2; exit 3; }

WRK=$(timeout 60 taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$PORT/v1/items")
WRK_RPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$WRK")
CLIENT=$(PLANPROOF_BENCH_UPSTREAM=127.0.0.1:$PORT timeout 120 taskset -c 1 "$BUILD_DIR/bench/client_bench" \
  --benchmark_min_time="$MIN_TIME" 2>/dev/null)
CLIENT_RPS=$(awk '/client_keep_alive/ {for (i = 1; i <= NF; i++) if ($i ~ /^items_per_second=/) {sub("items_per_second=", "", $i); print $i}}' <<<"$CLIENT")
case $CLIENT_RPS in
  *k/s) CLIENT_RPS=$(awk -v v="${CLIENT_RPS%k/s}" 'BEGIN {printf "%.0f", v * 1000}') ;;
  */s) CLIENT_RPS=${CLIENT_RPS%/s} ;;
esac
FAILED=$(awk '/client_keep_alive/ {for (i = 1; i <= NF; i++) if ($i ~ /^failed=/) {sub("failed=", "", $i); print $i}}' <<<"$CLIENT")

printf '| driver | requests/s |\n|---|---|\n'
printf '| wrk -t1 -c%s | %.0f |\n' "$CONNS" "$WRK_RPS"
printf '| planproof client, %s in flight | %s (failed: %s) |\n' "$CONNS" "$CLIENT_RPS" "$FAILED"
awk -v c="$CLIENT_RPS" -v w="$WRK_RPS" 'BEGIN {printf "client / wrk = %.2f (target >= 0.50)\n", c / w}'
