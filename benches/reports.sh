#!/usr/bin/env bash
# Times every `hotline report` over a year of a province: 1,000,000 call records and about
# 3,500,000 agent-state rows written by `crates/record/examples/fill_year.rs` (busy hours,
# abandons, shifts, breaks, lunch, training, callbacks, transfers), then each report over
# the whole year and the interval report over one month. Figures go to BENCHMARKS.md.
#
#   benches/reports.sh [DB]        (default /tmp/hotline-year.db; made once, then reused)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DB=${1:-/tmp/hotline-year.db}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
(cd "$ROOT" && cargo build --release --quiet -p hotline --bin hotline && cargo build --release --quiet -p hotline-record --example fill_year)
BIN=$CARGO_TARGET_DIR/release/hotline
if [ ! -f "$DB" ]; then
    "$CARGO_TARGET_DIR/release/examples/fill_year" "$DB" 1000000
fi
YEAR=(--from 2026-01-01T00:00:00+08:00 --to 2027-01-01T00:00:00+08:00)
# Each report three times (this shared machine varies run to run): the median and the
# slowest are printed.
run() {
    local label=$1; shift
    local times=()
    for _ in 1 2 3; do
        local start end
        start=$(date +%s.%N)
        "$BIN" report "$@" --db "$DB" --dialplan "$ROOT/dialplans/henan.toml" --format json > /dev/null
        end=$(date +%s.%N)
        times+=("$(echo "$end - $start" | bc)")
    done
    local sorted
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    printf '%-32s median %5.2f s   slowest %5.2f s\n' "$label" \
        "$(echo "$sorted" | sed -n 2p)" "$(echo "$sorted" | sed -n 3p)"
}
run "intervals, a month (15 min)" intervals --month 2026-06
run "intervals, a year (15 min)" intervals "${YEAR[@]}"
run "abandoned, a year" abandoned "${YEAR[@]}"
run "origins, a year" origins "${YEAR[@]}"
run "service, a year" service "${YEAR[@]}"
run "agents, a year" agents "${YEAR[@]}"
run "topics by month, a year" topics --by month "${YEAR[@]}"
