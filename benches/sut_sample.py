#!/usr/bin/env python3
"""What the system under test costs, for benches/side_by_side.sh: the processes of one or
more process trees (a root pid and every descendant: kamailio's forked children, rtpengine,
or hotline alone), their CPU ticks (utime + stime, threads included) and memory.

  sut_sample.py once PID...        one line: "ticks pss_kb rss_kb processes"
  sut_sample.py loop OUT PID...    the same line to OUT once a second until killed

PSS is summed, not RSS: kamailio's processes share one memory segment, which RSS would
count once per process.
"""
import os
import sys
import time


def tree(roots):
    """The roots and all their descendants that are alive now."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    seen, todo = set(), [int(r) for r in roots]
    while todo:
        pid = todo.pop()
        if pid in seen or not os.path.exists(f"/proc/{pid}"):
            continue
        seen.add(pid)
        todo.extend(children.get(pid, []))
    return seen


def sample(roots):
    ticks = pss = rss = n = 0
    for pid in tree(roots):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
            n += 1
        except (OSError, IndexError, ValueError):
            continue
    return f"{ticks} {pss} {rss} {n}"


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "once":
        print(sample(sys.argv[2:]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "loop":
        with open(sys.argv[2], "a") as out:
            while True:
                out.write(f"{time.time():.3f} {sample(sys.argv[3:])}\n")
                out.flush()
                time.sleep(1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
