#!/usr/bin/env bash
# bench/soak.sh — `planproof serve` under chaos for a bounded time, loopback only.
#
# The mock serves bench/soak.plan.yaml with its `chaos` failure mode on: every fault kind a plain
# HTTP mock injects but auth_expiry (it would refuse the key for good), each now and then (status,
# latency, hang, reset, empty_reply, close, slow_body, malformed, schema_drift, rate_limit, outage
# flapping, pagination). At the same time wrk (-t1 -c32, rounds of 30 s) hammers a GET and planproof's
# own client runs the plan's `client_load` against it through `run --upstream`. Every SAMPLE seconds
# the mock's RSS and open descriptors are written to OUT/samples.tsv; at the end the faults are
# turned off and one plain request must be answered 200.
#
# Env knobs: BUILD_DIR [build/dev] (with planproof), DURATION [600] seconds, SAMPLE [10] seconds,
#            MAX_RECORDS [10000] (serve --max-records: the journal is the one store that grows with
#            requests until its cap, so a small cap shows the plateau early), OUT [a new temporary
#            directory]. Exit 0 when the mock answered at the end.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/dev}
DURATION=${DURATION:-600}
SAMPLE=${SAMPLE:-10}
OUT=${OUT:-$(mktemp -d /tmp/planproof-soak.XXXXXX)}
PLANPROOF=$BUILD_DIR/planproof

"$ROOT/tools/bootstrap" --bench >/dev/null
[[ -x $PLANPROOF ]] || { echo "no $PLANPROOF: build it first (cmake --build --preset dev)" >&2; exit 2; }
mkdir -p "$OUT"
cd "$OUT"

export SOAK_API_KEY=sk_soak_0f3e9c1a
"$PLANPROOF" serve "$HERE/soak.plan.yaml" --fault chaos --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
  --max-records "${MAX_RECORDS:-10000}" >serve.log 2>&1 &
SERVE=$!
cleanup() {
  kill "$SERVE" "${WRK:-}" "${RUN:-}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do grep -q '^admin:' serve.log && break; sleep 0.1; done
MOCK=$(awk '/^mock:/ {print $2}' serve.log)
ADMIN=$(awk '/^admin:/ {print $2}' serve.log)
[[ -n $MOCK && -n $ADMIN ]] || { cat serve.log >&2; exit 3; }
echo "soak: mock $MOCK (pid $SERVE), admin $ADMIN, ${DURATION}s, samples every ${SAMPLE}s in $OUT"

# In rounds of 30 s: wrk never gives up on a request the mock holds (a `hang`), so a connection that
# met one would be idle for the rest of a single long run; each round starts 32 fresh ones.
(
  end=$(( $(date +%s) + DURATION ))
  while (( $(date +%s) < end )); do
    left=$(( end - $(date +%s) ))
    timeout $(( (left < 30 ? left : 30) + 10 )) wrk -t1 -c32 -d"$(( left < 30 ? left : 30 ))s" --timeout 2s \
      -H "X-API-Key: $SOAK_API_KEY" "$MOCK/v1/items" || true
  done
) >wrk.txt 2>&1 &
WRK=$!
# The plan's traffic for as long as the soak, through run's own proxy in front of the mock.
timeout $((DURATION + 120)) "$PLANPROOF" run "$HERE/soak.plan.yaml" --only client_load --upstream "$MOCK" \
  --set "traffic.duration=${DURATION}s" -q --json run.json >run.txt 2>&1 &
RUN=$!

printf 'seconds\trss_kib\tfds\n' >samples.tsv
start=$(date +%s)
while :; do
  now=$(( $(date +%s) - start ))
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVE/status")
  fds=$(ls "/proc/$SERVE/fd" | wc -l)
  printf '%s\t%s\t%s\n' "$now" "$rss" "$fds" >>samples.tsv
  (( now >= DURATION )) && break
  sleep "$SAMPLE"
done
wait "$WRK" || true
wait "$RUN" || true
unset WRK RUN

curl -s -o /dev/null -X POST "$ADMIN/failure-modes/chaos/disable"
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-API-Key: $SOAK_API_KEY" "$MOCK/v1/items")
rss_end=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVE/status")
fds_end=$(ls "/proc/$SERVE/fd" | wc -l)

pick() { awk -v t="$1" 'NR > 1 && $1 >= t {print $2 " KiB, " $3 " fds"; exit}' samples.tsv; }
echo "soak: RSS and descriptors of the mock:"
echo "  after warm-up (60 s): $(pick 60)"
echo "  middle ($((DURATION / 2)) s):   $(pick $((DURATION / 2)))"
echo "  end ($DURATION s):      $(pick "$DURATION")"
echo "  after the load:       $rss_end KiB, $fds_end fds"
echo "soak: wrk: $(awk '/requests in/ {n += $1} /Socket errors/ {sub(",", "", $6); e += $6} END {printf "%d requests, %d read errors (resets and closes the faults make)", n, e}' wrk.txt)"
echo "soak: run: $(grep -E "failure modes?: " run.txt | tail -1)"
echo "soak: a plain request after the soak answered $status"
[[ $status == 200 ]]
