#!/usr/bin/env bash
# SIPp load test of the real switch on 127.0.0.1: taxpayers call 12366 at a steady rate,
# every call is answered by one SIPp UAS standing in for all the agents' desk phones, media
# flows both ways for the talk time and the switch records it. Then it checks that every
# call was answered (SIPp statistics), recorded (one WAV per call, non-empty, the caller's
# 440 Hz on the left and the agent's 1000 Hz on the right, no audio missing inside the
# call), written to the database (`hotline calls --json`, outcome answered), and that the
# switch holds no more open files afterwards than before. It prints what the run cost
# (setup times, CPU, memory, kernel UDP drops, silence at the ends of recordings when
# signalling lags behind media). Figures go to BENCHMARKS.md, not assertions: the script
# exits 1 when a call was lost or damaged, never on a figure alone.
#
#   benches/load.sh [-rate 100] [-seconds 10] [-talk-ms 3000] [-limit N] [-agents N]
#                   [-gen sipp|rust] [-media rtp_stream|pcap] [-wallboards N] [-no-build]
#                   [-keep] [-trace]
#
#   -rate      new calls per second (SIPp -r)                                  100
#   -seconds   how long calls keep arriving; calls = rate x seconds              10
#   -talk-ms   how long each caller talks after the answer (SIPp -d)            3000
#   -limit     most calls SIPp keeps open at once (SIPp -l)    rate x (talk + 2 s)
#   -agents    agents in the dialplan, all behind the one UAS          limit + 20
#   -gen       the load generator: sipp (two SIPps, callers and agents' phones) or
#              rust (benches/loadgen: hotline-loadgen, both sides in one process;
#              -media and -trace apply to sipp only)                         sipp
#   -media     rtp_stream (a looped raw G.711 file, scales) or pcap (play_pcap_audio,
#              one SIPp thread per call)                                rtp_stream
#   -wallboards  web console on, with N wallboards (server-sent events of the whole
#              province) open through the run                                      0
#   -max-calls the switch's ceiling on calls in progress ([overload] max_calls)    5000
#   -overload  more is offered than the switch takes (with -gen rust): every call must be
#              served (answered, recorded, recorded in the database, ended) or refused
#              with 503 and a Retry-After; none lost, timed out or left unfinished
#   -no-build  use the existing release binary
#   -keep      keep the scratch directory (always kept when a check fails)
#   -trace     SIPp message traces (*-messages.log) and HOTLINE_LOG=debug, to debug a failure
#
# Needs: cargo, python3, and with -gen sipp: sipp (Debian sip-tester 3.6.1). Everything runs on 127.0.0.1,
# bounded in time, and every process started here is stopped on exit, also on failure.
set -euo pipefail

RATE=100
SECONDS_OF_CALLS=10
TALK_MS=3000
LIMIT=
AGENTS=
MEDIA=rtp_stream
GEN=sipp
WALLBOARDS=0
MAX_CALLS=5000
OVERLOAD=0
BUILD=1
KEEP=0
TRACE=()
while [ $# -gt 0 ]; do
    case "$1" in
        -rate) RATE=$2; shift 2 ;;
        -seconds) SECONDS_OF_CALLS=$2; shift 2 ;;
        -talk-ms) TALK_MS=$2; shift 2 ;;
        -limit) LIMIT=$2; shift 2 ;;
        -agents) AGENTS=$2; shift 2 ;;
        -media) MEDIA=$2; shift 2 ;;
        -no-build) BUILD=0; shift ;;
        -keep) KEEP=1; shift ;;
        -trace) TRACE=(-trace_msg); export HOTLINE_LOG=${HOTLINE_LOG:-debug}; shift ;;
        -wallboards) WALLBOARDS=$2; shift 2 ;;
        -max-calls) MAX_CALLS=$2; shift 2 ;;
        -gen) GEN=$2; shift 2 ;;
        -overload) OVERLOAD=1; shift ;;
        -h|--help) sed -n '2,37p' "$0"; exit 0 ;;
        *) echo "load.sh: unknown argument $1 (try -h)" >&2; exit 2 ;;
    esac
done
case "$MEDIA" in rtp_stream|pcap) ;; *) echo "load.sh: -media is rtp_stream or pcap" >&2; exit 2 ;; esac
case "$GEN" in sipp|rust) ;; *) echo "load.sh: -gen is sipp or rust" >&2; exit 2 ;; esac
[ "$OVERLOAD" = 0 ] || [ "$GEN" = rust ] || { echo "load.sh: -overload needs -gen rust (it counts 503s)" >&2; exit 2; }
CALLS=$((RATE * SECONDS_OF_CALLS))
TALK_S=$(((TALK_MS + 999) / 1000))
LIMIT=${LIMIT:-$((RATE * (TALK_S + 2)))}
AGENTS=${AGENTS:-$((LIMIT + 20))}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCHES=$ROOT/benches
# shellcheck source=benches/load_dialplan.sh
. "$BENCHES/load_dialplan.sh"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
BIN=$CARGO_TARGET_DIR/release/hotline
LOADGEN=$CARGO_TARGET_DIR/release/hotline-loadgen
TOOLS=(python3)
[ "$GEN" = sipp ] && TOOLS+=(sipp)

for tool in "${TOOLS[@]}"; do
    command -v "$tool" >/dev/null || { echo "load.sh: $tool is not installed (SIPp: apt-get install sip-tester)" >&2; exit 2; }
done

# ---------------------------------------------------------------------------------------
# Everything started here is remembered by pid and stopped on exit.
# ---------------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/hotline-load.XXXXXX)
PIDS=()
FAILED=0
cleanup() {
    local status=$?
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$KEEP" = 1 ] || [ "$FAILED" = 1 ] || [ "$status" != 0 ]; then
        echo "scratch directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$BUILD" = 1 ]; then
    PACKAGES=(-p hotline)
    [ "$GEN" = rust ] && PACKAGES+=(-p hotline-loadgen)
    (cd "$ROOT" && cargo build --release "${PACKAGES[@]}" --quiet)
fi
[ -x "$BIN" ] || { echo "load.sh: no release binary at $BIN" >&2; exit 2; }
[ "$GEN" = sipp ] || [ -x "$LOADGEN" ] || { echo "load.sh: no release binary at $LOADGEN" >&2; exit 2; }

# A UDP port with the next three free too (SIPp binds its media port and port + 2).
free_port() {
    python3 - <<'EOF'
import socket
for _ in range(200):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    if p % 2 or p > 65000:
        s.close(); continue
    try:
        extra = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
        for i, e in enumerate(extra): e.bind(("127.0.0.1", p + 1 + i))
        t = socket.socket(); t.bind(("127.0.0.1", p)); t.close()
    except OSError:
        continue
    print(p); break
EOF
}

# ---------------------------------------------------------------------------------------
# Media, caller ids and the dialplan.
# ---------------------------------------------------------------------------------------
MEDIA_SECONDS=$((TALK_S + 2))
if [ "$GEN" = rust ]; then
    : # hotline-loadgen makes the same tones itself (benches/loadgen/src/rtp.rs)
elif [ "$MEDIA" = rtp_stream ]; then
    # Looped by SIPp for as long as the call lasts; found in SIPp's working directory.
    python3 "$BENCHES/tones.py" raw "$WORK/load-caller.ul" 440 pcmu 2
    python3 "$BENCHES/tones.py" raw "$WORK/load-agent.al" 1000 pcma 2
    CALLER_XML=$BENCHES/scenarios/load_caller.xml
    AGENT_XML=$BENCHES/scenarios/load_agent.xml
    CALLER_MEDIA=()
    AGENT_MEDIA=()
else
    python3 "$BENCHES/tones.py" pcap "$WORK/caller-440.pcap" 440 pcmu "$MEDIA_SECONDS"
    python3 "$BENCHES/tones.py" pcap "$WORK/agent-1000.pcap" 1000 pcma "$MEDIA_SECONDS"
    CALLER_XML=$BENCHES/scenarios/load_caller_pcap.xml
    AGENT_XML=$BENCHES/scenarios/load_agent_pcap.xml
    CALLER_MEDIA=(-key pcap "$WORK/caller-440.pcap")
    AGENT_MEDIA=(-key pcap "$WORK/agent-1000.pcap")
fi

# Luoyang callers in the forms carriers send: mobile, +86 mobile, landline with area code.
python3 - "$WORK/callers.csv" "$CALLS" <<'EOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
forms = ("1390379{:04d}", "+861390379{:04d}", "0379{:08d}")
with open(path, "w") as f:
    f.write("SEQUENTIAL\n")
    for i in range(n):
        f.write(forms[i % 3].format(i % 10000 if i % 3 < 2 else 60000000 + i) + ";\n")
EOF

AGENT_PORT=$(free_port)
AGENT_MEDIA_PORT=$(free_port)
write_load_dialplan "$WORK/dialplan.toml" "$AGENTS" "$AGENT_PORT" "$MAX_CALLS"
"$BIN" check "$WORK/dialplan.toml" >/dev/null

# ---------------------------------------------------------------------------------------
# The switch, the agents' phones, a sampler, the callers.
# ---------------------------------------------------------------------------------------
RUN_LIMIT=$((SECONDS_OF_CALLS + TALK_S + 120))
HTTP=(--http off)
[ "$WALLBOARDS" -gt 0 ] && HTTP=(--http 127.0.0.1:0)
HOTLINE_LOG=${HOTLINE_LOG:-info} "$BIN" serve \
    --dialplan "$WORK/dialplan.toml" --listen 127.0.0.1:0 \
    --recordings "$WORK/recordings" --db "$WORK/calls.db" --control "$WORK/hotline.sock" "${HTTP[@]}" \
    > "$WORK/switch.out" 2> "$WORK/switch.log" &
SWITCH_PID=$!
PIDS+=("$SWITCH_PID")
SWITCH_PORT=
for _ in $(seq 200); do
    SWITCH_PORT=$(sed -n 's/^hotline: listening on sip:127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/switch.out")
    [ -n "$SWITCH_PORT" ] && break
    kill -0 "$SWITCH_PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$SWITCH_PORT" ]; then
    FAILED=1
    echo "load.sh: the switch did not start:" >&2
    cat "$WORK/switch.log" >&2
    exit 1
fi

# Wallboards: a province supervisor signed in once, N live feeds open through the run.
if [ "$WALLBOARDS" -gt 0 ]; then
    CONSOLE=$(sed -n 's/^hotline: console on \(http:[^ ]*\).*/\1/p' "$WORK/switch.out")
    echo 'bench-wallboard-pass' | "$BIN" user add bench --role supervisor --scope province \
        --db "$WORK/calls.db" > /dev/null
    JAR=$WORK/cookies.txt
    curl -s -c "$JAR" -b "$JAR" "$CONSOLE/login" > /dev/null
    CSRF=$(awk '$6 == "hotline_login" {print $7}' "$JAR")
    curl -s -c "$JAR" -b "$JAR" --data-urlencode user=bench \
        --data-urlencode password=bench-wallboard-pass --data-urlencode "csrf=$CSRF" \
        "$CONSOLE/login" > /dev/null
    SESSION=$(awk '$6 == "hotline_session" {print $7}' "$JAR")
    python3 "$BENCHES/wallboards.py" "$CONSOLE/api/live?seats=0" "hotline_session=$SESSION" \
        "$WALLBOARDS" "$RUN_LIMIT" "$WORK/wallboards.txt" &
    PIDS+=("$!")
    # Every wallboard connected (its first push arrived) before the switch's files are counted.
    for _ in $(seq 100); do
        [ "$(grep -c '^[1-9]' "$WORK/wallboards.txt" 2>/dev/null || echo 0)" -ge "$WALLBOARDS" ] && break
        sleep 0.05
    done
fi

# The switch's open files, less its handles on the call store: SQLite keeps the descriptors
# of closed read connections (the console's) for reuse while the writer holds its locks.
switch_fds() {
    local n=0 fd
    for fd in /proc/"$SWITCH_PID"/fd/*; do
        case "$(readlink "$fd")" in "$WORK"/calls.db*) ;; *) n=$((n + 1)) ;; esac
    done
    echo "$n"
}
# The switch binds media ports ahead after it starts listening: count once that settles.
IDLE_FDS=$(switch_fds)
for _ in $(seq 20); do
    sleep 0.25
    NOW_FDS=$(switch_fds)
    [ "$NOW_FDS" = "$IDLE_FDS" ] && break
    IDLE_FDS=$NOW_FDS
done

if [ "$GEN" = sipp ]; then
    (cd "$WORK" && exec timeout --kill-after=5 "$RUN_LIMIT" sipp -sf "$AGENT_XML" \
        -i 127.0.0.1 -p "$AGENT_PORT" -mp "$AGENT_MEDIA_PORT" -m "$((CALLS * 3))" -l "$((CALLS * 3))" "${AGENT_MEDIA[@]}" \
        -nostdin -timeout "${RUN_LIMIT}s" -timeout_error \
        -trace_stat -stf agents-stats.csv -fd 1 -trace_err -error_file agents-errors.log "${TRACE[@]}" -message_file agents-messages.log \
        > agents.out 2>&1) &
    UAS_PID=$!
    PIDS+=("$UAS_PID")
    echo "$UAS_PID" >> "$WORK/sipp.pids"
    sleep 0.5
fi

# Once a second: CPU, memory, files of the switch and the generator (both SIPps, or
# hotline-loadgen: the children of the pids in sipp.pids), and UDP datagrams the kernel
# dropped because the switch or the generator did not read them in time.
CALLER_PORT=$(free_port)
python3 "$BENCHES/sample.py" "$WORK/samples.csv" "$SWITCH_PID" "$WORK/sipp.pids" \
    "$SWITCH_PORT" "$AGENT_PORT" "$CALLER_PORT" &
SAMPLER_PID=$!
PIDS+=("$SAMPLER_PID")

if [ "$GEN" = sipp ]; then
    echo "load: $CALLS calls at $RATE/s, talking ${TALK_MS} ms, at most $LIMIT open, $AGENTS agents, SIPp, media $MEDIA"
else
    echo "load: $CALLS calls at $RATE/s, talking ${TALK_MS} ms, at most $LIMIT open, $AGENTS agents, hotline-loadgen"
fi
echo "load: switch on 127.0.0.1:$SWITCH_PORT (pid $SWITCH_PID), agents' UAS on 127.0.0.1:$AGENT_PORT"
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date +%s.%N)
if [ "$GEN" = sipp ]; then
    (cd "$WORK" && exec timeout --kill-after=5 "$RUN_LIMIT" sipp "127.0.0.1:$SWITCH_PORT" -sf "$CALLER_XML" \
        -i 127.0.0.1 -p "$CALLER_PORT" -mp "$(free_port)" -s 12366 -inf "$WORK/callers.csv" "${CALLER_MEDIA[@]}" \
        -r "$RATE" -m "$CALLS" -l "$LIMIT" -d "$TALK_MS" \
        -nostdin -timeout "${RUN_LIMIT}s" -timeout_error \
        -trace_stat -stf callers-stats.csv -fd 1 -trace_err -error_file callers-errors.log "${TRACE[@]}" -message_file callers-messages.log \
        -trace_rtt -rtt_freq 1 \
        > callers.out 2>&1) &
else
    # Callers and agents' phones in one process, which stops by itself (all calls over, or
    # its deadline); the same caller ids, tones and pacing as the SIPp scenarios.
    (cd "$WORK" && exec timeout --kill-after=5 "$RUN_LIMIT" "$LOADGEN" \
        --switch "127.0.0.1:$SWITCH_PORT" --agents "127.0.0.1:$AGENT_PORT" --callers "127.0.0.1:$CALLER_PORT" \
        --rate "$RATE" --calls "$CALLS" --limit "$LIMIT" --talk-ms "$TALK_MS" \
        --max-agent-calls "$((AGENTS + 20))" --deadline-s "$((RUN_LIMIT - 10))" \
        --json loadgen.json --calls-csv loadgen-calls.csv \
        > loadgen.out 2>&1) &
fi
UAC_PID=$!
PIDS+=("$UAC_PID")
echo "$UAC_PID" >> "$WORK/sipp.pids"
set +e
wait "$UAC_PID"
UAC_RC=$?
set -e
FINISHED=$(date +%s.%N)
# Call records are written asynchronously after the recording is finished: wait for them.
count_answered() {
    "$BIN" calls --db "$WORK/calls.db" --json 2>/dev/null | python3 -c '
import json, sys
calls = [json.loads(l) for l in sys.stdin if l.strip()]
print(len(calls), sum(1 for c in calls if c.get("outcome") == "answered" and c.get("ended_at")))'
}
read -r DB_CALLS DB_ANSWERED < <(count_answered)
STEADY=0
for _ in $(seq 100); do
    [ "$DB_ANSWERED" -ge "$CALLS" ] && break
    # Under -overload fewer calls than offered are answered: done once the count holds 2 s.
    [ "$OVERLOAD" = 1 ] && [ "$STEADY" -ge 10 ] && break
    sleep 0.2
    PREVIOUS=$DB_ANSWERED
    read -r DB_CALLS DB_ANSWERED < <(count_answered)
    if [ "$DB_ANSWERED" = "$PREVIOUS" ] && [ "$DB_CALLS" = "$DB_ANSWERED" ]; then STEADY=$((STEADY + 1)); else STEADY=0; fi
done

# The agents' UAS takes more calls than were offered (a call rung again after a ring timeout
# reaches it twice), so it does not stop by itself: SIGUSR1 makes SIPp finish its open calls
# and exit with its final statistics.
if [ "$GEN" = sipp ]; then
    for sipp_pid in $(pgrep -P "$UAS_PID" -x sipp); do kill -USR1 "$sipp_pid" 2>/dev/null || true; done
    for _ in $(seq 300); do kill -0 "$UAS_PID" 2>/dev/null || break; sleep 0.1; done
    set +e
    if kill -0 "$UAS_PID" 2>/dev/null; then UAS_RC=still-running; else wait "$UAS_PID"; UAS_RC=$?; fi
    set -e
else
    UAS_RC=$UAC_RC  # one process played both sides
fi

# Every call is over: the switch should be back to the files it had before the first call.
# Its UDP sockets (local port, remote, receive queue) go to a file for a look at leftovers.
sleep 2
AFTER_FDS=$(switch_fds)
python3 - "$SWITCH_PID" > "$WORK/switch-sockets-after.txt" <<'EOF'
import os, sys
pid = sys.argv[1]
mine = set()
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if link.startswith("socket:["):
        mine.add(link[8:-1])
print("local remote rx_queue drops")
for line in open("/proc/net/udp").read().splitlines()[1:]:
    f = line.split()
    if f[9] in mine:
        port = lambda a: int(a.rsplit(":", 1)[1], 16)
        print(port(f[1]), port(f[2]), int(f[4].split(":")[1], 16), f[-1])
EOF

SWITCH_CPU_TICKS=$(cut -d' ' -f14,15 "/proc/$SWITCH_PID/stat" | awk '{print $1 + $2}')
SWITCH_PEAK_RSS=$(awk '/^VmHWM/{print $2}' "/proc/$SWITCH_PID/status")
TICKS=$(getconf CLK_TCK)

WAVS=$(python3 "$BENCHES/wavcheck.py" "$WORK/recordings" "$(awk -v t="$TALK_MS" 'BEGIN{print t / 1000 - 0.5}')")

# ---------------------------------------------------------------------------------------
# Summary.
# ---------------------------------------------------------------------------------------
python3 - "$WORK" "$CALLS" "$UAC_RC" "$UAS_RC" "$DB_CALLS" "$DB_ANSWERED" "$WAVS" \
    "$STARTED" "$FINISHED" "$SWITCH_CPU_TICKS" "$TICKS" "$SWITCH_PEAK_RSS" "$RATE" "$TALK_MS" "$LOADAVG" \
    "$IDLE_FDS" "$AFTER_FDS" "$GEN" "$OVERLOAD" <<'EOF' || FAILED=1
import csv, json, os, pathlib, re, sys

work = pathlib.Path(sys.argv[1])
calls, uac_rc, uas_rc = int(sys.argv[2]), sys.argv[3], sys.argv[4]
db_calls, db_answered = int(sys.argv[5]), int(sys.argv[6])
wavs = json.loads(sys.argv[7])
started, finished = float(sys.argv[8]), float(sys.argv[9])
ticks = int(sys.argv[11])
cpu_s = int(sys.argv[10]) / ticks
peak_rss_mb = int(sys.argv[12]) / 1024
rate, talk_ms = int(sys.argv[13]), int(sys.argv[14])
loadavg = sys.argv[15]
idle_fds, after_fds = int(sys.argv[16]), int(sys.argv[17])
gen = sys.argv[18]
overload = sys.argv[19] == "1"

def last_stats(name):
    path = work / name
    if not path.exists():
        return {}
    rows = list(csv.DictReader(path.open(), delimiter=";"))
    return rows[-1] if rows else {}

def n(stats, key):
    try:
        return int(stats.get(key, "0") or 0)
    except ValueError:
        return 0

times = {"setup": [], "bye": []}
loadgen = {}
if gen == "sipp":
    who = "SIPp"
    uac, uas = last_stats("callers-stats.csv"), last_stats("agents-stats.csv")
    ok_uac = n(uac, "SuccessfulCall(C)")
    ok_uas = n(uas, "SuccessfulCall(C)")
    failed_uac = n(uac, "FailedCall(C)")
    failed_uas = n(uas, "FailedCall(C)")
    retrans_uac = n(uac, "Retransmissions(C)")
    retrans_uas = n(uas, "Retransmissions(C)")
    unexpected = n(uac, "FailedUnexpectedMessage(C)") + n(uas, "FailedUnexpectedMessage(C)")
    dead = n(uac, "DeadCallMsgs(C)") + n(uas, "DeadCallMsgs(C)")
    # Response times per call from SIPp's -trace_rtt file (ms): setup = INVITE sent -> 200 OK
    # received, bye = BYE sent -> 200 OK received.
    for path in work.glob("*_rtt.csv"):
        for row in csv.DictReader(path.open(), delimiter=";"):
            if row.get("rtd_no") in times:
                times[row["rtd_no"]].append(float(row["response_time_ms"]))
else:
    who = "loadgen"
    path = work / "loadgen.json"
    loadgen = json.loads(path.read_text()) if path.exists() else {}
    callers, agents = loadgen.get("callers") or {}, loadgen.get("agents") or {}
    ok_uac, failed_uac = loadgen.get("completed", 0), loadgen.get("failed", 0) + loadgen.get("refused", 0)
    ok_uas, failed_uas = agents.get("completed", 0), agents.get("failed", 0)
    retrans_uac, retrans_uas = callers.get("retransmissions_sent", 0), agents.get("retransmissions_sent", 0)
    unexpected, dead = callers.get("strays", 0), agents.get("strays", 0)
    # The same two times, per call, from the generator's CSV.
    path = work / "loadgen-calls.csv"
    for row in (csv.DictReader(path.open()) if path.exists() else []):
        if row["setup_ms"]:
            times["setup"].append(float(row["setup_ms"]))
        if row["bye_ms"]:
            times["bye"].append(float(row["bye_ms"]))

def pct(values, q):
    if not values:
        return "?"
    values = sorted(values)
    return f"{values[min(len(values) - 1, int(q * len(values)))]:.0f}"

def spread(name):
    v = times[name]
    return f"p50 {pct(v, 0.5)} / p95 {pct(v, 0.95)} / p99 {pct(v, 0.99)} / max {pct(v, 1.0)} ms"

samples = list(csv.DictReader((work / "samples.csv").open()))
cpu_peak = 0.0
switch_peak = 0.0
busy_all = []
for a, b in zip(samples, samples[1:]):
    dt_total = int(b["cpu_total"]) - int(a["cpu_total"])
    dt = float(b["t"]) - float(a["t"])
    if dt_total > 0:
        busy = 100.0 * (int(b["cpu_busy"]) - int(a["cpu_busy"])) / dt_total
        busy_all.append(busy)
        cpu_peak = max(cpu_peak, busy)
    if dt > 0:
        switch_peak = max(switch_peak, (int(b["switch_ticks"]) - int(a["switch_ticks"])) / ticks / dt * 100.0)
fds_peak = max((int(s["switch_fds"]) for s in samples), default=0)
# SIPp's ticks are summed over live processes: a SIPp that exited drops out, so only
# positive steps count.
sipp_s = sum(max(0, int(b["sipp_ticks"]) - int(a["sipp_ticks"])) for a, b in zip(samples, samples[1:])) / ticks
threads_peak = max((int(s["switch_threads"]) for s in samples), default=0)
last = samples[-1] if samples else {}
drops = {k: int(last.get(k, 0) or 0) for k in ("sip_drops", "media_drops", "agents_sip_drops", "callers_sip_drops")}

log = (work / "switch.log").read_text(errors="replace").splitlines()
ansi = re.compile(r"\x1b\[[0-9;]*m")
warns = [ansi.sub("", l) for l in log if re.search(r"\b(WARN|ERROR)\b", ansi.sub("", l))]
# Every call offered gets its own CallId (the WAV's name and the record's key).
offered_ids = [m.group(1) for m in (re.search(r"call\{id=([^}]*)\}.*call offered", ansi.sub("", l)) for l in log) if m]
distinct_ids = len(set(offered_ids))
kinds = {}
for l in warns:
    key = re.sub(r"^\S+\s+", "", l)  # drop the timestamp
    key = re.sub(r"call\{id=[^}]*\}:?\s*", "", key)
    key = re.sub(r"[0-9a-f]{8,}|\d+\.\d+\.\d+\.\d+:\d+|\d{3,}", "#", key)
    kinds[key] = kinds.get(key, 0) + 1

checks = {
    f"every call answered ({who} callers)": ok_uac == calls and failed_uac == 0 and uac_rc == "0",
    # A call rung again after a ring timeout reaches the agents' UAS twice: at least `calls`.
    f"every call answered ({who} agents)": ok_uas >= calls and failed_uas == 0 and uas_rc == "0",
    "one WAV per call": wavs["wavs"] == calls,
    "no empty or short WAV": wavs["empty"] == 0 and wavs["too_short"] == 0 and wavs["bad_format"] == 0,
    "440 Hz left, 1000 Hz right in every WAV": wavs["left_not_440"] == 0 and wavs["right_not_1000"] == 0,
    "every call in the database, answered": db_answered == calls,
    "every call offered has its own call id": distinct_ids == len(offered_ids),
    "no audio lost inside calls (silent 20 ms frames)": wavs["wavs_with_gaps"] == 0,
    "switch back to its idle open files after the run": after_fds <= idle_fds,
}
if overload:
    refused = loadgen.get("refused", 0)
    checks = {
        "every call served or refused with 503, none lost or timed out (loadgen callers)":
            ok_uac + refused == calls and loadgen.get("failed", 0) == 0 and uac_rc == "0",
        "every 503 with a Retry-After": callers.get("refused_with_retry_after", 0) == refused,
        "the agents answered every served call": ok_uas >= ok_uac and failed_uas == 0,
        "one WAV per served call": wavs["wavs"] == ok_uac,
        "no empty or short WAV": wavs["empty"] == 0 and wavs["too_short"] == 0 and wavs["bad_format"] == 0,
        "440 Hz left, 1000 Hz right in every WAV": wavs["left_not_440"] == 0 and wavs["right_not_1000"] == 0,
        "every served call in the database, answered and ended; no other record": db_answered == ok_uac and db_calls == ok_uac,
        "every call offered has its own call id": distinct_ids == len(offered_ids),
        "no audio lost inside calls (silent 20 ms frames)": wavs["wavs_with_gaps"] == 0,
        "switch back to its idle open files after the run": after_fds <= idle_fds,
    }
wall = finished - started
print()
print(f"calls offered           {calls} at {rate}/s, talk {talk_ms} ms")
if gen == "sipp":
    print(f"SIPp callers            {ok_uac} successful, {failed_uac} failed, exit {uac_rc}, {retrans_uac} retransmissions")
    print(f"SIPp agents             {ok_uas} successful, exit {uas_rc}, {retrans_uas} retransmissions")
    print(f"SIPp unexpected / dead  {unexpected} unexpected messages, {dead} messages for dead calls")
else:
    print(f"loadgen callers         {ok_uac} completed, {loadgen.get('refused', 0)} refused, {loadgen.get('failed', 0)} failed "
          f"{callers.get('failures', {})}, exit {uac_rc}, {retrans_uac} retransmissions sent, "
          f"{callers.get('retransmissions_received', 0)} received")
    print(f"loadgen agents          {ok_uas} completed, {failed_uas} failed {agents.get('failures', {})}, "
          f"{retrans_uas} retransmissions sent, {agents.get('retransmissions_received', 0)} received, "
          f"{agents.get('options_answered', 0)} OPTIONS answered")
    print(f"loadgen RTP             callers {callers.get('rtp_sent', 0)} sent / {callers.get('rtp_received', 0)} received, "
          f"agents {agents.get('rtp_sent', 0)} sent / {agents.get('rtp_received', 0)} received; calls without RTP: "
          f"{callers.get('calls_without_rtp', 0)} callers, {agents.get('calls_without_rtp', 0)} agents")
    print(f"loadgen strays          {unexpected} callers', {dead} agents' datagrams for no known call or unreadable")
print(f"call setup INVITE→200   {spread('setup')}")
print(f"hang-up BYE→200         {spread('bye')}")
print(f"database                {db_calls} records, {db_answered} answered and ended")
print(f"call ids (switch log)   {len(offered_ids)} calls offered, {distinct_ids} distinct ids")
print(f"recordings              {wavs['wavs']} WAVs, {wavs['bytes_total'] / 1e6:.1f} MB, "
      f"length min/median/max {wavs['seconds_min']}/{wavs['seconds_median']}/{wavs['seconds_max']} s, "
      f"{wavs['empty']} empty, {wavs['too_short']} short, {wavs['left_not_440']} left≠440 Hz, {wavs['right_not_1000']} right≠1000 Hz")
print(f"audio lost in calls     {wavs['gap_frames_left']} silent 20 ms frames left, {wavs['gap_frames_right']} right, "
      f"in {wavs['wavs_with_gaps']} WAVs (between the first and the last sound)")
print(f"recording splices       {wavs['splices_right']} places in {wavs['wavs_with_splices']} WAVs where the agent's tone jumps "
      f"by part of a period (audio placed a few samples off)")
print(f"media late / early      {wavs['wavs_late_start']} WAVs start, {wavs['wavs_early_end']} end with > 300 ms of silence "
      f"(media began after the answer / stopped before the hang-up)")
print(f"wall time               {wall:.1f} s (first INVITE to last {who} caller exit)")
print(f"switch CPU              {cpu_s:.1f} s total ({100 * cpu_s / wall:.0f}% of one core on average, peak {switch_peak:.0f}% in one second)")
print(f"switch memory, files    peak RSS {peak_rss_mb:.0f} MB, peak {threads_peak} threads, peak {fds_peak} open files, "
      f"{idle_fds} before the first call, {after_fds} after the last")
if gen == "sipp":
    print(f"SIPp CPU (both)         {sipp_s:.1f} s total ({100 * sipp_s / wall:.0f}% of one core on average)")
else:
    cpu = loadgen.get("cpu", {})
    print(f"loadgen CPU             {sipp_s:.1f} s total sampled ({100 * sipp_s / wall:.0f}% of one core on average); "
          f"its own count {cpu.get('user_s', 0) + cpu.get('system_s', 0):.2f} s in {cpu.get('wall_s', 0)} s, "
          f"{loadgen.get('late_ticks', '?')} late ticks caught up, {loadgen.get('skipped_packets', '?')} packet intervals skipped")
print(f"machine CPU (all cores) mean {sum(busy_all) / max(len(busy_all), 1):.0f}%, peak {cpu_peak:.0f}% "
      f"({os.cpu_count()} cores; load average before the run {loadavg})")
print(f"UDP dropped by kernel   switch SIP socket {drops['sip_drops']}, switch RTP sockets {drops['media_drops']}, "
      f"agents' SIP socket {drops['agents_sip_drops']}, callers' SIP socket {drops['callers_sip_drops']} (receive buffers full)")
print(f"switch WARN/ERROR lines {len(warns)}")
for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])[:8]:
    print(f"    {v:6d}  {k[:150]}")
print()
for name, ok in checks.items():
    print(f"{'PASS' if ok else 'FAIL'}  {name}")
summary = {
    "calls": calls, "rate": rate, "talk_ms": talk_ms, "uac_ok": ok_uac, "uac_failed": failed_uac,
    "uas_ok": ok_uas, "db_answered": db_answered, "wavs": wavs, "wall_s": round(wall, 2),
    "switch_cpu_s": round(cpu_s, 2), "switch_peak_rss_mb": round(peak_rss_mb, 1),
    "switch_peak_fds": fds_peak, "switch_idle_fds": idle_fds, "switch_after_fds": after_fds, "generator": gen,
    "sipp_cpu_s": round(sipp_s, 2), "generator_cpu_s": round(sipp_s, 2), "loadgen": loadgen or None, "machine_cpu_mean_pct": round(sum(busy_all) / max(len(busy_all), 1), 1), "loadavg_before": loadavg,
    "setup_p50_ms": pct(times["setup"], 0.5), "setup_p99_ms": pct(times["setup"], 0.99), "warn_lines": len(warns), "udp_drops": drops, "checks": checks,
}
(work / "summary.json").write_text(json.dumps(summary, indent=2))
sys.exit(0 if all(checks.values()) else 1)
EOF

if [ "$WALLBOARDS" -gt 0 ]; then
    EVENTS=$(awk '{s += $1} END {print s + 0}' "$WORK/wallboards.txt" 2>/dev/null || echo 0)
    echo "wallboards              $WALLBOARDS open through the run, $EVENTS board pushes received ($((EVENTS / WALLBOARDS)) each)"
fi

if [ "$FAILED" = 1 ]; then
    echo "load: FAILED; logs in $WORK (switch.log, callers-errors.log, agents-errors.log, *-stats.csv; loadgen.out, loadgen-calls.csv)" >&2
    exit 1
fi
echo "load: all checks passed"
