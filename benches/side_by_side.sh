#!/usr/bin/env bash
# Side by side (issue 13): the same load against an anchor built from stock parts, Kamailio
# + rtpengine configured as the 12366 caller-prefix router with recording, and against
# hotline, one after the other on 127.0.0.1, with the same generator, rate, calls and talk
# time. Prints per system: calls offered, answered, completed media calls (answered, hung
# up normally, RTP received by the caller and by the agent, relayed by the system: a call
# whose audio went straight between the phones is counted apart), failed, setup p50/p99
# (as the caller read the 200, on the wire, and the system's own part: on the wire less the
# agent phone's answering), CPU of the system under test (% of one core over the run) and
# its peak memory, recordings written; and the ratios hotline / anchor of completed media calls and of those with clean
# audio (each side heard 90 % of the packets the other side sent).
#
#   benches/side_by_side.sh [-rate 200] [-seconds 10] [-talk-ms 10000] [-gen rust]
#                           [-no-build] [-keep] [-only anchor|hotline] [-children 2]
#                           [-max-calls 5000]
#
#   -rate      new calls per second (at most 800)                                200
#   -seconds   how long calls keep arriving; calls = rate x seconds                10
#   -talk-ms   how long each caller talks after the answer                      10000
#   -gen       rust (benches/loadgen, hotline-loadgen: callers and agents' phones
#              in one process, per-call RTP counts on both sides). sipp is refused:
#              SIPp counts no RTP per call, so completed media calls cannot be told     rust
#   -no-build  use the existing release binaries
#   -keep      keep the scratch directory
#   -only      run one system only (to debug it)
#   -children  Kamailio's SIP worker processes (the issue's anchor: 2)                 2
#   -max-calls hotline's [overload] max_calls, the operator's ceiling on calls in
#              progress (BENCHMARKS.md ran it at 2000, this machine's capacity)     5000
#
# Anchor: rtpengine in the foreground, userspace relay only (--table=-1), pcap recording,
# 2 threads; kamailio -DD -E with the config written below (children=2). hotline: the
# dialplan of benches/load.sh (benches/load_dialplan.sh), `hotline serve` in release.
# Needs kamailio, rtpengine (Debian: kamailio, rtpengine-daemon; installed with apt-get
# when missing), cargo and python3. Exit 1 only when a system could not be started or the
# generator could not run, never on a figure. Run it under `flock /tmp/hotline-bench.lock`.
set -euo pipefail

RATE=200
SECONDS_OF_CALLS=10
TALK_MS=10000
GEN=rust
BUILD=1
KEEP=0
ONLY=
CHILDREN=2
MAX_CALLS=5000
while [ $# -gt 0 ]; do
    case "$1" in
        -rate) RATE=$2; shift 2 ;;
        -seconds) SECONDS_OF_CALLS=$2; shift 2 ;;
        -talk-ms) TALK_MS=$2; shift 2 ;;
        -gen) GEN=$2; shift 2 ;;
        -no-build) BUILD=0; shift ;;
        -keep) KEEP=1; shift ;;
        -only) ONLY=$2; shift 2 ;;
        -children) CHILDREN=$2; shift 2 ;;
        -max-calls) MAX_CALLS=$2; shift 2 ;;
        -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
        *) echo "side_by_side.sh: unknown argument $1 (try -h)" >&2; exit 2 ;;
    esac
done
case "$GEN" in
    rust) ;;
    sipp) echo "side_by_side.sh: -gen sipp is not supported: SIPp counts no RTP per call, so completed media calls cannot be counted; use -gen rust" >&2; exit 2 ;;
    *) echo "side_by_side.sh: -gen is rust" >&2; exit 2 ;;
esac
case "$ONLY" in ''|anchor|hotline) ;; *) echo "side_by_side.sh: -only is anchor or hotline" >&2; exit 2 ;; esac
[ "$RATE" -le 800 ] || { echo "side_by_side.sh: at most 800 calls/s" >&2; exit 2; }
CALLS=$((RATE * SECONDS_OF_CALLS))
TALK_S=$(((TALK_MS + 999) / 1000))
LIMIT=$((RATE * (TALK_S + 2)))
AGENTS=$((LIMIT + 20))
RUN_LIMIT=$((SECONDS_OF_CALLS + TALK_S + 120))

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCHES=$ROOT/benches
# shellcheck source=benches/load_dialplan.sh
. "$BENCHES/load_dialplan.sh"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
BIN=$CARGO_TARGET_DIR/release/hotline
LOADGEN=$CARGO_TARGET_DIR/release/hotline-loadgen
KAMAILIO_MODULES=/usr/lib/x86_64-linux-gnu/kamailio/modules

# A fresh Debian bookworm machine has none of the anchor's parts.
if ! command -v kamailio >/dev/null || ! command -v rtpengine >/dev/null || ! command -v sipp >/dev/null \
    || [ ! -f "$KAMAILIO_MODULES/rtpengine.so" ]; then
    echo "side_by_side: installing kamailio rtpengine-daemon sip-tester" >&2
    command -v apt-get >/dev/null || { echo "side_by_side.sh: no apt-get; install kamailio, rtpengine-daemon" >&2; exit 1; }
    apt-get install -y kamailio rtpengine-daemon sip-tester >&2 \
        || { apt-get update >&2 && apt-get install -y kamailio rtpengine-daemon sip-tester >&2; }
fi
for tool in kamailio rtpengine python3; do
    command -v "$tool" >/dev/null || { echo "side_by_side.sh: $tool is not installed" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/hotline-side.XXXXXX)
PIDS=()
cleanup() {
    local status=$?
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$KEEP" = 1 ] || [ "$status" != 0 ]; then
        echo "scratch directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops one process (and, through its own handler, its children) and waits for it.
stop() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

if [ "$BUILD" = 1 ]; then
    (cd "$ROOT" && cargo build --release -p hotline -p hotline-loadgen --quiet)
fi
for bin in "$BIN" "$LOADGEN"; do
    [ -x "$bin" ] || { echo "side_by_side.sh: no release binary at $bin" >&2; exit 1; }
done

# A free UDP port above the kernel's ephemeral range (and rtpengine's 2000-32767), so that
# no socket bound to port 0 (hotline's media ports, the generator's) takes it before use.
free_port() {
    python3 - "$(cut -f2 /proc/sys/net/ipv4/ip_local_port_range)" <<'EOF'
import random, socket, sys
low = max(int(sys.argv[1]) + 1, 32768)
for _ in range(500):
    port = random.randrange(low, 65536)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    sys.exit("no free port")
EOF
}
# Whether something listens on UDP 127.0.0.1:PORT.
udp_bound() {
    awk -v p="$(printf '0100007F:%04X' "$1")" '$2 == p {found = 1} END {exit !found}' /proc/net/udp
}
# Datagrams the kernel dropped on UDP 127.0.0.1:PORT (receive buffer full), while bound.
udp_drops() {
    awk -v p="$(printf '0100007F:%04X' "$1")" '$2 == p {d += $NF} END {print d + 0}' /proc/net/udp
}
# A UDP counter of the whole machine from /proc/net/snmp, by its field on the "Udp:" lines:
# 3 NoPorts (datagrams for a port nobody holds: RTP relayed after its call's socket closed),
# 6 RcvbufErrors (dropped for a full receive buffer). The media sockets close with their
# calls, so these are the counts that still have their drops after the run (and the
# generator's too).
udp_snmp() {
    awk -v f="$1" '$1 == "Udp:" {if (seen) {print $f; exit} seen = 1}' /proc/net/snmp
}
wait_bound() {
    local port=$1 pid=$2
    for _ in $(seq 100); do
        udp_bound "$port" && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------------------------------
# The anchor's configuration: the caller-prefix router with rtpengine recording.
# ---------------------------------------------------------------------------------------
write_kamailio_cfg() {
    local out=$1 sip_port=$2 ng_port=$3 luoyang=$4 centre=$5
    cat > "$out" <<EOF
#!KAMAILIO
# Written by benches/side_by_side.sh: 12366 routed by the caller's number to the city's
# agents' phones (all Luoyang in this load), media through rtpengine with recording.
debug=-1
log_stderror=yes
fork=yes
children=$CHILDREN
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:$sip_port
mpath="$KAMAILIO_MODULES/"

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "sanity.so"
loadmodule "rtpengine.so"

modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:$ng_port")

request_route {
    if (!mf_process_maxfwd_header("10")) {
        sl_send_reply("483", "Too Many Hops");
        exit;
    }
    if (!sanity_check()) {
        exit;
    }
    if (is_method("CANCEL")) {
        if (t_check_trans()) {
            rtpengine_delete();
            t_relay();
        }
        exit;
    }
    if (has_totag()) {
        if (loose_route()) {
            if (is_method("BYE")) {
                rtpengine_delete();
            }
            route(RELAY);
        }
        if (is_method("ACK") && t_check_trans()) {
            route(RELAY);
        }
        sl_send_reply("404", "Not Here");
        exit;
    }
    if (is_method("ACK")) {
        if (t_check_trans()) {
            route(RELAY);
        }
        exit;
    }
    t_check_trans();
    if (!is_method("INVITE")) {
        sl_send_reply("405", "Method Not Allowed");
        exit;
    }
    if (\$rU != "12366") {
        sl_send_reply("404", "Not Found");
        exit;
    }
    record_route();
    # Luoyang: its mobile segment 1390379 (bare or +86) and its area code 0379.
    if (\$fU =~ "^([+]86)?1390379" || \$fU =~ "^0379") {
        \$ru = "sip:luoyang@$luoyang";
    } else {
        \$ru = "sip:centre@$centre";
    }
    rtpengine_manage("replace-origin replace-session-connection record-call=yes");
    t_on_reply("REPLY");
    t_on_failure("FAILED");
    route(RELAY);
}

route[RELAY] {
    if (!t_relay()) {
        sl_reply_error();
    }
    exit;
}

onreply_route[REPLY] {
    if (has_body("application/sdp")) {
        rtpengine_manage("replace-origin replace-session-connection record-call=yes");
    }
}

failure_route[FAILED] {
    rtpengine_delete();
}
EOF
}

# ---------------------------------------------------------------------------------------
# One system: start it, run the generator against it, measure, stop it.
# ---------------------------------------------------------------------------------------
# Starts SYSTEM in DIR; sets SUT_PIDS (the roots of the system's process trees) and
# SUT_SIP (its SIP port). The agents' phones will answer on AGENT_PORT.
start_anchor() {
    local dir=$1 ng_port
    mkdir -p "$dir/rec"
    ng_port=$(free_port)
    SUT_SIP=$(free_port)
    # No core file from its crash on shutdown (see stop below), and none in the caller's cwd.
    (cd "$dir" && ulimit -c 0 && exec rtpengine --config-file=none --foreground --log-stderr -L 4 --table=-1 \
        --interface=127.0.0.1 --listen-ng="127.0.0.1:$ng_port" --port-min=2000 --port-max=32767 \
        --recording-method=pcap --recording-dir="$dir/rec" --num-threads=2 \
        > "$dir/rtpengine.log" 2>&1) &
    local rtpe=$!
    PIDS+=("$rtpe")
    wait_bound "$ng_port" "$rtpe" || { echo "side_by_side: rtpengine did not start:" >&2; cat "$dir/rtpengine.log" >&2; return 1; }
    write_kamailio_cfg "$dir/kamailio.cfg" "$SUT_SIP" "$ng_port" "127.0.0.1:$AGENT_PORT" "127.0.0.1:$(free_port)"
    kamailio -c -f "$dir/kamailio.cfg" > "$dir/kamailio-check.log" 2>&1 \
        || { echo "side_by_side: kamailio.cfg does not check:" >&2; cat "$dir/kamailio-check.log" >&2; return 1; }
    kamailio -DD -E -m 512 -M 16 -f "$dir/kamailio.cfg" > "$dir/kamailio.log" 2>&1 &
    local kam=$!
    PIDS+=("$kam")
    wait_bound "$SUT_SIP" "$kam" || { echo "side_by_side: kamailio did not start:" >&2; cat "$dir/kamailio.log" >&2; return 1; }
    sleep 1 # its children fork after the socket is bound
    SUT_PIDS=("$kam" "$rtpe")
}

start_hotline() {
    local dir=$1
    write_load_dialplan "$dir/dialplan.toml" "$AGENTS" "$AGENT_PORT" "$MAX_CALLS"
    "$BIN" check "$dir/dialplan.toml" > /dev/null
    HOTLINE_LOG=${HOTLINE_LOG:-warn} "$BIN" serve --dialplan "$dir/dialplan.toml" --listen 127.0.0.1:0 \
        --recordings "$dir/rec" --db "$dir/calls.db" --control "$dir/hotline.sock" --http off \
        > "$dir/hotline.out" 2> "$dir/hotline.log" &
    local pid=$!
    PIDS+=("$pid")
    SUT_SIP=
    for _ in $(seq 200); do
        SUT_SIP=$(sed -n 's/^hotline: listening on sip:127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/hotline.out")
        [ -n "$SUT_SIP" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$SUT_SIP" ] || { echo "side_by_side: hotline did not start:" >&2; cat "$dir/hotline.log" >&2; return 1; }
    sleep 2 # it binds media ports ahead once listening
    SUT_PIDS=("$pid")
}

# Recordings a system wrote, with more than a file header (rtpengine's pcaps, or WAVs):
# "count megabytes".
count_recordings() {
    local system=$1 dir=$2 where=$2/rec pattern='*.wav'
    [ "$system" = anchor ] && where=$dir/rec/pcaps && pattern='*.pcap'
    find "$where" -name "$pattern" -size +1k -printf '%s\n' 2>/dev/null \
        | awk '{n++; b += $1} END {printf "%d %.0f\n", n, b / 1e6}'
}

run_system() {
    local system=$1 dir=$WORK/$1
    mkdir -p "$dir"
    AGENT_PORT=$(free_port)
    CALLER_PORT=$(free_port)
    "start_$system" "$dir" || return 1
    local loadavg before after started finished rc sampler
    loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "side_by_side: $system on 127.0.0.1:$SUT_SIP (pids ${SUT_PIDS[*]}), $CALLS calls at $RATE/s, talk $TALK_MS ms, load $loadavg" >&2
    python3 "$BENCHES/sut_sample.py" loop "$dir/memory.txt" "${SUT_PIDS[@]}" &
    sampler=$!
    PIDS+=("$sampler")
    before=$(python3 "$BENCHES/sut_sample.py" once "${SUT_PIDS[@]}")
    local rcvbuf_before no_ports_before
    rcvbuf_before=$(udp_snmp 6)
    no_ports_before=$(udp_snmp 3)
    started=$(date +%s.%N)
    set +e
    (cd "$dir" && exec timeout --kill-after=5 "$RUN_LIMIT" "$LOADGEN" \
        --switch "127.0.0.1:$SUT_SIP" --agents "127.0.0.1:$AGENT_PORT" --callers "127.0.0.1:$CALLER_PORT" \
        --rate "$RATE" --calls "$CALLS" --limit "$LIMIT" --talk-ms "$TALK_MS" \
        --max-agent-calls "$((AGENTS + 20))" --deadline-s "$((RUN_LIMIT - 10))" \
        --json loadgen.json --calls-csv loadgen-calls.csv > loadgen.out 2>&1)
    rc=$?
    set -e
    finished=$(date +%s.%N)
    after=$(python3 "$BENCHES/sut_sample.py" once "${SUT_PIDS[@]}")
    local drops rcvbuf_drops no_ports
    drops=$(udp_drops "$SUT_SIP")
    rcvbuf_drops=$(($(udp_snmp 6) - rcvbuf_before))
    stop "$sampler"
    sleep 2 # the last recordings are closed after the hang-up
    no_ports=$(($(udp_snmp 3) - no_ports_before))
    # rtpengine 10.5.3.5 (Debian) dies of SIGSEGV while shutting down, after the run: its
    # recordings are complete by then, and bash reports the signal.
    for pid in "${SUT_PIDS[@]}"; do stop "$pid"; done
    local recordings recorded_mb
    read -r recordings recorded_mb < <(count_recordings "$system" "$dir")
    # The loadgen exits 1 when a call failed (a figure) and 2 when it could not run.
    if [ "$rc" -ge 2 ] || [ ! -s "$dir/loadgen.json" ]; then
        echo "side_by_side: the generator did not run against $system (exit $rc):" >&2
        tail -5 "$dir/loadgen.out" >&2
        return 1
    fi
    python3 - "$dir" "$system" "$loadavg" "$before" "$after" "$started" "$finished" "$recordings" \
        "$(getconf CLK_TCK)" "$rc" "$recorded_mb" "$drops" "$rcvbuf_drops" "$no_ports" > "$dir/result.json" <<'EOF'
import csv, json, pathlib, sys
d = pathlib.Path(sys.argv[1])
system, loadavg = sys.argv[2], sys.argv[3]
before, after = [list(map(int, s.split())) for s in sys.argv[4:6]]
wall = float(sys.argv[7]) - float(sys.argv[6])
recordings, hz, rc, recorded_mb = int(sys.argv[8]), int(sys.argv[9]), int(sys.argv[10]), int(sys.argv[11])
drops, rcvbuf_drops, no_ports = (int(a) for a in sys.argv[12:15])
slow = clean = 0
# Clean audio: each side heard at least 90 % of the packets the other side sent (G.711 past
# 10 % loss is hard to follow); what the generator itself failed to send is not held
# against the system.
n = lambda row, k: int(row[k] or 0)
for row in csv.DictReader((d / "loadgen-calls.csv").open()):
    slow += bool(row["setup_ms"]) and float(row["setup_ms"]) > 1000
    clean += (row["completed_media"] == "true"
              and n(row, "rtp_received") >= 0.9 * n(row, "agent_rtp_sent")
              and n(row, "agent_rtp_received") >= 0.9 * n(row, "rtp_sent"))
lg = json.loads((d / "loadgen.json").read_text())
peak_pss = max([int(l.split()[2]) for l in (d / "memory.txt").read_text().splitlines() if l.strip()] + [after[1]])
setup = lg.get("setup_ms") or {}
wire = lg.get("setup_wire_ms") or {}
own = lg.get("system_setup_ms") or {}
callers = lg.get("callers") or {}
print(json.dumps({
    "system": system, "loadavg": loadavg, "offered": lg.get("offered", 0), "answered": lg.get("answered", 0),
    "completed": lg.get("completed", 0), "completed_media": lg.get("completed_media", 0),
    "unrelayed": lg.get("unrelayed") or 0, "clean_audio": clean,
    "failed": lg.get("failed", 0), "refused": lg.get("refused", 0), "failures": callers.get("failures", {}),
    "agents_failed": (lg.get("agents") or {}).get("failed", 0),
    "setup_p50": setup.get("p50"), "setup_p99": setup.get("p99"),
    "wire_setup_p50": wire.get("p50"), "wire_setup_p99": wire.get("p99"),
    "own_setup_p50": own.get("p50"), "own_setup_p99": own.get("p99"),
    "own_setup_unmatched": lg.get("system_setup_unmatched") or 0, "unstamped_sip": lg.get("unstamped_sip") or 0,
    "cpu_s": (after[0] - before[0]) / hz, "wall_s": wall,
    "cpu_pct": 100.0 * (after[0] - before[0]) / hz / wall if wall > 0 else 0.0,
    "peak_pss_mb": peak_pss / 1024, "processes": after[3], "recordings": recordings, "recorded_mb": recorded_mb,
    "loadgen_late": lg.get("late_ticks"), "loadgen_cpu_pct": (lg.get("cpu") or {}).get("pct_of_one_core"),
    "loadgen_exit": rc, "sip_drops": drops, "udp_rcvbuf_drops": rcvbuf_drops, "udp_no_ports": no_ports, "setup_over_1s": slow,
    "retransmissions": callers.get("retransmissions_sent", 0),
    "rtp_sent": callers.get("rtp_sent", 0) + (lg.get("agents") or {}).get("rtp_sent", 0),
    "rtp_received": callers.get("rtp_received", 0) + (lg.get("agents") or {}).get("rtp_received", 0),
}))
EOF
    echo "side_by_side: $system done: $(cat "$dir/result.json")" >&2
}

SYSTEMS=(anchor hotline)
[ -n "$ONLY" ] && SYSTEMS=("$ONLY")
for system in "${SYSTEMS[@]}"; do
    run_system "$system" || exit 1
    sleep 3 # let the machine settle between the two
done

python3 - "$WORK" "$RATE" "$CALLS" "$TALK_MS" "${SYSTEMS[@]}" <<'EOF'
import json, pathlib, sys
work, rate, calls, talk_ms, systems = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
r = {s: json.loads((work / s / "result.json").read_text()) for s in systems}
name = {"anchor": "Kamailio + rtpengine", "hotline": "hotline"}
def ms(v):
    return "?" if v is None else f"{v:.0f}"
rows = [
    ("load average before", lambda x: x["loadavg"]),
    ("calls offered", lambda x: f"{x['offered']:,}"),
    ("answered", lambda x: f"{x['answered']:,}"),
    ("completed media calls", lambda x: f"{x['completed_media']:,}"),
    ("of which with clean audio (each side heard 90 % of what the other sent)", lambda x: f"{x['clean_audio']:,}"),
    ("completed with audio straight between the phones, past relay and recorder (not counted above)", lambda x: f"{x['unrelayed']:,}"),
    ("failed / timed out (callers)", lambda x: f"{x['failed']:,} {x['failures'] or ''}".strip()),
    ("refused (503)", lambda x: f"{x['refused']:,}"),
    ("agents' legs failed", lambda x: f"{x['agents_failed']:,}"),
    ("setup p50 / p99 (INVITE sent → 200 read by the caller)", lambda x: f"{ms(x['setup_p50'])} / {ms(x['setup_p99'])} ms"),
    ("setup on the wire p50 / p99 (→ 200 reached the caller's socket: kernel stamps)", lambda x: f"{ms(x['wire_setup_p50'])} / {ms(x['wire_setup_p99'])} ms"),
    ("the system's own part of setup p50 / p99 (on the wire, less the agent phone's answering)",
     lambda x: f"{ms(x['own_setup_p50'])} / {ms(x['own_setup_p99'])} ms"
               + (f" ({x['own_setup_unmatched']:,} calls unmatched)" if x['own_setup_unmatched'] else "")
               + (f" ({x['unstamped_sip']:,} SIP datagrams without a kernel stamp)" if x['unstamped_sip'] else "")),
    ("calls set up in over 1 s", lambda x: f"{x['setup_over_1s']:,}"),
    ("callers' retransmissions (INVITE, BYE)", lambda x: f"{x['retransmissions']:,}"),
    ("kernel drops on its SIP socket", lambda x: f"{x['sip_drops']:,}"),
    ("UDP drops on full receive buffers, whole machine (system's and generator's sockets)", lambda x: f"{x['udp_rcvbuf_drops']:,}"),
    ("UDP datagrams to closed ports, whole machine (RTP that came after its call hung up)", lambda x: f"{x['udp_no_ports']:,}"),
    ("RTP packets sent / received (both sides)", lambda x: f"{x['rtp_sent'] / 1e6:.2f} M / {x['rtp_received'] / 1e6:.2f} M"),
    ("CPU of the system (% of one core)", lambda x: f"{x['cpu_pct']:.0f} % ({x['cpu_s']:.1f} s in {x['wall_s']:.1f} s)"),
    ("peak memory (PSS, all processes)", lambda x: f"{x['peak_pss_mb']:.0f} MB ({x['processes']} processes)"),
    ("recordings written", lambda x: f"{x['recordings']:,} {'pcaps' if x['system'] == 'anchor' else 'WAVs'}, {x['recorded_mb']:,} MB"),
    ("loadgen late turns / CPU", lambda x: f"{x['loadgen_late']} / {x['loadgen_cpu_pct']} %"),
]
print()
print(f"side by side: {calls} calls at {rate}/s, talk {talk_ms} ms, hotline-loadgen")
print("| | " + " | ".join(name[s] for s in systems) + " |")
print("|---|" + "---|" * len(systems))
for label, f in rows:
    print(f"| {label} | " + " | ".join(f(r[s]) for s in systems) + " |")
if "anchor" in r and "hotline" in r:
    a, h = r["anchor"]["completed_media"], r["hotline"]["completed_media"]
    ratio = f"{h / a:.2f}" if a else "∞" if h else "?"
    print(f"\nratio hotline / anchor, completed media calls: {h:,} / {a:,} = {ratio}")
    a, h = r["anchor"]["clean_audio"], r["hotline"]["clean_audio"]
    ratio = f"{h / a:.2f}" if a else "∞" if h else "?"
    print(f"ratio hotline / anchor, of them with clean audio: {h:,} / {a:,} = {ratio}")
EOF
