# The load benches' dialplan, shared by benches/load.sh and benches/side_by_side.sh: the
# Luoyang region with N agents, all behind one phone address (the routing crate lets any
# number of agents share a contact), and no per-source limit on new requests (every caller
# comes from the one generator, as from a carrier).
#
#   write_load_dialplan OUT AGENTS AGENT_PORT MAX_CALLS
write_load_dialplan() {
    local out=$1 agents=$2 agent_port=$3 max_calls=$4 i id
    {
        cat <<EOF
# Load-test dialplan written by benches/load_dialplan.sh: $agents Luoyang agents, all behind
# one phone address, 127.0.0.1:$agent_port (a SIPp UAS or hotline-loadgen).
[switch]
service_numbers = ["12366"]
province = "河南"
centre = "centre"
default_area_code = "0371"

[overload]
new_requests_per_source = 0   # every caller comes from the one generator, as from a carrier
max_calls = $max_calls

[[region]]
id = "zhengzhou"
name = "郑州"
cities = ["郑州"]
area_codes = ["0371"]

[[region]]
id = "luoyang"
name = "洛阳"
cities = ["洛阳"]
area_codes = ["0379"]
ring_timeout_secs = 15
overflow_after_secs = 600
wrap_up_secs = 0              # the switch is measured, not the agents' after-call work

[[region]]
id = "centre"
name = "省局联络中心"
EOF
        for i in $(seq 1 "$agents"); do
            id=$((20000 + i))
            printf '\n[[agent]]\nid = "%s"\nregion = "luoyang"\ncontact = "sip:%s@127.0.0.1:%s"\n' "$id" "$id" "$agent_port"
        done
    } > "$out"
}
