#!/usr/bin/env python3
"""Once a second, what a load run costs (benches/load.sh), from /proc, standard library only.

    sample.py OUT.csv SWITCH_PID SIPP_PARENTS_FILE SWITCH_SIP_PORT AGENTS_SIP_PORT CALLERS_SIP_PORT

Runs until the switch exits (or it is killed). Columns:
  t                 seconds since the start
  switch_ticks      the switch's user+system CPU, in clock ticks
  switch_rss_kb     its resident memory
  switch_threads    its threads
  switch_fds        its open files
  sipp_ticks        CPU ticks of the live SIPps (children of the pids in SIPP_PARENTS_FILE,
                    the `timeout`s load.sh starts them under)
  cpu_busy/total    the machine's CPU ticks, all cores (from /proc/stat)
  sip_drops         datagrams the kernel dropped on the switch's SIP socket (receive buffer
                    full: the switch did not read fast enough)
  media_drops       the same over all the switch's other UDP sockets (RTP), counting sockets
                    that were closed since as last seen
  agents_sip_drops  the same on the agents' SIPp UAS SIP socket
  callers_sip_drops the same on the callers' SIPp UAC SIP socket
"""

import os
import sys
import time


def read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def ticks(pid: int) -> int:
    # Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    stat = read(f"/proc/{pid}/stat")
    fields = stat.rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12]) if len(fields) > 12 else 0


def status(pid: int, key: str) -> int:
    for line in read(f"/proc/{pid}/status").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def socket_inodes(pid: int) -> set:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        pass
    return inodes


def udp_sockets():
    """(local port, inode, drops) of every UDP socket."""
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        for line in read(table).splitlines()[1:]:
            f = line.split()
            if len(f) < 13:
                continue
            yield int(f[1].rsplit(":", 1)[1], 16), f[9], int(f[-1])


def children(parents: set) -> list:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = read(f"/proc/{entry}/stat").rpartition(")")[2].split()
            if len(fields) > 1 and fields[1] in parents:
                kids.append(int(entry))
    return kids


def main() -> None:
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    out, pid, parents_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sip_port, agents_port, callers_port = (int(p) for p in sys.argv[4:7])
    media_seen = {}
    start = time.monotonic()
    with open(out, "w") as f:
        f.write("t,switch_ticks,switch_rss_kb,switch_threads,switch_fds,sipp_ticks,cpu_busy,"
                "cpu_total,sip_drops,media_drops,agents_sip_drops,callers_sip_drops\n")
        while os.path.exists(f"/proc/{pid}"):
            cpu = [int(x) for x in read("/proc/stat").splitlines()[0].split()[1:9]]
            busy, total = sum(cpu) - cpu[3] - cpu[4], sum(cpu)
            parents = set(read(parents_file).split())
            sipp = sum(ticks(k) for k in children(parents)) if parents else 0
            mine = socket_inodes(pid)
            sip_drops = agents_drops = callers_drops = 0
            for port, inode, drops in udp_sockets():
                if inode in mine:
                    if port == sip_port:
                        sip_drops = drops
                    else:
                        media_seen[inode] = max(drops, media_seen.get(inode, 0))
                elif port == agents_port:
                    agents_drops = drops
                elif port == callers_port:
                    callers_drops = drops
            fds = len(os.listdir(f"/proc/{pid}/fd")) if os.path.exists(f"/proc/{pid}/fd") else 0
            f.write(f"{time.monotonic() - start:.3f},{ticks(pid)},{status(pid, 'VmRSS')},"
                    f"{status(pid, 'Threads')},{fds},{sipp},{busy},{total},{sip_drops},"
                    f"{sum(media_seen.values())},{agents_drops},{callers_drops}\n")
            f.flush()
            time.sleep(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
