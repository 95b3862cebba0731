#!/usr/bin/env bash
# Builds and runs each fuzz target for SECONDS (default 60), one after another, one job at a
# time. Corpora grow in fuzz/corpus/<target>/ (seeded from fuzz/seeds/<target>/), crashes
# land in fuzz/artifacts/<target>/, libFuzzer's output in fuzz/logs/<target>.log.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET ...]
#
# Works with a nightly toolchain or with stable alone: sanitizers need -Z flags, which
# stable accepts under RUSTC_BOOTSTRAP=1. Set FUZZ_TOOLCHAIN=stable to force the latter.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
seconds="${1:-60}"
shift || true
targets=("$@")

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz
fi

toolchain="${FUZZ_TOOLCHAIN:-}"
if [[ -z "$toolchain" ]]; then
    if cargo +nightly --version >/dev/null 2>&1; then toolchain=nightly; else toolchain=stable; fi
fi
if [[ "$toolchain" == nightly ]]; then
    fuzz=(cargo +nightly fuzz)
else
    # Stable rustc refuses -Zsanitizer unless told it is building itself.
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <("${fuzz[@]}" list)
fi

echo "fuzz: ${targets[*]}: ${seconds}s each, toolchain $toolchain"
mkdir -p logs
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t" "seeds/$t"
    echo "== $t"
    # -O: release with debug assertions (cargo fuzz's default also keeps overflow checks).
    "${fuzz[@]}" run -O "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 >"logs/$t.log" 2>&1
    rc=$?
    grep -aE '^#[0-9]+[[:space:]].*cov: ' "logs/$t.log" | tail -n 1
    grep -E 'stat::number_of_executed_units' "logs/$t.log" | tail -n 1
    if [[ $rc -ne 0 ]]; then
        status=1
        echo "!! $t stopped with status $rc: see fuzz/logs/$t.log and fuzz/artifacts/$t/"
        grep -E 'panicked at|ERROR: libFuzzer|SUMMARY' "logs/$t.log" | head -n 3
    fi
    echo "corpus: $(find "corpus/$t" -type f | wc -l) inputs"
done
exit $status
