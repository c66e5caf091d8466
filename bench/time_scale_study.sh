#!/usr/bin/env bash
# bench/time_scale_study.sh — how small can --time-scale go before verdicts change?
#
# Runs the example plans (scenarios/*.plan.yaml, --phase phase2) at each scale with a few seeds and
# compares every failure mode's verdict and every expectation's held flag with a reference run: the
# plan at REF_SCALE [0.2], or in real time (1.0) for the plans short enough to run so (plan time of
# their runnable failure modes at most REAL_TIME_LIMIT [150] seconds). Prints a Markdown table and
# keeps every JSON report in OUT.
#
# Bounded: each run has a timeout of its plan time times the scale, plus 120 s; the whole study is
# about 25 minutes on the project's 2-core machine with the defaults.
#
# Env knobs: BUILD_DIR [build/dev], OUT [a new temp dir], SCALES ["0.2 0.1 0.05 0.02 0.01"],
#            SEEDS ["1 2 3"], REF_SCALE [0.2], REAL_TIME_LIMIT [150]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/dev}
OUT=${OUT:-$(mktemp -d /tmp/planproof-time-scale.XXXXXX)}
SCALES=${SCALES:-0.2 0.1 0.05 0.02 0.01}
SEEDS=${SEEDS:-1 2 3}
REF_SCALE=${REF_SCALE:-0.2}
REAL_TIME_LIMIT=${REAL_TIME_LIMIT:-150}
PLANPROOF=$BUILD_DIR/planproof

[[ -x $PLANPROOF ]] || { echo "no $PLANPROOF: build it first (cmake --build --preset dev --target planproof)" >&2; exit 2; }
mkdir -p "$OUT"
echo "time scale study: reports in $OUT; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Plan time (seconds) of a plan's runnable failure modes, from a quick run's report.
plan_seconds() {
  python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(int(sum(f["metrics"]["duration_ms"] for f in d["failure_modes"]) / 1000 + 0.5))
PY
}

# One run: plan, scale, seed -> OUT/<plan>-<scale>-<seed>.json (exit 0 and 1 are verdicts).
run() {
  local plan=$1 scale=$2 seed=$3 seconds=$4
  local name report limit start
  name=$(basename "$plan" .plan.yaml)
  report="$OUT/$name-$scale-$seed.json"
  limit=$(python3 -c "print(int($seconds * $scale) + 120)")
  start=$(date +%s.%N)
  (cd "$OUT" && timeout "$limit" "$PLANPROOF" run "$plan" --phase phase2 --time-scale "$scale" --seed "$seed" \
     --json "$report" --quiet >/dev/null 2>&1) || [[ $? -le 1 ]] || echo "  $name at $scale seed $seed: exit $?" >&2
  echo "  $name at $scale seed $seed: $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s" >&2
}

declare -A SECONDS_OF
PLANS=("$ROOT"/scenarios/*.plan.yaml)
for plan in "${PLANS[@]}"; do
  name=$(basename "$plan" .plan.yaml)
  (cd "$OUT" && "$PLANPROOF" run "$plan" --phase phase2 --time-scale 0.01 --json "$OUT/$name-probe.json" --quiet \
     >/dev/null 2>&1) || true
  SECONDS_OF[$name]=$(plan_seconds "$OUT/$name-probe.json")
  echo "$name: ${SECONDS_OF[$name]} s of plan time" >&2
done

for plan in "${PLANS[@]}"; do
  name=$(basename "$plan" .plan.yaml)
  if (( SECONDS_OF[$name] <= REAL_TIME_LIMIT )); then run "$plan" 1 1 "${SECONDS_OF[$name]}"; fi
  for scale in $SCALES; do
    for seed in $SEEDS; do
      # The reference scale is the slowest: there, a plan without a real-time run has its
      # reference (seed 1) and nothing to compare it with.
      if [[ $scale == "$REF_SCALE" && $seed != 1 ]] && (( SECONDS_OF[$name] > REAL_TIME_LIMIT )); then continue; fi
      run "$plan" "$scale" "$seed" "${SECONDS_OF[$name]}"
    done
  done
done

python3 - "$OUT" "$REF_SCALE" "$SCALES" "$SEEDS" "${PLANS[@]}" <<'PY'
import json, os, sys
out, ref_scale, scales, seeds = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
plans = [os.path.basename(p)[: -len(".plan.yaml")] for p in sys.argv[5:]]

def verdicts(path):
    if not os.path.exists(path):
        return None
    d = json.load(open(path))
    return {f["id"]: (f["verdict"], tuple((e["name"], e["held"]) for e in f["expectations"])) for f in d["failure_modes"]}

def summary(path):
    d = json.load(open(path))["summary"]
    return f'{d["held"]} held, {d["broken"]} broken, {d["skipped"]} skipped, {d["error"]} error'

print("| plan | reference | " + " | ".join(f"x{s}" for s in scales) + " |")
print("|---|---|" + "---|" * len(scales))
for plan in plans:
    real = os.path.join(out, f"{plan}-1-1.json")
    ref_path = real if os.path.exists(real) else os.path.join(out, f"{plan}-{ref_scale}-1.json")
    ref = verdicts(ref_path)
    label = ("x1 (real time)" if ref_path == real else f"x{ref_scale}, seed 1") + ": " + summary(ref_path)
    cells = []
    for s in scales:
        same, runs, differing = 0, 0, []
        for seed in seeds:
            path = os.path.join(out, f"{plan}-{s}-{seed}.json")
            if path == ref_path:
                continue
            v = verdicts(path)
            if v is None:
                continue
            runs += 1
            if v == ref:
                same += 1
            else:
                differing += [f"{m} ({v[m][0]}, seed {seed})" for m in ref if v.get(m) != ref[m]]
        cells.append("-" if runs == 0 else f"{same}/{runs} same" + ("" if not differing else ": " + ", ".join(differing)))
    print(f"| {plan} | {label} | " + " | ".join(cells) + " |")
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
