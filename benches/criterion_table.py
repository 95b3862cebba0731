#!/usr/bin/env python3
"""The last `cargo bench` results as a Markdown table, for BENCHMARKS.md.

    criterion_table.py [CRITERION_DIR]     default: $CARGO_TARGET_DIR/criterion

One row per benchmark: criterion's slope estimate (or mean) with its 95 % interval, and the
throughput that implies (per element: calls, routes, lookups; per byte: MiB/s).
"""

import json
import os
import pathlib
import sys


def human(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def main() -> None:
    default = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", "target")) / "criterion"
    root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else default
    rows = []
    for bench in sorted(root.rglob("new/benchmark.json")):
        meta = json.loads(bench.read_text())
        est = json.loads((bench.parent / "estimates.json").read_text())
        pick = est.get("slope") or est["mean"]
        ns = pick["point_estimate"]
        lo, hi = pick["confidence_interval"]["lower_bound"], pick["confidence_interval"]["upper_bound"]
        tp = meta.get("throughput") or {}
        if "Elements" in tp:
            rate = f"{tp['Elements'] / ns * 1e9:,.0f} /s"
        elif "Bytes" in tp:
            rate = f"{tp['Bytes'] / ns * 1e9 / 2**20:,.0f} MiB/s"
        else:
            rate = ""
        rows.append((meta["full_id"], human(ns), f"{human(lo)} – {human(hi)}", rate))
    print("| benchmark | time | 95 % interval | throughput |")
    print("|---|---|---|---|")
    for r in rows:
        print("| `{}` | {} | {} | {} |".format(*r))


if __name__ == "__main__":
    main()
