#!/usr/bin/env python3
"""Checks the switch's recordings after a load run (benches/load.sh), standard library only.

    wavcheck.py RECORDINGS_DIR MIN_SECONDS

Prints one JSON object: how many WAVs, their lengths, and how many are empty, too short,
not 8 kHz 16-bit stereo, or do not carry the caller's 440 Hz on the left and the agent's
1000 Hz on the right (Goertzel power over half a second from the middle of the call).
With tones playing both ways for the whole call, it also looks at silence per channel in
20 ms frames: a silent frame between the first and the last sound is audio lost (a packet
the relay dropped or the recorder filled in); silence longer than 300 ms before the first
sound or after the last means media started after the switch's answer or stopped before
its hang-up (the phones were late to hear the 200 or the switch late to read the BYE).
"""

import array
import json
import math
import pathlib
import statistics
import sys
import wave

RATE = 8000
WINDOW = RATE // 2
FRAME = 160
EDGE_FRAMES = 15  # 300 ms
SILENT = 200  # peak amplitude below which a 20 ms frame counts as silence; tones peak ~8000


def power(samples, freq: float) -> float:
    k = 2.0 * math.cos(2.0 * math.pi * freq / RATE)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / max(len(samples), 1) ** 2


def dominant(samples, freq: float, other: float) -> bool:
    return power(samples, freq) > 10.0 * power(samples, other)


def silence(samples) -> tuple:
    """(silent frames before the first sound, between first and last sound, after the last)."""
    quiet = []
    for i in range(0, len(samples) - FRAME + 1, FRAME):
        frame = samples[i : i + FRAME]
        quiet.append(max(frame) < SILENT and -min(frame) < SILENT)
    loud = [i for i, q in enumerate(quiet) if not q]
    if not loud:
        return len(quiet), 0, 0
    first, last = loud[0], loud[-1]
    return first, sum(quiet[first:last]), len(quiet) - 1 - last


def check(path: pathlib.Path) -> dict:
    with wave.open(str(path), "rb") as w:
        fmt_ok = w.getnchannels() == 2 and w.getsampwidth() == 2 and w.getframerate() == RATE
        frames = w.getnframes()
        seconds = frames / RATE
        if not fmt_ok or frames < WINDOW:
            return {"seconds": seconds, "format_ok": fmt_ok, "left_ok": False, "right_ok": False,
                    "left": (0, 0, 0), "right": (0, 0, 0)}
        data = array.array("h", w.readframes(frames))
    if sys.byteorder == "big":
        data.byteswap()
    left, right = data[0::2], data[1::2]
    mid = frames // 2 - WINDOW // 2
    return {
        "seconds": seconds,
        "format_ok": True,
        "left_ok": dominant(left[mid : mid + WINDOW], 440.0, 1000.0),
        "right_ok": dominant(right[mid : mid + WINDOW], 1000.0, 440.0),
        "left": silence(left),
        "right": silence(right),
    }


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    root, min_seconds = pathlib.Path(sys.argv[1]), float(sys.argv[2])
    wavs = sorted(root.rglob("*.wav"))
    results = [check(p) for p in wavs]
    lengths = [r["seconds"] for r in results]
    summary = {
        "wavs": len(wavs),
        "empty": sum(1 for p in wavs if p.stat().st_size <= 44),
        "bad_format": sum(1 for r in results if not r["format_ok"]),
        "too_short": sum(1 for s in lengths if s < min_seconds),
        "left_not_440": sum(1 for r in results if not r["left_ok"]),
        "right_not_1000": sum(1 for r in results if not r["right_ok"]),
        "gap_frames_left": sum(r["left"][1] for r in results),
        "gap_frames_right": sum(r["right"][1] for r in results),
        "wavs_with_gaps": sum(1 for r in results if r["left"][1] or r["right"][1]),
        "wavs_late_start": sum(1 for r in results if max(r["left"][0], r["right"][0]) > EDGE_FRAMES),
        "wavs_early_end": sum(1 for r in results if max(r["left"][2], r["right"][2]) > EDGE_FRAMES),
        "seconds_min": round(min(lengths), 3) if lengths else None,
        "seconds_median": round(statistics.median(lengths), 3) if lengths else None,
        "seconds_max": round(max(lengths), 3) if lengths else None,
        "bytes_total": sum(p.stat().st_size for p in wavs),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
