#!/usr/bin/env python3
"""Checks the switch's recordings after a load run (benches/load.sh), standard library only.

    wavcheck.py RECORDINGS_DIR MIN_SECONDS

Prints one JSON object: how many WAVs, their lengths, and how many are empty, too short,
not 8 kHz 16-bit stereo, or do not carry the caller's 440 Hz on the left and the agent's
1000 Hz on the right (Goertzel power in five 200 ms windows across the call; the tone must
dominate in at least three, so one splice that cancels a window does not count as wrong
audio, while another call's voice would).

Splices: the agent's 1000 Hz at 8 kHz repeats exactly every 8 samples, so any sample that
differs from the one 8 before it (after the first and before the last 60 ms) marks a place
where the recording jumped by a fraction of a period: audio placed a few samples off.
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
WINDOW = RATE // 5
WINDOWS = (0.25, 0.375, 0.5, 0.625, 0.75)
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


def splices(samples) -> int:
    count, last = 0, -100
    for n in range(480, len(samples) - 480):
        if samples[n] != samples[n - 8]:
            if n - last > 8:
                count += 1
            last = n
    return count


def check(path: pathlib.Path) -> dict:
    with wave.open(str(path), "rb") as w:
        fmt_ok = w.getnchannels() == 2 and w.getsampwidth() == 2 and w.getframerate() == RATE
        frames = w.getnframes()
        seconds = frames / RATE
        if not fmt_ok or frames < 2 * WINDOW:
            return {"seconds": seconds, "format_ok": fmt_ok, "left_ok": False, "right_ok": False,
                    "left": (0, 0, 0), "right": (0, 0, 0), "splices": 0}
        data = array.array("h", w.readframes(frames))
    if sys.byteorder == "big":
        data.byteswap()
    left, right = data[0::2], data[1::2]

    def tone_ok(channel, freq, other):
        starts = [int(frames * f) - WINDOW // 2 for f in WINDOWS]
        return sum(dominant(channel[s : s + WINDOW], freq, other) for s in starts) >= 3

    return {
        "seconds": seconds,
        "format_ok": True,
        "left_ok": tone_ok(left, 440.0, 1000.0),
        "right_ok": tone_ok(right, 1000.0, 440.0),
        "left": silence(left),
        "right": silence(right),
        "splices": splices(right),
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
        "splices_right": sum(r["splices"] for r in results),
        "wavs_with_splices": sum(1 for r in results if r["splices"]),
        "seconds_min": round(min(lengths), 3) if lengths else None,
        "seconds_median": round(statistics.median(lengths), 3) if lengths else None,
        "seconds_max": round(max(lengths), 3) if lengths else None,
        "bytes_total": sum(p.stat().st_size for p in wavs),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
