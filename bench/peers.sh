#!/usr/bin/env bash
# bench/peers.sh — planproof's mock upstream beside the peer mock servers, measured the same way.
#
# The method is shared/peer-bench/run.sh's, adapted so the repository holds all it needs (peer
# configs and the Beast ceiling source in bench/peers/): every server serves the same three stubs
# on its own loopback port, pinned to CPU 0; wrk -t1 runs pinned to CPU 1; while one server is
# measured the others are SIGSTOPped. planproof's mock is `planproof serve bench/stubs.plan.yaml`
# (one I/O thread) with the stubs' two failure modes enabled. Prints a markdown table
# and planproof's ratios against the references and the issue's targets. See bench/README.md.
#
# Env knobs (defaults in brackets):
#   SERVERS ["nginx beast wiremock mountebank mockoon planproof"]  subset/ordering
#   SKIP_INSTALL [0]   1: no apt-get/npm install, use what is there
#   DURATION [8s]  CONNS [32]   wrk -d / -c for every measured run
#   WARMUP [10s]       uncounted JVM warm-up run against WireMock
#   WORK [/tmp/planproof-peers]  scratch dir: logs, wrk outputs, beast build, table
#   NPM_DIR [/tmp/peers]         where the npm peers are installed (shared with peer-bench)
#   BUILD_DIR [build/bench]      where planproof is configured and built (Release)
#   MOCK_SERVE []      a prebuilt planproof binary to use instead of building one
#   MOCK_LABEL []      what to call a prebuilt MOCK_SERVE in the table
#   MOCK_MAX_RECORDS [10000]     serve --max-records (serve's default is 100000)
#   QUIET_MAX [600]    before each run, wait up to this many seconds for both CPUs to be quiet
#                      (under QUIET_PCT [10] % busy, summed over both)
#   FOREIGN_MAX [15]  RETRIES [2]  a run during which processes other than the server and wrk
#                      used more than FOREIGN_MAX % of a core is measured again, up to RETRIES times
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CONF=$HERE/peers
PLAN=$HERE/stubs.plan.yaml
WORK=${WORK:-/tmp/planproof-peers}
NPM_DIR=${NPM_DIR:-/tmp/peers}
BUILD_DIR=${BUILD_DIR:-$ROOT/build/bench}
MOCK_SERVE=${MOCK_SERVE:-}
MOCK_LABEL=${MOCK_LABEL:-}
MOCK_MAX_RECORDS=${MOCK_MAX_RECORDS:-10000}
QUIET_MAX=${QUIET_MAX:-600}
QUIET_PCT=${QUIET_PCT:-10}
FOREIGN_MAX=${FOREIGN_MAX:-15}
RETRIES=${RETRIES:-2}
DURATION=${DURATION:-8s}
CONNS=${CONNS:-32}
WARMUP=${WARMUP:-10s}
SKIP_INSTALL=${SKIP_INSTALL:-0}
SERVERS=${SERVERS:-"nginx beast wiremock mountebank mockoon planproof"}
SERVER_CPU=0
CLIENT_CPU=1
WRK_TIMEOUT=30   # hard wall-clock bound for any single wrk run (s)
HZ=$(getconf CLK_TCK)

WIREMOCK_VER=3.13.2
MOUNTEBANK_VER=2.9.1
MOCKOON_VER=9.9.0

declare -A PORT=([nginx]=18081 [beast]=18082 [wiremock]=18083 [mountebank]=18084 [mockoon]=18085 [planproof]=18086)
MB_ADMIN_PORT=18525
declare -A PID=() VERSION=() STARTUP=() NOTE=()

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }
has() { [[ " $SERVERS " == *" $1 "* ]]; }

for s in $SERVERS; do [[ -n ${PORT[$s]:-} ]] || die "unknown server '$s' (known: ${!PORT[*]})"; done
mkdir -p "$WORK"/{logs,results,nginx/tmp,wiremock/mappings,wiremock/__files} || die "cannot create $WORK"
rm -f "$WORK"/results/* "$WORK"/logs/*
T_START=$(date +%s)

# ---------------------------------------------------------------- install ---
if [[ $SKIP_INSTALL != 1 ]]; then
  need=()
  for p in wrk nginx-light libnginx-mod-http-echo libboost1.81-dev g++ curl iproute2 procps time; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if ((${#need[@]})); then
    log "apt-get install ${need[*]}"
    # policy-rc.d (present in this image) keeps the distro nginx service from starting.
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y "${need[@]}" >"$WORK/logs/apt.log" 2>&1 || {
      log "apt-get install failed; running apt-get update once and retrying"
      timeout 300 apt-get update >>"$WORK/logs/apt.log" 2>&1
      DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y "${need[@]}" >>"$WORK/logs/apt.log" 2>&1 \
        || log "apt-get install failed (see $WORK/logs/apt.log); continuing with what is installed"
    }
  fi
  if has wiremock || has mountebank || has mockoon; then
    mkdir -p "$NPM_DIR"
    [[ -f $NPM_DIR/package.json ]] || echo '{"name":"peer-bench-peers","private":true}' >"$NPM_DIR/package.json"
    for spec in "wiremock@$WIREMOCK_VER" "mountebank@$MOUNTEBANK_VER" "@mockoon/cli@$MOCKOON_VER"; do
      name=${spec%@*}
      if [[ -f $NPM_DIR/node_modules/$name/package.json ]] &&
         [[ $(node -p "require('$NPM_DIR/node_modules/$name/package.json').version") == "${spec##*@}" ]]; then
        continue
      fi
      log "npm install $spec"
      (cd "$NPM_DIR" && timeout 300 npm install --no-audit --no-fund "$spec") >>"$WORK/logs/npm.log" 2>&1 \
        || log "npm install $spec failed (see $WORK/logs/npm.log); that peer will be skipped"
    done
  fi
fi

WIREMOCK_JAR=$NPM_DIR/node_modules/wiremock/build/wiremock-standalone-$WIREMOCK_VER.jar
MB_BIN=$NPM_DIR/node_modules/mountebank/bin/mb
MOCKOON_BIN=$NPM_DIR/node_modules/@mockoon/cli/bin/run.js
for t in wrk curl taskset ss; do command -v "$t" >/dev/null || die "$t not found"; done

# ----------------------------------------------------------------- builds ---
BEAST_BIN=$WORK/beast_ceiling
BEAST_COMPILE_S=n/a
if has beast; then
  grep -q 'BOOST_LIB_VERSION "1_81"' /usr/include/boost/version.hpp 2>/dev/null \
    || die "/usr/include/boost is not Boost 1.81 (is libboost1.81-dev installed?)"
  log "building beast_ceiling (g++ -std=c++20 -O2)"
  t0=$(date +%s.%N)
  timeout 600 g++ -std=c++20 -O2 -DNDEBUG -pthread "$CONF/beast_ceiling.cpp" -o "$BEAST_BIN" >"$WORK/logs/beast_build.log" 2>&1 \
    || die "beast_ceiling build failed: $(tail -5 "$WORK/logs/beast_build.log")"
  BEAST_COMPILE_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  log "beast_ceiling built in ${BEAST_COMPILE_S}s"
fi
MOCK_BUILD=n/a
if has planproof; then
  if [[ -z $MOCK_SERVE ]]; then
    MOCK_SERVE=$BUILD_DIR/planproof
    log "building planproof in $BUILD_DIR (Release)"
    { timeout 300 cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPLANPROOF_BUILD_TESTS=OFF &&
      timeout 1800 cmake --build "$BUILD_DIR" --target planproof; } >"$WORK/logs/mock_build.log" 2>&1 \
      || die "planproof build failed: $(grep -m3 'error' "$WORK/logs/mock_build.log")"
    MOCK_BUILD="Release, $(sed -n 's/^CMAKE_CXX_FLAGS_RELEASE:STRING=//p' "$BUILD_DIR/CMakeCache.txt")"
  else
    MOCK_BUILD="prebuilt $MOCK_SERVE"
  fi
  [[ -x $MOCK_SERVE ]] || die "no planproof binary at $MOCK_SERVE"
fi

# ------------------------------------------------------------- processes ---
tree_pids() {  # PID and all its descendants
  local p=$1 c
  echo "$p"
  for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do tree_pids "$c"; done
}
cpu_ticks() {  # utime+stime (clock ticks) summed over a process tree
  local sum=0 p f
  for p in $(tree_pids "$1"); do
    f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
    [[ -n $f ]] && sum=$((sum + ${f% *} + ${f#* }))
  done
  echo "$sum"
}
hwm_kib() {  # VmHWM summed over a process tree
  local sum=0 p v
  for p in $(tree_pids "$1"); do
    v=$(awk '/^VmHWM:/{print $2}' "/proc/$p/status" 2>/dev/null)
    [[ -n $v ]] && sum=$((sum + v))
  done
  echo "$sum"
}
alive() { [[ -n ${PID[$1]:-} ]] && kill -0 "${PID[$1]}" 2>/dev/null; }

# While one server is measured, every other server's process tree is frozen with SIGSTOP (and
# resumed with SIGCONT after), so an idle neighbour on CPU 0 cannot steal cycles.
freeze_others() {
  local s p
  for s in "${!PID[@]}"; do
    [[ $s == "$1" ]] && continue
    for p in $(tree_pids "${PID[$s]}"); do kill -STOP "$p" 2>/dev/null; done
  done
}
thaw_all() {
  local s p
  for s in "${!PID[@]}"; do
    for p in $(tree_pids "${PID[$s]}"); do kill -CONT "$p" 2>/dev/null; done
  done
}

declare -A EXIT_NOTE=()
stop_all() {  # every server this script started, by PID: SIGTERM, SIGKILL after 5 s
  local s p i
  thaw_all
  for s in "${!PID[@]}"; do
    p=${PID[$s]}
    kill -0 "$p" 2>/dev/null || continue
    kill -TERM "$p" 2>/dev/null
    for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
      log "$s (pid $p) ignored SIGTERM, sending SIGKILL"; EXIT_NOTE[$s]="needed SIGKILL"; kill -KILL "$p" 2>/dev/null
    fi
    wait "$p" 2>/dev/null; EXIT_NOTE[$s]=${EXIT_NOTE[$s]:-"exit $?"}
  done
  PID=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

port_free() { [[ -z $(ss -ltnH "sport = :$1" 2>/dev/null) ]]; }

wait_ready() {  # server url t0 -> sets STARTUP[server]; returns 1 on failure
  local s=$1 url=$2 t0=$3 i
  for i in $(seq 1 600); do
    alive "$s" || { log "$s exited during startup (see $WORK/logs/$s.log)"; return 1; }
    if curl -s -o /dev/null --max-time 1 "$url"; then
      STARTUP[$s]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
      return 0
    fi
    sleep 0.1
  done
  log "$s not ready after 60 s"; return 1
}

start_server() {
  local s=$1 port=${PORT[$1]} t0
  port_free "$port" || { NOTE[$s]="port $port busy"; log "$s: port $port already in use, skipping"; return 1; }
  t0=$(date +%s.%N)
  case $s in
    nginx)
      command -v nginx >/dev/null || { NOTE[$s]="not installed"; return 1; }
      cp "$CONF/nginx.conf" "$WORK/nginx/nginx.conf"
      if [[ ! -f /usr/lib/nginx/modules/ngx_http_echo_module.so ]]; then
        sed -i '/# echo-module/d' "$WORK/nginx/nginx.conf"; NOTE[$s]="no echo module: /v1/slow skipped"
      fi
      VERSION[$s]=$(nginx -v 2>&1 | sed 's|.*nginx/|nginx |')
      taskset -c $SERVER_CPU nginx -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" \
        -g 'daemon off;' >"$WORK/logs/nginx.log" 2>&1 &
      ;;
    beast)
      [[ -x $BEAST_BIN ]] || { NOTE[$s]="not built"; return 1; }
      VERSION[$s]="Boost $(sed -n 's/#define BOOST_LIB_VERSION "\(.*\)"/\1/p' /usr/include/boost/version.hpp | tr _ .), g++ $(g++ -dumpfullversion)"
      taskset -c $SERVER_CPU "$BEAST_BIN" "$port" 127.0.0.1 >"$WORK/logs/beast.log" 2>&1 &
      ;;
    wiremock)
      [[ -f $WIREMOCK_JAR ]] || { NOTE[$s]="not installed"; return 1; }
      command -v java >/dev/null || { NOTE[$s]="no java"; return 1; }
      VERSION[$s]="WireMock $WIREMOCK_VER (standalone jar), $(java -version 2>&1 | head -1 | sed 's/.*version "\(.*\)".*/Java \1/')"
      cp "$CONF/wiremock-mappings.json" "$WORK/wiremock/mappings/peer-bench.json"
      taskset -c $SERVER_CPU java -jar "$WIREMOCK_JAR" --port "$port" --bind-address 127.0.0.1 \
        --root-dir "$WORK/wiremock" --no-request-journal --disable-request-logging \
        --async-response-enabled true --disable-banner >"$WORK/logs/wiremock.log" 2>&1 &
      ;;
    mountebank)
      [[ -f $MB_BIN ]] || { NOTE[$s]="not installed"; return 1; }
      port_free $MB_ADMIN_PORT || { NOTE[$s]="admin port $MB_ADMIN_PORT busy"; return 1; }
      VERSION[$s]="mountebank $(node "$MB_BIN" --version 2>/dev/null), node $(node --version)"
      (cd "$WORK" && exec taskset -c $SERVER_CPU node "$MB_BIN" start --port $MB_ADMIN_PORT --host 127.0.0.1 \
        --configfile "$CONF/mountebank-imposters.json" --loglevel warn --nologfile) >"$WORK/logs/mountebank.log" 2>&1 &
      ;;
    mockoon)
      [[ -f $MOCKOON_BIN ]] || { NOTE[$s]="not installed"; return 1; }
      VERSION[$s]="@mockoon/cli $(node -p "require('$NPM_DIR/node_modules/@mockoon/cli/package.json').version"), node $(node --version)"
      # Mockoon logs one JSON line per request to stdout by default (no flag turns it off).
      (cd "$WORK" && exec taskset -c $SERVER_CPU node "$MOCKOON_BIN" start --data "$CONF/mockoon-env.json" \
        --disable-log-to-file --disable-admin-api) >"$WORK/logs/mockoon.log" 2>&1 &
      ;;
    planproof)
      local rev
      if [[ $MOCK_BUILD == prebuilt* ]]; then
        rev=${MOCK_LABEL:-prebuilt}
      else
        rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
        # GIT_OPTIONAL_LOCKS=0: read-only; status must not refresh the index of a shared checkout.
        [[ -n $(GIT_OPTIONAL_LOCKS=0 git -C "$ROOT" status --porcelain -- mocks src 2>/dev/null) ]] && rev+=" + uncommitted changes"
      fi
      VERSION[$s]="planproof serve @ $rev, g++ $(g++ -dumpfullversion), max_records $MOCK_MAX_RECORDS"
      taskset -c $SERVER_CPU "$MOCK_SERVE" serve "$PLAN" --listen "127.0.0.1:$port" --admin 127.0.0.1:0 \
        --fault slow_upstream --fault rate_limited --max-records "$MOCK_MAX_RECORDS" >"$WORK/logs/planproof.log" 2>&1 &
      ;;
  esac
  PID[$s]=$!
  wait_ready "$s" "http://127.0.0.1:$port/v1/items" "$t0" || { NOTE[$s]="failed to start"; kill -TERM "${PID[$s]}" 2>/dev/null; unset "PID[$s]"; return 1; }
  log "$s up: pid ${PID[$s]}, port $port, ready in ${STARTUP[$s]}s (${VERSION[$s]})"
}

# ------------------------------------------------------------ conformance ---
# Reference body = the one compiled into beast_ceiling.cpp (also in every peer config).
sed -n 's/^    R"(\(.*\))";$/\1/p' "$CONF/beast_ceiling.cpp" | head -1 | tr -d '\n' >"$WORK/results/beast.ref.body"
[[ $(wc -c <"$WORK/results/beast.ref.body") == 200 ]] || die "could not extract the 200-byte reference body"
# planproof serializes the same JSON value with Boost.JSON, which writes doubles in exponent form
# (bench/stubs.plan.yaml): the expected body is the reference with those three numbers rewritten.
sed 's/"price":9\.99,/"price":9.99E0,/; s/"price":19\.5,/"price":1.95E1,/; s/"price":0\.5,/"price":5E-1,/' \
  "$WORK/results/beast.ref.body" >"$WORK/results/planproof.ref.body"

declare -A CONFORM=()
check_stubs() {  # verify the three stubs answer as specified; record a short verdict
  local s=$1 base="http://127.0.0.1:${PORT[$1]}" out ref=beast problems=() slow_s
  [[ $s == planproof ]] && ref=planproof
  out=$(curl -s -D - -o "$WORK/results/$s.items.body" --max-time 2 "$base/v1/items")
  grep -q '^HTTP/1.1 200' <<<"$out" || problems+=("items!=200")
  grep -qi '^content-type: application/json' <<<"$out" || problems+=("items content-type")
  cmp -s "$WORK/results/$s.items.body" "$WORK/results/$ref.ref.body" || problems+=("items body differs")
  printf '%s\n' "$out" >"$WORK/results/$s.items.headers"
  out=$(curl -s -D - -o /dev/null --max-time 2 "$base/v1/limited")
  grep -q '^HTTP/1.1 429' <<<"$out" || problems+=("limited!=429")
  grep -qiE '^retry-after: 2\s*$' <<<"$out" || problems+=("no Retry-After: 2")
  printf '%s\n' "$out" >"$WORK/results/$s.limited.headers"
  if [[ ${NOTE[$s]:-} != *"slow skipped"* ]]; then
    out=$(curl -s -o /dev/null --max-time 2 -w '%{http_code} %{time_total}' "$base/v1/slow")
    [[ ${out% *} == 200 ]] || problems+=("slow!=200")
    awk -v t="${out#* }" 'BEGIN{exit !(t >= 0.1)}' || problems+=("slow took ${out#* }s")
  fi
  if ((${#problems[@]})); then CONFORM[$s]="FAIL: ${problems[*]}"
  elif [[ $s == planproof ]]; then CONFORM[$s]="ok (body $(wc -c <"$WORK/results/$s.items.body") B: doubles as 9.99E0)"
  else CONFORM[$s]=ok; fi
  log "$s stubs: ${CONFORM[$s]}"
}

# ------------------------------------------------------------ machine load ---
# This box is shared: a compiler on either CPU invalidates a run. cpu_busy prints busy and total
# jiffies of CPU 0 and CPU 1; busy_pct turns two snapshots into busy % summed over both (0-200).
# Busy = user+nice+system+steal; irq/softirq time is left out, since the loopback traffic's own
# softirq work is charged to no process and grows with the request rate.
cpu_busy() { awk '$1=="cpu0"||$1=="cpu1"{b+=$2+$3+$4+$9; t[$1]=$2+$3+$4+$5+$6+$7+$8+$9} END{print b, t["cpu0"]+t["cpu1"]}' /proc/stat; }
busy_pct() { awk -v a="$1" -v b="$2" 'BEGIN{split(a,x," "); split(b,y," "); dt=y[2]-x[2]; if (dt>0) printf "%.1f", 200*(y[1]-x[1])/dt; else print "?"}'; }
BUSY_RUNS=()
wait_quiet() {  # label -> waits (bounded by QUIET_MAX) until both CPUs are quiet for a 1 s sample
  local t0=$SECONDS a b pct
  while :; do
    a=$(cpu_busy); sleep 1; b=$(cpu_busy); pct=$(busy_pct "$a" "$b")
    awk -v p="$pct" -v q="$QUIET_PCT" 'BEGIN{exit !(p < q)}' && return 0
    if ((SECONDS - t0 >= QUIET_MAX)); then
      log "machine still busy ($pct % of 2 CPUs) after ${QUIET_MAX}s; measuring $1 anyway"
      return 1
    fi
    ((SECONDS - t0 < 2 || (SECONDS - t0) % 30 == 0)) && log "waiting for a quiet machine before $1: $pct % busy"
  done
}

# -------------------------------------------------------------------- wrk ---
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}' <<<"$1"; }

run_wrk() {  # server test path -> appends a row to results.tsv, measuring again while disturbed
  local try
  for ((try = 0; try <= RETRIES; try++)); do
    measure_once "$@" || return 1
    awk -v f="$FOREIGN" -v m="$FOREIGN_MAX" 'BEGIN{exit !(f+0 <= m)}' && break
    if ((try < RETRIES)); then log "$1 $2: other processes used $FOREIGN % of a core during the run; measuring again"
    else log "$1 $2: still disturbed after $RETRIES retries; kept (flagged)"; BUSY_RUNS+=("$1 $2 (foreign $FOREIGN %)"); fi
  done
  printf '%s\n' "$ROW" >>"$WORK/results/results.tsv"
}

measure_once() {  # server test path -> sets ROW (a results.tsv line) and FOREIGN
  local s=$1 test=$2 path=$3 out="$WORK/results/$1.$2.txt" others=0 o c0 c1 n0 n1 w0 w1
  alive "$s" || { log "$s is not running; skipping $test"; return 1; }
  freeze_others "$s"
  wait_quiet "$s $test"
  local m0 m1
  m0=$(cpu_busy)
  w0=$(date +%s.%N)
  c0=$(cpu_ticks "${PID[$s]}")
  for o in "${!PID[@]}"; do [[ $o == "$s" ]] || others=$((others + $(cpu_ticks "${PID[$o]}"))); done; n0=$others
  /usr/bin/time -f 'wrk_cpu_pct=%P' -o "$out.time" \
    timeout $WRK_TIMEOUT taskset -c $CLIENT_CPU wrk -t1 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:${PORT[$s]}$path" >"$out" 2>&1
  c1=$(cpu_ticks "${PID[$s]}")
  w1=$(date +%s.%N)
  m1=$(cpu_busy)
  others=0; for o in "${!PID[@]}"; do [[ $o == "$s" ]] || others=$((others + $(cpu_ticks "${PID[$o]}"))); done; n1=$others
  thaw_all
  local rps p50 p99 total non2xx sockerr wrkcpu srvcpu nbcpu foreign
  rps=$(awk '/^Requests\/sec:/{printf "%.0f", $2}' "$out")
  p50=$(to_ms "$(awk '$1=="50%"{print $2}' "$out")")
  p99=$(to_ms "$(awk '$1=="99%"{print $2}' "$out")")
  total=$(awk '/requests in/{print $1}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$out"); non2xx=${non2xx:-0}
  sockerr=$(awk '/Socket errors:/{sub(/^ *Socket errors: */,""); gsub(/ /,""); print}' "$out"); sockerr=${sockerr:-none}
  wrkcpu=$(sed -n 's/^wrk_cpu_pct=\(.*\)%$/\1/p' "$out.time")
  # CPU % of one core = CPU seconds used between the two snapshots / wall seconds between them
  srvcpu=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v t0="$w0" -v t1="$w1" 'BEGIN{ t=t1-t0; if (t>0) printf "%.0f", 100*(b-a)/hz/t; else print "?"}')
  nbcpu=$(awk -v a="$n0" -v b="$n1" -v hz="$HZ" -v t0="$w0" -v t1="$w1" 'BEGIN{ t=t1-t0; if (t>0) printf "%.1f", 100*(b-a)/hz/t; else print "?"}')
  # Busy % of both CPUs (without irq/softirq) not accounted to the server or wrk: other processes.
  foreign=$(awk -v b="$(busy_pct "$m0" "$m1")" -v s="$srvcpu" -v w="${wrkcpu:-0}" 'BEGIN{f=b-s-w; printf "%.0f", f<0?0:f}')
  FOREIGN=$foreign
  ROW=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$s" "$test" "${rps:-?}" "${p50:-?}" "${p99:-?}" \
    "${total:-?}" "$non2xx" "$sockerr" "$srvcpu" "${wrkcpu:-?}" "$nbcpu" "$foreign")
  log "$(printf '%-10s %-8s %8s req/s  p50 %7s ms  p99 %7s ms  n=%s non2xx=%s sockerr=%s srvCPU=%s%% wrkCPU=%s%% othersCPU=%s%% foreign=%s%%' \
    "$s" "$test" "${rps:-?}" "${p50:-?}" "${p99:-?}" "${total:-?}" "$non2xx" "$sockerr" "$srvcpu" "${wrkcpu:-?}" "$nbcpu" "$foreign")"
}

# ------------------------------------------------------------------- main ---
MACHINE="$(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p'), $(awk '/^MemTotal:/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), wrk $(dpkg-query -W -f='${Version}' wrk 2>/dev/null)"
RUN_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
log "machine: $MACHINE"
log "servers pinned to CPU $SERVER_CPU, wrk pinned to CPU $CLIENT_CPU; wrk -t1 -c$CONNS -d$DURATION --latency"
UP=()
for s in $SERVERS; do start_server "$s" && UP+=("$s"); done
((${#UP[@]})) || die "no server started"
for s in "${UP[@]}"; do check_stubs "$s"; done

printf 'server\ttest\trps\tp50_ms\tp99_ms\trequests\tnon2xx\tsocket_errors\tserver_cpu_pct\twrk_cpu_pct\tother_servers_cpu_pct\tforeign_cpu_pct\n' \
  >"$WORK/results/results.tsv"

if alive wiremock; then
  log "WireMock JVM warm-up: wrk -d$WARMUP on /v1/items (not counted)"
  freeze_others wiremock
  timeout $WRK_TIMEOUT taskset -c $CLIENT_CPU wrk -t1 -c"$CONNS" -d"$WARMUP" "http://127.0.0.1:${PORT[wiremock]}/v1/items" \
    >"$WORK/results/wiremock.warmup.txt" 2>&1
  thaw_all
  log "warm-up: $(awk '/^Requests\/sec:/{print $2 " req/s"}' "$WORK/results/wiremock.warmup.txt")"
fi

for s in "${UP[@]}"; do run_wrk "$s" items1 /v1/items; done    # (a) run 1, servers alternate
for s in "${UP[@]}"; do run_wrk "$s" items2 /v1/items; done    # (a) run 2
for s in "${UP[@]}"; do run_wrk "$s" limited /v1/limited; done # (c) 429 + Retry-After
for s in "${UP[@]}"; do                                          # (b) 100 ms delay
  [[ ${NOTE[$s]:-} == *"slow skipped"* ]] && continue
  run_wrk "$s" slow /v1/slow
done

declare -A RSS=()
for s in "${UP[@]}"; do alive "$s" && RSS[$s]=$(awk -v k="$(hwm_kib "${PID[$s]}")" 'BEGIN{printf "%.1f", k/1024}'); done
stop_all
trap - EXIT
[[ -n ${EXIT_NOTE[planproof]:-} ]] && log "planproof serve on SIGTERM: ${EXIT_NOTE[planproof]}; $(tail -1 "$WORK/logs/planproof.log")"

# ------------------------------------------------------------------ table ---
TSV=$WORK/results/results.tsv
get() { awk -F'\t' -v s="$1" -v t="$2" -v c="$3" '$1==s && $2==t {print $c; found=1} END{if(!found) print "–"}' "$TSV"; }
per_core() {  # req/s divided by the fraction of CPU 0 the server used: its capacity per core
  awk -F'\t' -v s="$1" -v t="$2" '$1==s && $2==t && $9>0 {printf "%.0f", $3/($9/100); found=1} END{if(!found) print "–"}' "$TSV"
}
num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
ratio() {  # a b [digits] -> a/b, or – when either is missing
  num "$1" && num "$2" && awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN{ if (b>0) printf "%.*f", d, a/b; else print "–"}' || echo "–"
}
mean2() { num "$1" && num "$2" && awk -v a="$1" -v b="$2" 'BEGIN{printf "%.0f", (a+b)/2}' || echo "–"; }
verdict() {  # value op threshold -> met / NOT met / –
  num "$1" || { echo "–"; return; }
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN{ ok = (op==">=") ? (v>=t) : (v<=t); print ok ? "met" : "**NOT met**"}'
}
{
  echo "| server | version | (a) req/s run1 / run2 | (a) p50 ms run1 / run2 | (a) p99 ms run1 / run2 | (a) server CPU % run1 / run2 | (a) wrk CPU % run1 / run2 | (a) req/s per server core run1 / run2 | (c) 429 req/s | (c) p99 ms | (b) 100 ms stub p50 / p99 ms | (b) req/s | peak RSS MiB | ready in s | stubs |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for s in $SERVERS; do
    if [[ " ${UP[*]} " != *" $s "* ]]; then
      echo "| $s | ${VERSION[$s]:-–} | not run: ${NOTE[$s]:-?} | | | | | | | | | | | | |"; continue
    fi
    slow="$(get "$s" slow 4) / $(get "$s" slow 5)"; [[ ${NOTE[$s]:-} == *"slow skipped"* ]] && slow="skipped (no echo module)"
    echo "| $s | ${VERSION[$s]} | $(get "$s" items1 3) / $(get "$s" items2 3) | $(get "$s" items1 4) / $(get "$s" items2 4) | $(get "$s" items1 5) / $(get "$s" items2 5) | $(get "$s" items1 9) / $(get "$s" items2 9) | $(get "$s" items1 10) / $(get "$s" items2 10) | $(per_core "$s" items1) / $(per_core "$s" items2) | $(get "$s" limited 3) | $(get "$s" limited 5) | $slow | $(get "$s" slow 3) | ${RSS[$s]:-?} | ${STARTUP[$s]:-?} | ${CONFORM[$s]:-?} |"
  done
  echo
  echo "Run of $RUN_DATE on $MACHINE."
  echo "wrk -t1 -c$CONNS -d$DURATION --latency, 1 thread on CPU $CLIENT_CPU; each server pinned to CPU $SERVER_CPU (taskset); the servers not being measured are SIGSTOPped during each run. beast_ceiling compile: ${BEAST_COMPILE_S}s; planproof: $MOCK_BUILD."
  [[ " ${UP[*]} " == *" wiremock "* ]] && echo "WireMock got an uncounted $WARMUP warm-up run on /v1/items first; other servers got none."
  echo "Where wrk CPU is near 100 %, the client (not the server) is the limit: compare 'req/s per server core' instead."
  echo "Peak RSS = VmHWM summed over the server's process tree at the end of all runs ((b) is the last load). Raw wrk output and results.tsv: $WORK/results/."
  echo "CPU used by processes other than the measured server and wrk (irq/softirq excluded), max over the kept runs: $(awk -F'\t' 'NR>1 && $12+0>m {m=$12+0} END{print m+0}' "$TSV") % of one core (a run above $FOREIGN_MAX % is measured again, up to $RETRIES times)."
  ((${#BUSY_RUNS[@]})) && echo "**Disturbed by other processes (busy machine): ${BUSY_RUNS[*]}. Do not quote these runs.**"

  if [[ " ${UP[*]} " == *" planproof "* ]]; then
    pp1=$(get planproof items1 3) pp2=$(get planproof items2 3)
    bc1=$(get beast items1 3) bc2=$(get beast items2 3)
    wm1=$(get wiremock items1 3) wm2=$(get wiremock items2 3)
    ppc=$(mean2 "$(per_core planproof items1)" "$(per_core planproof items2)")
    bcc=$(mean2 "$(per_core beast items1)" "$(per_core beast items2)")
    ppa=$(mean2 "$pp1" "$pp2") bca=$(mean2 "$bc1" "$bc2") wma=$(mean2 "$wm1" "$wm2")
    r_beast=$(ratio "$ppa" "$bca"); r_core=$(ratio "$ppc" "$bcc"); r_wm=$(ratio "$ppa" "$wma" 1)
    r_c=$(ratio "$(get planproof limited 3)" "$ppa"); r_c_beast=$(ratio "$(get beast limited 3)" "$bca")
    slow_p99=$(get planproof slow 5); slow_rps=$(get planproof slow 3)
    over=$(num "$slow_p99" && awk -v p="$slow_p99" 'BEGIN{printf "%.2f", p-100}' || echo "–")
    echo
    echo "planproof's mock against the references of this run (targets from issue 4, one I/O thread):"
    echo
    echo "| ratio | value | target | verdict |"
    echo "|---|---|---|---|"
    echo "| (a) req/s vs Beast ceiling (mean of run1/run2: $ppa vs $bca; run1 $(ratio "$pp1" "$bc1"), run2 $(ratio "$pp2" "$bc2")) | $r_beast× | ≥ 0.8× | $(verdict "$r_beast" '>=' 0.8) |"
    echo "| (a) req/s per server core vs Beast ceiling ($ppc vs $bcc) | $r_core× | (≥ 0.8×: the wrk-independent view) | $(verdict "$r_core" '>=' 0.8) |"
    echo "| (a) req/s vs WireMock ($ppa vs $wma) | $r_wm× | ≥ 5× | $(verdict "$r_wm" '>=' 5) |"
    echo "| (c)/(a): 429 + Retry-After req/s over plain stub req/s (Beast ceiling's own: $r_c_beast) | $r_c× | the same rate (≥ 0.9× taken as the same) | $(verdict "$r_c" '>=' 0.9) |"
    echo "| (b) 100 ms stub req/s at $CONNS connections | $slow_rps | ≥ 300 | $(verdict "$slow_rps" '>=' 300) |"
    echo "| (b) p99 − 100 ms | $over ms | ≤ 5 ms (p99 ≤ 105 ms) | $(verdict "$over" '<=' 5) |"
    echo "| peak RSS (max_records $MOCK_MAX_RECORDS) | ${RSS[planproof]:-?} MiB | ≤ 20 MiB | $(verdict "${RSS[planproof]:-x}" '<=' 20) |"
  fi
} | tee "$WORK/results/table.md"
log "done in $(( $(date +%s) - T_START ))s"
